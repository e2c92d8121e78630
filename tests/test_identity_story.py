"""One article, one identity, through the running bot (fake Bot API, pages over HTTP, SQLite on
disk): an AMP, mobile-style or query-string link and the article's own link are one entry; a
publisher's new slug (a redirect, or a new canonical link) is followed and announced once as
"URL changed"; a canonical link to another site or to the front page is not trusted."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.conftest import RunningBots
from tests.corpus import corpus_or_skip
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V1, article_html, with_canonical

ALICE = 8101
BOB = 8102


def articles_in(db_path: Path) -> list[tuple[str, str, str | None]]:
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT url, url_key, canonical_key FROM article ORDER BY id").fetchall()


async def test_amp_and_query_variants_are_the_article_they_name(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    canonical = articles.url("/news/putin")
    articles.set_page("/news/putin", with_canonical(article_html(), canonical))
    # The AMP page says less (no "most read"), and names the article.
    articles.set_page("/news/putin/amp", with_canonical(article_html(most_read=()), "/news/putin"))

    tracked = await telegram.ask(ALICE, f"/track {articles.url('/news/putin/amp')}")
    assert tracked.text.startswith("👀 Tracking #1") and PUTIN_V1 in tracked.text
    assert articles.hits("/news/putin") == 1, "read where readers read it"

    again = await telegram.ask(ALICE, f"/track {articles.url('/news/putin')}?ref=rss&page=1")
    assert again.text.startswith("This chat already tracks that article as #1")
    other = await telegram.ask(BOB, f"/track {articles.url('/news/putin')}")
    assert other.text.startswith("👀 Tracking #1")
    key = canonical.split("://", 1)[1]
    assert articles_in(bots.db_path) == [(canonical, key, key)]


async def test_a_redirecting_slug_change_is_followed_and_said_once(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    old, new = (
        articles.url("/news/putin-postpones-paris-talks"),
        articles.url("/news/putin-cancels-paris-visit"),
    )
    articles.set_page("/news/putin-postpones-paris-talks", with_canonical(article_html(), old))
    await telegram.ask(ALICE, f"/track {old}")
    sent = len(telegram.sent)

    # The publisher renames the story: the old slug redirects, the page names the new one.
    articles.set_page("/news/putin-cancels-paris-visit", with_canonical(article_html(), new))
    articles.redirect("/news/putin-postpones-paris-talks", "/news/putin-cancels-paris-visit", status=301)
    moved = await telegram.wait_for(ALICE, contains="URL changed", timeout=15, after=sent)
    print("\nMOVED:\n" + moved.text)
    assert moved.text.startswith("🔀 URL changed: article #1 · 127.0.0.1")
    assert f'<a href="{new}">{PUTIN_V1}</a>' in moved.text
    assert f"It used to be at {old}" in moved.text

    # Checks go on at the new address; the next edit is announced there, and nothing else came.
    articles.set_page(
        "/news/putin-cancels-paris-visit",
        with_canonical(article_html(paragraphs=[PUTIN_P1_V2, *PUTIN_REST]), new),
    )
    edit = await telegram.wait_for(ALICE, contains="edited", timeout=15, after=sent)
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [moved, edit]
    key = new.split("://", 1)[1]
    assert articles_in(bots.db_path) == [(new, key, key)]
    # The old link now names the same article.
    again = await telegram.ask(ALICE, f"/track {old}")
    assert again.text.startswith("This chat already tracks that article as #1")


async def test_a_new_canonical_slug_without_a_redirect_is_followed(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    old, new = articles.url("/news/12345/putin-postpones"), articles.url("/news/12345/putin-cancels")
    articles.set_page("/news/12345/putin-postpones", with_canonical(article_html(), old))
    await telegram.ask(ALICE, f"/track {old}")
    sent = len(telegram.sent)
    # Same story id, new slug: both addresses serve it, the page names the new one.
    renamed = with_canonical(article_html(), new)
    articles.set_page("/news/12345/putin-postpones", renamed)
    articles.set_page("/news/12345/putin-cancels", renamed)
    moved = await telegram.wait_for(ALICE, contains="URL changed", timeout=15, after=sent)
    assert f'<a href="{new}">' in moved.text
    articles.set_page(
        "/news/12345/putin-cancels", with_canonical(article_html(paragraphs=[PUTIN_P1_V2, *PUTIN_REST]), new)
    )
    edit = await telegram.wait_for(ALICE, contains="edited", timeout=15, after=sent)
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [moved, edit]
    assert articles.hits("/news/12345/putin-cancels") >= 1


async def test_a_canonical_link_to_another_site_or_the_front_page_is_not_trusted(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    corpus = corpus_or_skip()
    guardian = (corpus / "pages" / "guardian" / "v1.html").read_text(encoding="utf-8")
    assert "https://www.theguardian.com/" in guardian, "the page names its publisher's address"
    await bots.start()
    # Two copies of a real Guardian page, both naming the Guardian: two articles here.
    articles.set_page("/copy/a", guardian)
    articles.set_page("/copy/b", guardian)
    first = await telegram.ask(ALICE, f"/track {articles.url('/copy/a')}", timeout=30)
    second = await telegram.ask(ALICE, f"/track {articles.url('/copy/b')}", timeout=30)
    assert first.text.startswith("👀 Tracking #1") and second.text.startswith("👀 Tracking #2")
    # A template that names the home page on every story: each story stays itself.
    front = with_canonical(article_html(), articles.url("/"))
    articles.set_page("/story/one", front)
    articles.set_page("/story/two", with_canonical(article_html(paragraphs=[PUTIN_P1_V1]), "/"))
    third = await telegram.ask(ALICE, f"/track {articles.url('/story/one')}")
    fourth = await telegram.ask(ALICE, f"/track {articles.url('/story/two')}")
    assert third.text.startswith("👀 Tracking #3") and fourth.text.startswith("👀 Tracking #4")
    assert [url for url, _, _ in articles_in(bots.db_path)] == [
        articles.url(p) for p in ("/copy/a", "/copy/b", "/story/one", "/story/two")
    ]
    assert articles.hits("/") == 0


async def test_an_article_tracked_before_identities_takes_its_own_quietly(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    app = await bots.start()
    canonical = articles.url("/news/putin")
    articles.set_page("/news/putin", with_canonical(article_html(), canonical))
    await telegram.ask(ALICE, f"/track {canonical}")
    await bots.stop(app)
    # As an older Redline stored it: tracked by a query-string variant, no canonical key.
    variant = canonical + "?page=1"
    with closing(sqlite3.connect(bots.db_path)) as db, db:
        db.execute(
            "UPDATE article SET url = ?, url_key = ?, canonical_key = NULL",
            (variant, variant.split("://", 1)[1]),
        )
    sent = len(telegram.sent)
    await bots.start()
    articles.set_page(
        "/news/putin", with_canonical(article_html(paragraphs=[PUTIN_P1_V2, *PUTIN_REST]), canonical)
    )
    edit = await telegram.wait_for(ALICE, contains="edited", timeout=15, after=sent)
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [edit], "no 'URL changed' first"
    key = canonical.split("://", 1)[1]
    assert articles_in(bots.db_path) == [(canonical, key, key)]
