"""/digest through the running bot (fake Bot API, pages over HTTP, SQLite on disk): the chat's
articles that changed in the last 24 hours, most significant first, each with its /diff; an
edit older than a day is left out."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_REST, PUTIN_V1, PUTIN_V2, article_html

ALICE = 8301
PARAGRAPHS = [PUTIN_P1_V1, *PUTIN_REST]


async def test_digest_lists_the_days_edits_most_significant_first(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    empty = await telegram.ask(ALICE, "/digest")
    assert empty.text == "No article this chat tracks changed in the last 24 hours."

    titles = {
        "/a": "Cathedral opens on the Seine",
        "/b": PUTIN_V1,
        "/c": "Aleppo ceasefire vote",
        "/d": "Old news",
    }
    for path, title in titles.items():
        articles.set_page(path, article_html(title))
        await telegram.ask(ALICE, f"/track {articles.url(path)}")
    sent = len(telegram.sent)
    # #1: a wording change; #2: its headline; #3: a number; #4: an edit that will be a day old.
    articles.set_page(
        "/a", article_html(titles["/a"], [*PARAGRAPHS[:-1], PARAGRAPHS[-1].replace("weekend", "week end")])
    )
    articles.set_page("/b", article_html(PUTIN_V2))
    articles.set_page(
        "/c", article_html(titles["/c"], [p.replace("19 October", "21 October") for p in PARAGRAPHS])
    )
    articles.set_page("/d", article_html(titles["/d"], PARAGRAPHS[:-1]))
    for path in titles:
        await telegram.wait_for(ALICE, contains=f'href="{articles.url(path)}">', timeout=20, after=sent)
    with closing(sqlite3.connect(bots.db_path)) as db, db:
        day_old = (datetime.now(UTC) - timedelta(hours=25)).replace(tzinfo=None).isoformat(sep=" ")
        db.execute(
            "UPDATE version SET created_at = ? WHERE number = 2 AND article_id = "
            "(SELECT article_id FROM subscription WHERE chat_id = ? AND number = 4)",
            (day_old, ALICE),
        )

    digest = await telegram.ask(ALICE, "/digest")
    print("\nDIGEST:\n" + digest.text)
    lines = digest.text.split("\n")
    assert lines[0] == "🗞 The day's edits: 3 articles changed in the last 24 hours"
    assert lines[1] == f"#2 <b>{PUTIN_V2}</b> — headline changed · v1 → v2 · /diff_2_1_2"
    assert lines[2].startswith(
        "#3 <b>Aleppo ceasefire vote</b> — a number changed, 1 paragraph edited · v1 → v2"
    )
    assert lines[3].startswith(
        "#1 <b>Cathedral opens on the Seine</b> — 1 paragraph edited · v1 → v2 · /diff_1_1_2"
    )
    assert len(lines) == 4


async def test_the_button_turns_on_a_daily_digest_that_the_outbox_sends(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/b", article_html(PUTIN_V1))
    await telegram.ask(ALICE, f"/track {articles.url('/b')}")
    answer = await telegram.ask(ALICE, "/digest")
    assert answer.button_data == ["digest:times"]

    telegram.press_button(ALICE, answer.message_id, "digest:times")
    await telegram.wait_for_callback_answer(1)
    assert telegram.buttons_of(ALICE, answer.message_id) == [
        ("06:00", "digest:360"),
        ("08:00", "digest:480"),
        ("12:00", "digest:720"),
        ("18:00", "digest:1080"),
        ("21:00", "digest:1260"),
        ("Off", "digest:off"),
    ]

    after = len(telegram.sent)
    telegram.press_button(ALICE, answer.message_id, "digest:480")
    saved = await telegram.wait_for(ALICE, method="editMessageText", after=after)
    assert saved.text == (
        "📬 Daily digest on: every day at 08:00 (UTC) I'll post the articles that changed in the last "
        "24 hours (nothing on a day without edits). /settings changes the time zone."
    )
    with closing(sqlite3.connect(bots.db_path)) as db:
        ((minute, next_at),) = db.execute(
            "SELECT digest_minute, digest_next_at FROM chat WHERE id = ?", (ALICE,)
        )
    assert minute == 480 and datetime.fromisoformat(next_at).strftime("%H:%M") == "08:00"

    sent = len(telegram.sent)
    articles.set_page("/b", article_html(PUTIN_V2))
    await telegram.wait_for(ALICE, contains="Headline changed", timeout=15, after=sent)
    # Eight o'clock comes (the stored time moved to the past: the bot reads its own clock).
    with closing(sqlite3.connect(bots.db_path)) as db, db:
        db.execute("UPDATE chat SET digest_next_at = ? WHERE id = ?", ("2026-01-01 08:00:00.000000", ALICE))
    daily = await telegram.wait_for(ALICE, contains="The day's edits", timeout=15, after=sent)
    assert daily.method == "sendMessage"
    assert daily.text.split("\n")[1] == f"#1 <b>{PUTIN_V2}</b> — headline changed · v1 → v2 · /diff_1_1_2"
    # Sent once: the next is tomorrow's, and a later /list answer is the only other message.
    listing = await telegram.ask(ALICE, "/list")
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE and "The day's edits" in m.text] == [daily]
    assert listing.text != daily.text


async def test_only_admins_turn_on_a_groups_digest(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    group = -100777
    answer = await telegram.ask(group, "/digest", chat_type="group")
    telegram.press_button(group, answer.message_id, "digest:times", user_id=999)
    refused = await telegram.wait_for_callback_answer()
    assert refused["text"] == "Only this group's admins can change its settings."
