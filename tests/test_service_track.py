"""The track service (bot.service.track) on its own: real article HTML from a local page server,
the real Fetcher, parse thread and Storage (SQLite), no Telegram. Each refusal has its reason and
the exact words the chat is shown (bot.tg.tracking.track_reply)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import Settings, with_overrides
from bot.core.fingerprint import fingerprint
from bot.net.fetch import Fetcher, FetchPolicy
from bot.service.pages import PageReader
from bot.service.parse_thread import ParseThread
from bot.service.track import Refusal, Refused, TrackService
from bot.storage.articles import TrackResult
from bot.storage.engine import make_engine
from bot.storage.models import ArticleState
from bot.storage.store import Storage
from bot.tg.tracking import track_reply
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_V1, article_html

ALICE, BOB = 7001, 7002


@dataclass
class Tracking:
    service: TrackService
    store: Storage
    web: ArticleServer
    woken: list[int]


def settings(**limits: object) -> Settings:
    return with_overrides(Settings(), monitor={"allow_private_addresses": True, "timeout": 5}, limits=limits)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Storage]:
    store = Storage(make_engine(f"sqlite:///{tmp_path / 'redline.db'}"))
    store.upgrade_schema()
    for chat in (ALICE, BOB):
        store.chats.ensure(chat, "private")
    yield store
    store.engine.dispose()


async def _tracking(store: Storage, web: ArticleServer, config: Settings) -> AsyncIterator[Tracking]:
    parser = ParseThread()
    woken: list[int] = []
    async with Fetcher(FetchPolicy.from_settings(config.monitor)) as fetcher:
        service = TrackService(
            store.articles, PageReader(fetcher, parser), config, on_tracked=lambda: woken.append(1)
        )
        try:
            yield Tracking(service, store, web, woken)
        finally:
            parser.close()


@pytest.fixture
async def tracking(sqlite_store: Storage, articles: ArticleServer) -> AsyncIterator[Tracking]:
    async for t in _tracking(sqlite_store, articles, settings()):
        yield t


async def test_a_new_article_is_fetched_extracted_fingerprinted_and_stored(tracking: Tracking) -> None:
    html = article_html()
    tracking.web.set_page("/news/a", html, etag=True)
    result = await tracking.service.track(ALICE, tracking.web.url("/news/a"), thread_id=5)

    assert isinstance(result, TrackResult)
    assert (result.number, result.already, result.article.title) == (1, False, PUTIN_V1)
    article = tracking.store.articles.get(result.article.id)  # type: ignore[arg-type]
    assert article is not None and article.etag is not None
    assert article.fingerprint == fingerprint(html)
    assert [v.number for v in tracking.store.articles.versions(article.id)] == [1]  # type: ignore[arg-type]
    assert tracking.store.chats.topic(ALICE, article.id) == 5  # type: ignore[arg-type]
    assert tracking.woken == [1]
    assert track_reply(result).startswith("👀 Tracking #1")


async def test_an_article_someone_reads_is_not_fetched_again(tracking: Tracking) -> None:
    tracking.web.set_page("/news/a", article_html())
    url = tracking.web.url("/news/a")
    first = await tracking.service.track(ALICE, url)
    again = await tracking.service.track(ALICE, url)
    other = await tracking.service.track(BOB, url)

    assert (
        isinstance(first, TrackResult) and isinstance(again, TrackResult) and isinstance(other, TrackResult)
    )
    assert (again.number, again.already) == (1, True)
    assert (other.number, other.already, other.article.id) == (1, False, first.article.id)
    assert tracking.web.hits("/news/a") == 1
    assert track_reply(again).startswith("This chat already tracks that article as #1: ")


async def test_a_redirect_to_a_known_article_subscribes_to_it(tracking: Tracking) -> None:
    tracking.web.set_page("/news/a", article_html())
    tracking.web.redirect("/short", "/news/a")
    first = await tracking.service.track(ALICE, tracking.web.url("/news/a"))
    via = await tracking.service.track(BOB, tracking.web.url("/short"))

    assert isinstance(first, TrackResult) and isinstance(via, TrackResult)
    assert via.article.id == first.article.id and not via.already


async def test_tracking_a_dormant_article_again_wakes_it(tracking: Tracking) -> None:
    tracking.web.set_page("/news/a", article_html())
    url = tracking.web.url("/news/a")
    first = await tracking.service.track(ALICE, url)
    assert isinstance(first, TrackResult) and first.article.id is not None
    tracking.store.queue.update_article(first.article.id, state=ArticleState.DORMANT)

    again = await tracking.service.track(ALICE, url)
    assert isinstance(again, TrackResult) and again.already
    assert tracking.web.hits("/news/a") == 2  # nobody reads a dormant article: fetched anew
    article = tracking.store.articles.get(first.article.id)
    assert article is not None and article.state == ArticleState.ACTIVE and article.woken_at is not None


@pytest.mark.parametrize(
    ("target", "reason", "reply"),
    [
        (
            None,
            Refusal.NO_URL,
            "Send the article's link after the command, like this:\n/track https://example.com/news/story",
        ),
        ("ftp://example.com/a", Refusal.BAD_URL, "I can only follow http:// and https:// links."),
        ("/missing", Refusal.UNREADABLE, "The page is gone (HTTP 404)."),
        (
            "/empty",
            Refusal.NOT_AN_ARTICLE,
            "That page doesn't look like an article (no headline or text found).",
        ),
        (
            "/section",
            Refusal.NOT_AN_ARTICLE,
            "That page has too little text to follow (it may be behind a paywall or not be an article).",
        ),
    ],
)
async def test_refusals(tracking: Tracking, target: str | None, reason: Refusal, reply: str) -> None:
    tracking.web.set_page("/empty", "")
    tracking.web.set_page(
        "/section",
        "<html><head><title>Section</title></head><body><nav><a href='/a'>A</a></nav></body></html>",
    )
    if target is not None and target.startswith("/"):
        target = tracking.web.url(target)
    result = await tracking.service.track(ALICE, target)

    assert isinstance(result, Refused) and result.reason == reason
    assert track_reply(result) == reply
    assert tracking.store.articles.tracked(ALICE) == []
    assert tracking.woken == []


async def test_a_full_chat_is_refused_before_the_page_is_read(
    sqlite_store: Storage, articles: ArticleServer
) -> None:
    articles.set_page("/news/a", article_html())
    articles.set_page("/news/b", article_html("Another story"))
    async for t in _tracking(sqlite_store, articles, settings(max_articles_per_chat=1)):
        assert isinstance(await t.service.track(ALICE, articles.url("/news/a")), TrackResult)
        result = await t.service.track(ALICE, articles.url("/news/b"))

        assert result == Refused(Refusal.FULL, count=1)
        assert (
            track_reply(result)
            == "This chat already tracks 1 articles, the most I allow. /untrack some first."
        )
        assert [row.number for row in sqlite_store.articles.tracked(ALICE)] == [1]
        assert articles.hits("/news/b") == 1  # fetched (it may redirect to a known article), never extracted


async def test_a_full_chat_is_refused_an_article_other_chats_track(
    sqlite_store: Storage, articles: ArticleServer
) -> None:
    """The cap held only for articles nobody tracked yet: a full chat could add any article
    another chat tracks, past max_articles_per_chat."""
    articles.set_page("/news/a", article_html())
    articles.set_page("/news/b", article_html("Another story"))
    async for t in _tracking(sqlite_store, articles, settings(max_articles_per_chat=1)):
        assert isinstance(await t.service.track(BOB, articles.url("/news/b")), TrackResult)
        assert isinstance(await t.service.track(ALICE, articles.url("/news/a")), TrackResult)
        result = await t.service.track(ALICE, articles.url("/news/b"))
        assert result == Refused(Refusal.FULL, count=1)
        assert [row.number for row in sqlite_store.articles.tracked(ALICE)] == [1]
        again = await t.service.track(ALICE, articles.url("/news/a"))  # already tracked: not refused
        assert isinstance(again, TrackResult) and again.already


async def test_the_per_user_cap_counts_every_chat(sqlite_store: Storage, articles: ArticleServer) -> None:
    """limits.max_articles_per_user: one person across chats; tracking again is no new article."""
    for path in ("/a", "/b", "/c"):
        articles.set_page(path, article_html(f"Story {path}"))
    sqlite_store.chats.ensure(-2002, "group")
    async for t in _tracking(sqlite_store, articles, settings(max_articles_per_user=2)):
        assert isinstance(await t.service.track(ALICE, articles.url("/a"), user_id=ALICE), TrackResult)
        assert isinstance(await t.service.track(-2002, articles.url("/b"), user_id=ALICE), TrackResult)
        again = await t.service.track(-2002, articles.url("/b"), user_id=ALICE)
        assert isinstance(again, TrackResult) and again.already
        result = await t.service.track(-2002, articles.url("/c"), user_id=ALICE)
        assert result == Refused(Refusal.USER_FULL, count=2)
        assert track_reply(result) == (
            "You already track 2 articles across your chats, the most I allow one person. /untrack some first."
        )
        assert isinstance(await t.service.track(-2002, articles.url("/c"), user_id=BOB), TrackResult)
        assert sqlite_store.articles.count_owned(ALICE) == 2


async def test_a_trailing_slash_after_a_redirect_is_the_same_article(tracking: Tracking) -> None:
    """README: "a trailing slash after a redirect" leads to the same entry: /story redirects
    to /story/ (as many CMSs do), and both spellings are one article."""
    tracking.web.set_page("/news/story/", article_html())
    tracking.web.redirect("/news/story", "/news/story/")
    first = await tracking.service.track(ALICE, tracking.web.url("/news/story"))
    again = await tracking.service.track(ALICE, tracking.web.url("/news/story/"))
    other = await tracking.service.track(BOB, tracking.web.url("/news/story"))
    assert (
        isinstance(first, TrackResult) and isinstance(again, TrackResult) and isinstance(other, TrackResult)
    )
    assert (again.number, again.already, again.article.id) == (1, True, first.article.id)
    assert other.article.id == first.article.id
    assert len(tracking.store.articles.tracked(ALICE)) == 1
