"""Headline identity through the running bot (fake Bot API, pages over HTTP, SQLite on disk):
an edit of the visible ``<h1>`` alone reaches the chat as the headline change; an edit of the
metadata alone as the search/social title line; a redesign that drops the ``<h1>``, and an
article tracked before carriers were recorded, are recorded in /history and never announced."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from contextlib import closing

import pytest

from bot.core.extract import Snapshot
from tests.conftest import RunningBots
from tests.corpus import fixture_html
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer

ALICE = 8001
H1 = "Putin cancels Paris visit amid Syria row"
SEO = "Vladimir Putin cancels Paris visit amid row over Syria"
P4 = "Dmitry Peskov, the Kremlin spokesman, said Putin was ready to visit"


def page(h1: str = H1, seo: str = SEO, p4: str = P4) -> str:
    html = fixture_html("headline_v1.html")
    return html.replace(f">{H1}</h1>", f">{h1}</h1>").replace(SEO, seo).replace(P4, p4)


async def checked(caplog: pytest.LogCaptureFixture, needle: str, timeout: float = 15) -> None:
    """Wait for the monitor's ``check`` log line that contains ``needle``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(r.name == "redline.monitor" and needle in r.getMessage() for r in caplog.records):
        assert loop.time() < deadline, f"no check line with {needle!r}: {caplog.text[-2000:]}"
        await asyncio.sleep(0.05)


async def test_h1_edit_is_the_headline_change_and_a_metadata_edit_only_the_search_line(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/putin", page())
    tracked = await telegram.ask(ALICE, f"/track {articles.url('/putin')}")
    assert tracked.text.startswith("👀 Tracking #1") and H1 in tracked.text

    # Only the visible <h1> rewritten: the metadata still says the old title.
    sent = first = len(telegram.sent)
    articles.set_page("/putin", page(h1="Putin calls off Paris trip as Syria row deepens"))
    edit = await telegram.wait_for(ALICE, contains="Headline changed", timeout=15, after=sent)
    print("\nH1 EDIT:\n" + edit.text)
    assert edit.text.startswith("✏️ Headline changed")
    assert (
        "Putin <s>cancels</s> <b>calls off</b> Paris <s>visit amid</s> <b>trip as</b> Syria row" in edit.text
    )
    assert "search and social" not in edit.text and "Vladimir" not in edit.text

    # Only the metadata rewritten: one line for it, and the headline is not said to change.
    sent = len(telegram.sent)
    articles.set_page(
        "/putin",
        page(h1="Putin calls off Paris trip as Syria row deepens", seo="Vladimir Putin scraps Paris visit"),
    )
    search = await telegram.wait_for(ALICE, contains="search and social", timeout=15, after=sent)
    print("\nMETADATA EDIT:\n" + search.text)
    # It follows the headline's message soon, so it replaces that message, quoting it "Earlier".
    search_part = search.text.split("<i>Earlier:</i>")[0]
    assert search_part.startswith("✏️ Title in search and social changed")
    assert "<i>Putin calls off Paris trip as Syria row deepens</i>" in search.text
    assert (
        "Title in search and social changed: Vladimir Putin <s>cancels</s> <b>scraps</b> Paris visit"
        in search.text
    )
    assert "Headline changed" not in search_part
    assert [m for m in telegram.sent[first:] if m.chat_id == ALICE] == [edit, search]


async def test_a_redesign_without_h1_is_a_history_note_not_an_edit(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redline.monitor")
    await bots.start()
    articles.set_page("/putin", page())
    await telegram.ask(ALICE, f"/track {articles.url('/putin')}")
    sent = len(telegram.sent)

    # The new template's only <h1> is the site's logo: the headline is read from the metadata
    # now, which words it differently; that is recorded, not announced.
    articles.set_page("/putin", fixture_html("headline_redesign.html"))
    await checked(caplog, "headline element changed after a redesign")

    # A later edit is announced against the redesigned page, and nothing came before it.
    articles.set_page("/putin", fixture_html("headline_redesign.html").replace(P4, "Dmitry Peskov said"))
    edit = await telegram.wait_for(ALICE, contains="edited", timeout=15, after=sent)
    assert edit.text.startswith("✏️ 1 paragraph edited") and "Headline changed" not in edit.text
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [edit]

    history = (await telegram.ask(ALICE, "/history 1")).text
    print("\nHISTORY:\n" + history)
    assert "v2 · " in history and "headline element changed after a redesign; not announced" in history
    assert "v3 · " in history and "1 paragraph edited" in history


async def test_an_article_tracked_before_carriers_gets_one_quietly(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redline.monitor")
    app = await bots.start()
    articles.set_page("/putin", page())
    await telegram.ask(ALICE, f"/track {articles.url('/putin')}")
    await bots.stop(app)
    # As an older Redline stored it: no carrier, and the metadata's title as the headline.
    with closing(sqlite3.connect(bots.db_path)) as db, db:
        (content,) = db.execute("SELECT content FROM version").fetchone()
        old = Snapshot(title=SEO, paragraphs=tuple(json.loads(content)["paragraphs"]))
        db.execute("UPDATE article SET headline_carrier = NULL, title = ?", (SEO,))
        db.execute(
            "UPDATE version SET title = ?, content = ?, content_hash = ?",
            (SEO, json.dumps(old.to_dict()), old.content_hash),
        )
    sent = len(telegram.sent)
    await bots.start()
    await checked(caplog, "headline and search/social title now followed apart")
    with closing(sqlite3.connect(bots.db_path)) as db:
        assert db.execute("SELECT headline_carrier, title FROM article").fetchall() == [("h1", H1)]

    # From now on the <h1> is followed: its edit is the headline change, and the first message.
    articles.set_page("/putin", page(h1="Putin calls off Paris trip as Syria row deepens"))
    edit = await telegram.wait_for(ALICE, contains="Headline changed", timeout=15, after=sent)
    assert "Putin <s>cancels</s> <b>calls off</b>" in edit.text
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [edit]
