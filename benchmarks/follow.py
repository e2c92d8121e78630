"""The follow mode of ``make bench``: N articles arrive through followed feeds.

    python -m benchmarks.monitor follow --n 200 --feeds 4 --chats 3

In one process, on SQLite: a local server serves ``--feeds`` RSS feeds and the corpus pages as
articles; ``--chats`` chats follow every feed. The feeds grow in rounds (a tenth of N per
round, spread over the feeds) and the follow service polls them as its schedule would, with
the clock moved past ``monitor.follow_interval`` each round. Then every article is checked
once (mode (a): unchanged, a 304), as the scheduler would. Reported side by side, in wall time
and CPU (process time, the parse thread included): a feed fetch (304, or 200 with new items,
parse included), an article's first read (fetch + extraction, once however many chats), and
an article check.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.config import Settings, with_overrides
from bot.core.feeds import parse_feed
from bot.net.fetch import Fetcher, FetchPolicy
from bot.service.check import Checker
from bot.service.follow import FollowArgs, FollowService
from bot.service.pages import PageReader, fetch_source
from bot.service.parse_thread import ParseThread
from bot.service.track import TrackService
from bot.storage.engine import make_engine
from bot.storage.models import utcnow
from bot.storage.store import Storage
from tests.fakes.web import ArticleServer
from tests.feeds import RSS_TYPE, rss


@dataclass
class Cost:
    count: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall: float, cpu: float, count: int = 1) -> None:
        self.count += count
        self.wall += wall
        self.cpu += cpu

    def line(self, label: str) -> str:
        n = max(self.count, 1)
        wall, cpu = 1000 * self.wall / n, 1000 * self.cpu / n
        return f"  {label:34} {self.count:6d} × {wall:7.2f} ms wall {cpu:7.2f} ms CPU each"


async def follow_bench(n: int, feeds: int, chats: int, pages: list[bytes]) -> dict[str, Cost]:
    settings = with_overrides(
        Settings(),
        monitor={"allow_private_addresses": True, "timeout": 10},
        limits={"max_articles_per_chat": n + 1, "max_follows_per_chat": feeds},
    )
    costs = {
        "feed fetch, 304": Cost(),
        "feed fetch + parse, 200": Cost(),
        "article brought (read once + subs)": Cost(),
        "article check, 304": Cost(),
    }
    with tempfile.TemporaryDirectory(prefix="redline-follow-bench-") as tmp:
        store = Storage(make_engine(f"sqlite:///{Path(tmp) / 'follow.db'}"))
        store.upgrade_schema()
        parser = ParseThread()
        async with ArticleServer() as web, Fetcher(FetchPolicy.from_settings(settings.monitor)) as fetcher:
            reader = PageReader(fetcher, parser)
            service = FollowService(store, reader, TrackService(store.articles, reader, settings), settings)
            listed: list[list[tuple[str, str]]] = [[] for _ in range(feeds)]
            for f in range(feeds):
                web.set_page(f"/feed/{f}.xml", rss(f"Feed {f}", []), content_type=RSS_TYPE, etag=True)
            for chat in range(chats):
                store.chats.ensure(1000 + chat, "private")
                for f in range(feeds):
                    await service.follow(1000 + chat, FollowArgs(web.url(f"/feed/{f}.xml")))
            now = utcnow()
            step = max(1, n // 10)
            for start in range(0, n + 3 * step, step):  # then three rounds with nothing new
                grown = set()
                for i in range(start, min(n, start + step)):
                    path = f"/news/2026/dec/07/article-number-{i}-of-the-bench"
                    web.set_page(path, pages[i % len(pages)], etag=True)
                    listed[i % feeds].insert(0, (web.url(path), f"Article {i}"))
                    grown.add(i % feeds)
                for f in grown:
                    web.set_page(
                        f"/feed/{f}.xml", rss(f"Feed {f}", listed[f]), content_type=RSS_TYPE, etag=True
                    )
                now += timedelta(seconds=settings.monitor.follow_interval + 1)
                for feed in await asyncio.to_thread(store.follows.due, now):
                    # The feed alone (fetch + parse, as a poll does it), then the poll that
                    # brings its new items (the feed again, answered 304 or not, + the articles).
                    wall, cpu = time.perf_counter(), time.process_time()
                    page = await fetch_source(reader, feed.url, feed.etag, feed.last_modified)
                    if not page.not_modified:
                        await parser.run(parse_feed, page.html, page.url)
                    kind = "feed fetch, 304" if page.not_modified else "feed fetch + parse, 200"
                    costs[kind].add(time.perf_counter() - wall, time.process_time() - cpu)
                    wall, cpu = time.perf_counter(), time.process_time()
                    brought = await service.poll_feed(feed, now)
                    if brought:
                        spent = (time.perf_counter() - wall, time.process_time() - cpu)
                        per_chat = brought // chats or 1
                        costs["article brought (read once + subs)"].add(*spent, count=per_chat)
            checker = Checker(store, reader, settings.monitor)
            for row in await asyncio.to_thread(store.articles.tracked, 1000):
                wall, cpu = time.perf_counter(), time.process_time()
                await checker.check(row.article, now)
                costs["article check, 304"].add(time.perf_counter() - wall, time.process_time() - cpu)
        parser.close()
        store.engine.dispose()
    return costs


def report(n: int, feeds: int, chats: int, costs: dict[str, Cost]) -> None:
    print(f"\n== follow: {n} articles arrive through {feeds} followed feeds, {chats} chats follow each ==")
    for label, cost in costs.items():
        print(cost.line(label))
    feed_cpu = costs["feed fetch, 304"].cpu + costs["feed fetch + parse, 200"].cpu
    article_cpu = costs["article brought (read once + subs)"].cpu + costs["article check, 304"].cpu
    share = feed_cpu / (feed_cpu + article_cpu) if feed_cpu + article_cpu else 0.0
    print(
        f"  feed fetches: {100 * share:.1f}% of the CPU of feeds + bringing + one check of what they brought"
    )
