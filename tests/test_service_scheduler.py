"""The scheduler's pipeline (bot.service.scheduler): checks start when due, a slow site holds only its own slots, and no
site gets more than ``per_site_limit`` requests at once. The real Scheduler, Checker, Storage (SQLite),
Fetcher and parse thread against pages served over HTTP from loopback addresses."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.config import Settings, with_overrides
from bot.core.extract import extract
from bot.core.policy import Outcome
from bot.net.fetch import Fetcher, FetchPolicy
from bot.net.urls import site_name
from bot.service.check import Checker
from bot.service.follow import FollowService
from bot.service.pages import PageReader
from bot.service.parse_thread import ParseThread
from bot.service.scheduler import Scheduler
from bot.service.track import TrackService
from bot.storage.articles import PageMeta
from bot.storage.engine import make_engine
from bot.storage.models import utcnow
from bot.storage.store import Storage
from tests.fakes.web import ArticleServer, Handler
from tests.feeds import rss
from tests.pages import article_html

PAGE = article_html()
SNAPSHOT = extract(PAGE, "http://127.0.0.1/")


@dataclass
class Visits:
    """When each path was requested, and the most requests one host had in flight at once."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def page(self, host: str, delay: float = 0.0) -> Handler:
        """A handler for ``host`` (any label) that records its visits by ``host + path``."""

        async def handler(request: web.Request) -> web.StreamResponse:
            self.times[host + request.path].append(time.monotonic())
            self.in_flight[host] += 1
            self.peak[host] = max(self.peak[host], self.in_flight[host])
            try:
                await asyncio.sleep(delay)
                return web.Response(body=PAGE.encode(), content_type="text/html", charset="utf-8")
            finally:
                self.in_flight[host] -= 1

        return handler

    async def until(self, path: str, count: int, timeout: float = 10) -> None:
        """Wait for ``count`` visits of ``path``; on a miss, say what was visited instead."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.times[path]) < count:
                    await asyncio.sleep(0.02)
        except TimeoutError:
            seen = {p: len(t) for p, t in self.times.items()}
            raise AssertionError(
                f"{path}: {len(self.times[path])} of {count} visits in {timeout}s; seen {seen}"
            ) from None


@dataclass
class Pipeline:
    store: Storage
    scheduler: Scheduler
    checked: list[Outcome] = field(default_factory=list)  # each check's outcome as it ends

    def add(self, url: str, due_in: float, interval: int = 1) -> int:
        """An article tracked by one chat, due ``due_in`` seconds from now."""
        self.store.chats.ensure(1001, "private")
        now = utcnow()
        result = self.store.articles.track(
            1001,
            url=url,
            url_key=url,
            site=site_name(url),
            title=SNAPSHOT.title,
            content=SNAPSHOT.to_dict(),
            content_hash=SNAPSHOT.content_hash,
            meta=PageMeta(),
            interval=interval,
            now=now + timedelta(seconds=due_in - interval),
        )
        assert result.article.id is not None
        return result.article.id


def monitor_settings(**monitor: object) -> Settings:
    base = {
        "interval": 1,
        "min_interval": 1,
        "max_interval": 1,
        "allow_private_addresses": True,
        "timeout": 30,
        "tick": 60.0,  # the longest idle sleep: a test that waited for it would time out
    }
    return with_overrides(Settings(), monitor={**base, **monitor})


@asynccontextmanager
async def running(
    tmp_path: Path, database_url: str | None = None, write_behind: bool = False, **monitor: object
) -> AsyncIterator[Pipeline]:
    """The scheduler's pipeline running until the block ends, on a fresh SQLite database or
    on ``database_url`` (several pipelines may share one, as processes do)."""
    settings = monitor_settings(**monitor)
    store = Storage(make_engine(database_url or f"sqlite:///{tmp_path / 'redline.db'}"))
    store.upgrade_schema()
    parser = ParseThread()
    async with Fetcher(FetchPolicy.from_settings(settings.monitor)) as fetcher:
        checked: list[Outcome] = []
        checker = Checker(
            store,
            PageReader(fetcher, parser),
            settings.monitor,
            on_check=lambda outcome, _now: checked.append(outcome),
            write_behind=write_behind,
        )
        scheduler = Scheduler(store.queue, checker, settings.monitor)
        runner = asyncio.create_task(scheduler.run())
        try:
            yield Pipeline(store, scheduler, checked)
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            parser.close()
            store.engine.dispose()


@pytest.fixture
async def pipeline(tmp_path: Path) -> AsyncIterator[Pipeline]:
    async with running(tmp_path) as p:
        yield p


async def test_a_due_check_starts_when_due_not_on_a_tick(pipeline: Pipeline) -> None:
    visits = Visits()
    async with ArticleServer() as web_:
        web_.set_route("/a", visits.page("web"))
        due_at = time.monotonic() + 0.5
        pipeline.add(web_.url("/a"), due_in=0.5, interval=30)
        pipeline.scheduler.wake()  # as /track does
        await visits.until("web/a", 1, timeout=5)
        assert -0.05 <= visits.times["web/a"][0] - due_at < 0.4
        # An idle pipeline is woken by a new article: checked at once, not after its sleep.
        web_.set_route("/b", visits.page("web"))
        pipeline.add(web_.url("/b"), due_in=0, interval=30)
        woken = time.monotonic()
        pipeline.scheduler.wake()
        await visits.until("web/b", 1, timeout=5)
        assert visits.times["web/b"][0] - woken < 0.4


async def test_interval_of_one_second_means_a_check_a_second(pipeline: Pipeline) -> None:
    visits = Visits()
    async with ArticleServer() as web_:
        web_.set_route("/a", visits.page("web"))
        pipeline.add(web_.url("/a"), due_in=0)
        pipeline.scheduler.wake()
        await visits.until("web/a", 4, timeout=6)
        times = visits.times["web/a"]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(0.95 <= gap < 1.5 for gap in gaps), gaps


async def test_a_hanging_site_does_not_delay_another_site(tmp_path: Path) -> None:
    visits = Visits()
    async with (
        running(tmp_path, concurrency=4, per_site_limit=2) as pipeline,
        ArticleServer("127.0.0.1") as slow,
        ArticleServer("127.0.0.2") as fast,
    ):
        for i in range(6):  # more than its share of slots, all due first
            slow.set_route(f"/hang{i}", visits.page("slow", delay=3600))
            pipeline.add(slow.url(f"/hang{i}"), due_in=-1)
        fast.set_route("/news", visits.page("fast"))
        pipeline.add(fast.url("/news"), due_in=0.2)
        pipeline.scheduler.wake()
        await visits.until("fast/news", 3, timeout=5)
        times = visits.times["fast/news"]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap < 1.5 for gap in gaps), gaps
        assert visits.in_flight["slow"] == 2  # the hanging site holds its two slots, no more
        assert sum(len(visits.times[f"slow/hang{i}"]) for i in range(6)) == 2


async def test_per_site_limit_is_honoured(tmp_path: Path) -> None:
    visits = Visits()
    async with (
        running(tmp_path, concurrency=16, per_site_limit=2) as pipeline,
        ArticleServer("127.0.0.1") as one,
        ArticleServer("127.0.0.3") as two,
    ):
        paths = [f"/p{i}" for i in range(6)]
        for path in paths:
            one.set_route(path, visits.page("one", delay=0.3))
            two.set_route(path, visits.page("two", delay=0.3))
            pipeline.add(one.url(path), due_in=0)
            pipeline.add(two.url(path), due_in=0)
        pipeline.scheduler.wake()
        for path in paths:  # every article of both sites, twice each
            await visits.until("one" + path, 2, timeout=10)
            await visits.until("two" + path, 2, timeout=10)
        # Each site got exactly its limit in parallel (never more), both sites at once.
        assert visits.peak == {"one": 2, "two": 2}


async def test_a_feed_fetch_and_article_checks_of_one_site_share_its_limit(tmp_path: Path) -> None:
    """The feed schedule (bot.service.follow) takes the same per-site count as the checks: with
    two slow checks of a site in flight, its feed waits for one of them to end."""
    visits = Visits()
    async with running(tmp_path, concurrency=8, per_site_limit=2) as pipeline, ArticleServer() as site:
        feed_text = rss("Site feed", [])

        async def feed(request: web.Request) -> web.StreamResponse:
            visits.times["one" + request.path].append(time.monotonic())
            visits.in_flight["one"] += 1
            visits.peak["one"] = max(visits.peak["one"], visits.in_flight["one"])
            try:
                await asyncio.sleep(0.3)
                return web.Response(text=feed_text, content_type="application/rss+xml")
            finally:
                visits.in_flight["one"] -= 1

        site.set_route("/f.xml", feed)
        for i in range(4):
            site.set_route(f"/p{i}", visits.page("one", delay=0.5))
            pipeline.add(site.url(f"/p{i}"), due_in=0)
        now = utcnow()
        pipeline.store.chats.ensure(1001, "private")
        pipeline.store.follows.follow(
            1001, url=site.url("/f.xml"), kind="feed", title="", listed=[], days=1, now=now, next_fetch_at=now
        )
        config = monitor_settings(per_site_limit=2)
        parser = ParseThread()
        try:
            async with Fetcher(FetchPolicy.from_settings(config.monitor)) as fetcher:
                pages = PageReader(fetcher, parser)
                follower = FollowService(
                    pipeline.store,
                    pages,
                    TrackService(pipeline.store.articles, pages, config),
                    config,
                    sites=pipeline.scheduler.sites,
                )
                pipeline.scheduler.wake()
                async with asyncio.timeout(5):
                    while visits.in_flight["one"] < 2:  # two checks of the site in flight
                        await asyncio.sleep(0.01)
                await follower.poll_once()
        finally:
            parser.close()
        assert len(visits.times["one/f.xml"]) == 1
        for i in range(4):
            await visits.until(f"one/p{i}", 1)
        assert visits.peak == {"one": 2}


HOURLY: dict[str, object] = {"interval": 3600, "min_interval": 3600, "max_interval": 3600}


class Statements:
    """The due-queue statements a real engine runs: claims (due articles in due order) and
    next-due looks (the earliest due time)."""

    def __init__(self, engine: Engine) -> None:
        self.claims = 0
        self.next_due = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        flat = " ".join(statement.split()).lower()
        if flat.startswith("select") and "from article" in flat:
            if "order by article.next_check_at" in flat:
                self.claims += 1
            elif "min(article.next_check_at)" in flat:
                self.next_due += 1


async def test_checks_finishing_together_make_no_claim_of_their_own(tmp_path: Path) -> None:
    """Six articles due at once on three sites are claimed by one query; their six checks
    finishing make none (their next due time is an hour away), and the next claim is the one a
    /track asks for. Before claims were made ahead, every finishing check claimed again."""
    visits = Visits()
    async with (
        ArticleServer("127.0.0.1") as one,
        ArticleServer("127.0.0.2") as two,
        ArticleServer("127.0.0.3") as three,
        running(tmp_path, concurrency=16, per_site_limit=2, **HOURLY) as pipeline,
    ):
        statements = Statements(pipeline.store.engine)  # before the pipeline's first look
        async with asyncio.timeout(10):
            while statements.next_due < 1:  # that look: nothing due, the next in a tick
                await asyncio.sleep(0.01)
        assert (statements.claims, statements.next_due) == (1, 1)
        for k, server in enumerate((one, two, three)):
            for i in range(2):
                server.set_route(f"/p{i}", visits.page(f"s{k}"))
                pipeline.add(server.url(f"/p{i}"), due_in=0.3, interval=3600)
        pipeline.scheduler.wake()
        for k in range(3):
            for i in range(2):
                await visits.until(f"s{k}/p{i}", 1)
        one.set_route("/later", visits.page("s0"))
        pipeline.add(one.url("/later"), due_in=0, interval=3600)
        pipeline.scheduler.wake()  # as /track does: the claim after the six checks
        await visits.until("s0/later", 1)
        assert (statements.claims, statements.next_due) == (3, 3), vars(statements)
        assert sum(len(t) for t in visits.times.values()) == 7


async def test_a_busy_sites_articles_due_within_one_horizon_are_claimed_by_one_query(tmp_path: Path) -> None:
    """Six articles of one site falling due one after another within the next second: one claim
    takes them all, and their checks finishing make none. With a site's claim cap at twice its
    fetch limit (4), the claim left two out and every check of the site finishing claimed again:
    at 75 checks a second over 20 sites that was 15 claims a second, most of a steady check's cost."""
    visits = Visits()
    async with (
        ArticleServer("127.0.0.1") as web_,
        running(tmp_path, concurrency=16, per_site_limit=2, **HOURLY) as pipeline,
    ):
        statements = Statements(pipeline.store.engine)
        async with asyncio.timeout(10):
            while statements.next_due < 1:  # the first look: nothing due
                await asyncio.sleep(0.01)
        for i in range(6):
            web_.set_route(f"/s{i}", visits.page("site"))
            pipeline.add(web_.url(f"/s{i}"), due_in=0.3 + 0.1 * i, interval=3600)
        pipeline.scheduler.wake()
        for i in range(6):
            await visits.until(f"site/s{i}", 1)
        async with asyncio.timeout(10):
            while len(pipeline.checked) < 6:  # every check ended, each free to ask for a claim
                await asyncio.sleep(0.01)
        assert statements.claims == 2, vars(statements)  # the first look, then the one for all six


