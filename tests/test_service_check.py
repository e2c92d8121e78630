"""One check of one article (bot.service.check) on its own: real article HTML from a local page
server, the real Fetcher, parse thread and Storage (SQLite), no Telegram and no scheduler. Each
outcome, what it does to the article's schedule, and the notices it leaves in the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings, with_overrides
from bot.core.policy import Outcome
from bot.net.fetch import Fetcher, FetchPolicy
from bot.service.check import Checker, CheckResult
from bot.service.pages import PageReader
from bot.service.parse_thread import ParseThread
from bot.service.track import TrackService
from bot.storage.articles import TrackResult
from bot.storage.engine import make_engine
from bot.storage.models import Article, ArticleState, DeliveryKind, utcnow
from bot.storage.store import Storage
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_V1, article_html, putin_v2

ALICE = 7001
SHORT = "Vladimir Putin will not visit Paris next week, the Kremlin said on Tuesday, without saying why or when he might come."
INTERVAL = 300  # monitor.interval's default: the article's interval after /track


@dataclass
class Checking:
    checker: Checker
    store: Storage
    web: ArticleServer
    counted: list[Outcome] = field(default_factory=list)
    article_id: int = 0

    def article(self) -> Article:
        article = self.store.articles.get(self.article_id)
        assert article is not None
        return article

    async def check(self, now: datetime | None = None) -> CheckResult:
        return await self.checker.check(self.article(), now)


def with_nonce(html: str, n: int) -> str:
    """The same page with a per-fetch nonce (new bytes, same fingerprint)."""
    return html.replace("</head>", f'<script nonce="n{n}">window.requestId = "{n}";</script>\n</head>')


async def checking(tmp_path: Path, web: ArticleServer, **monitor: object) -> AsyncIterator[Checking]:
    """A checker and one article /tracked by ALICE from ``web``'s page at /news/a."""
    config: Settings = with_overrides(
        Settings(), monitor={"allow_private_addresses": True, "timeout": 5, **monitor}
    )
    store = Storage(make_engine(f"sqlite:///{tmp_path / 'redline.db'}"))
    store.upgrade_schema()
    store.chats.ensure(ALICE, "private")
    parser = ParseThread()
    async with Fetcher(FetchPolicy.from_settings(config.monitor)) as fetcher:
        pages = PageReader(fetcher, parser)
        counted: list[Outcome] = []
        checker = Checker(
            store, pages, config.monitor, on_check=lambda outcome, _now: counted.append(outcome)
        )
        tracked = await TrackService(store.articles, pages, config).track(ALICE, web.url("/news/a"))
        assert isinstance(tracked, TrackResult) and tracked.article.id is not None
        try:
            yield Checking(checker, store, web, counted, tracked.article.id)
        finally:
            await checker.aclose()
            parser.close()
            store.engine.dispose()


@pytest.fixture
async def c(tmp_path: Path, articles: ArticleServer) -> AsyncIterator[Checking]:
    articles.set_page("/news/a", article_html())
    async for checking_ in checking(tmp_path, articles):
        yield checking_