async def test_quiet_checks_written_behind_are_flushed_on_stop(tmp_path: Path) -> None:
    """With write-behind the quiet checks' updates wait (up to a second) for company; stopping
    the pipeline writes them: each article is due an interval after its check, not released as
    due now nor left at its claim's lease."""
    visits = Visits()
    async with running(tmp_path, write_behind=True, **HOURLY) as pipeline, ArticleServer() as web_:
        ids = []
        for i in range(4):
            web_.set_route(f"/w{i}", visits.page("web"))
            ids.append(pipeline.add(web_.url(f"/w{i}"), due_in=0, interval=3600))
        pipeline.scheduler.wake()
        async with asyncio.timeout(10):
            while len(pipeline.checked) < 4:  # four checks ended (not only began)
                await asyncio.sleep(0.01)
        checked = utcnow()
        store = pipeline.store
    # The block ended: the pipeline was cancelled and stopped.
    for aid in ids:
        article = store.articles.get(aid)
        assert article is not None and article.last_checked_at is not None
        assert article.next_check_at > checked + timedelta(minutes=59), (aid, article.next_check_at)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_two_pipelines_sharing_a_database_never_check_one_article_twice(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """Two schedulers (as two processes) claiming ahead from one database: each of 30 articles
    due within the same second is checked once, by one of them."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    if backend == "postgres":
        url = request.getfixturevalue("postgres_server").create_database("shared")
    visits = Visits()
    async with (
        running(tmp_path, url, write_behind=True, concurrency=4, **HOURLY) as first,
        running(tmp_path, url, write_behind=True, concurrency=4, **HOURLY) as second,
        ArticleServer("127.0.0.1") as one,
        ArticleServer("127.0.0.2") as two,
    ):
        for i in range(30):
            server = one if i % 2 else two
            server.set_route(f"/t{i}", visits.page(f"s{i % 2}", delay=0.02))
            first.add(server.url(f"/t{i}"), due_in=0.2 + i / 50, interval=3600)
        first.scheduler.wake()
        second.scheduler.wake()
        for i in range(30):
            await visits.until(f"s{i % 2}/t{i}", 1)
        # A later event both could take: when it was checked, every earlier claim was made.
        one.set_route("/last", visits.page("s1"))
        first.add(one.url("/last"), due_in=0, interval=3600)
        first.scheduler.wake()
        second.scheduler.wake()
        await visits.until("s1/last", 1)
        counts = {path: len(times) for path, times in visits.times.items()}
        assert counts == {**{f"s{i % 2}/t{i}": 1 for i in range(30)}, "s1/last": 1}
        assert first.scheduler.claims and second.scheduler.claims


async def test_an_article_waiting_for_its_site_starts_when_due_after_the_site_frees(tmp_path: Path) -> None:
    """Three articles of one site claimed together, the third due after the first two's checks
    ended (per_site_limit 2): the third starts when due. The pipeline's sleep was set while the
    site was full, so the checks ending must set a new one (it once slept until monitor.tick)."""
    visits = Visits()
    async with running(tmp_path, per_site_limit=2, **HOURLY) as pipeline, ArticleServer() as web_:
        for name in ("first", "second"):
            web_.set_route(f"/{name}", visits.page("web", delay=0.1))
            pipeline.add(web_.url(f"/{name}"), due_in=0, interval=3600)
        web_.set_route("/third", visits.page("web"))
        due_at = time.monotonic() + 0.6
        pipeline.add(web_.url("/third"), due_in=0.6, interval=3600)
        pipeline.scheduler.wake()
        await visits.until("web/third", 1, timeout=5)
        assert visits.peak == {"web": 2}
        assert -0.05 <= visits.times["web/third"][0] - due_at < 0.4