@pytest.mark.parametrize(
    ("serve", "outcome"),
    [
        (lambda web: web.set_page("/news/a", article_html(), etag=True), Outcome.NOT_MODIFIED),
        (lambda web: None, Outcome.BODY_SAME),
        (lambda web: web.set_page("/news/a", with_nonce(article_html(), 2)), Outcome.FINGERPRINT_SAME),
        (lambda web: web.set_page("/news/a", article_html(comments=13)), Outcome.SAME),
    ],
)
async def test_quiet_checks_look_less_often(
    tmp_path: Path, articles: ArticleServer, serve: object, outcome: Outcome
) -> None:
    articles.set_page("/news/a", article_html(), etag=outcome == Outcome.NOT_MODIFIED)
    async for c in checking(tmp_path, articles):
        serve(articles)  # type: ignore[operator]
        now = utcnow()
        result = await c.check(now)

        assert (result.outcome, result.version, result.deliveries) == (outcome, None, 0)
        assert c.counted == [outcome]
        article = c.article()
        assert article.interval == INTERVAL * 5 // 4
        assert article.next_check_at == now + timedelta(seconds=INTERVAL * 5 // 4)
        assert article.state == ArticleState.ACTIVE and article.failures == 0
        assert [v.number for v in c.store.articles.versions(c.article_id)] == [1]


async def test_an_edit_is_stored_with_one_announcement_per_chat_and_looked_at_sooner(c: Checking) -> None:
    c.web.set_page("/news/a", putin_v2())
    now = utcnow()
    result = await c.check(now)

    assert (result.outcome, result.version, result.deliveries) == (Outcome.CHANGED, 2, 1)
    article = c.article()
    assert article.interval == INTERVAL // 2 and article.last_changed_at == now
    [announcement] = c.store.outbox.deliveries(ALICE)
    assert announcement.kind == DeliveryKind.EDIT
    assert announcement.text.startswith("✏️ Headline changed, 1 paragraph edited")
    assert "<s>postpones</s> <b>cancels</b>" in announcement.text

    # The new page's fingerprint was stored with the version: the same page again is not extracted.
    c.web.set_page("/news/a", with_nonce(putin_v2(), 3))
    assert (await c.check()).outcome == Outcome.FINGERPRINT_SAME


async def test_a_page_that_shrinks_is_announced_as_withdrawn_only_once_it_persists(
    tmp_path: Path, articles: ArticleServer
) -> None:
    articles.set_page("/news/a", article_html())
    async for c in checking(tmp_path, articles, withdrawal_checks=2):
        articles.set_page("/news/a", article_html(PUTIN_V1, [SHORT]))
        now = utcnow()
        first = await c.check(now)
        assert (first.outcome, first.detail, first.deliveries) == (Outcome.SHRUNK, "1/2", 0)
        assert c.article().next_check_at == now + timedelta(seconds=60)  # min_interval: look again soon

        second = await c.check()
        assert (second.outcome, second.version, second.deliveries) == (Outcome.CHANGED, 2, 1)
        [announcement] = c.store.outbox.deliveries(ALICE)
        assert announcement.text.startswith("🗑 The article was withdrawn or replaced")


async def test_a_page_that_fails_backs_off_and_speaks_up_once(
    tmp_path: Path, articles: ArticleServer
) -> None:
    articles.set_page("/news/a", article_html())
    async for c in checking(tmp_path, articles, failures_before_notice=2):
        articles.set_page("/news/a", "<html>down</html>", status=503)
        now = utcnow()
        first = await c.check(now)
        assert (first.outcome, first.detail, first.deliveries) == (
            Outcome.FAILED,
            "The site is having trouble (HTTP 503).",
            0,
        )
        assert c.article().next_check_at == now + timedelta(seconds=INTERVAL * 2)

        second = await c.check(now)
        assert (second.outcome, second.deliveries) == (Outcome.FAILED, 1)
        assert c.article().state == ArticleState.FAILING
        assert (await c.check(now)).deliveries == 0  # told once
        [notice] = c.store.outbox.deliveries(ALICE)
        url = articles.url("/news/a")
        assert notice.kind == DeliveryKind.FAILING
        assert notice.text == (
            "⚠️ Article #1 can't be read right now · 127.0.0.1\n"
            f'<a href="{url}">{PUTIN_V1}</a>\n'
            "The site is having trouble (HTTP 503).\n"
            "I'll keep trying and tell you when it changes."
        )

        # Readable again: back to active with no failures.
        articles.set_page("/news/a", article_html())
        assert (await c.check()).outcome == Outcome.BODY_SAME
        assert (c.article().state, c.article().failures) == (ArticleState.ACTIVE, 0)


async def test_a_page_that_is_gone_ends_the_article_with_a_notice(c: Checking) -> None:
    c.web.remove("/news/a")
    result = await c.check()

    assert (result.outcome, result.detail, result.deliveries) == (
        Outcome.GONE,
        "The page is gone (HTTP 404).",
        1,
    )
    assert c.article().state == ArticleState.GONE
    [notice] = c.store.outbox.deliveries(ALICE)
    assert notice.kind == DeliveryKind.GONE
    assert notice.text == (
        "🚫 Article #1 is gone · 127.0.0.1\n"
        f'<a href="{c.web.url("/news/a")}">{PUTIN_V1}</a>\n'
        "The page is gone (HTTP 404).\n"
        "I've stopped checking it. /untrack_1 removes it."
    )


async def test_a_page_that_is_no_longer_an_article_is_a_temporary_failure(c: Checking) -> None:
    c.web.set_page("/news/a", "")
    result = await c.check()
    assert (result.outcome, result.detail) == (
        Outcome.FAILED,
        "That page doesn't look like an article (no headline or text found).",
    )
    assert c.article().failures == 1 and c.article().state == ArticleState.ACTIVE


async def test_an_article_quiet_for_stop_after_days_goes_dormant_without_a_fetch(c: Checking) -> None:
    hits = c.web.hits("/news/a")
    result = await c.check(c.article().created_at + timedelta(days=30, seconds=1))

    assert result.outcome == Outcome.DORMANT
    assert c.article().state == ArticleState.DORMANT
    assert c.web.hits("/news/a") == hits
