"""No crash from parsing: a real `redline run` process checks many real corpus pages at once,
each fetch bringing new bytes (as news sites serve them, so every check extracts), while eight
chats /track more at the same time. Before the parse thread, extractions ran in several threads
at once: 16 concurrent ``asyncio.to_thread(extract, …)`` over these pages with counters like
these aborted the process (SIGABRT) in 2 of 3 ten-second runs on a busy 2-core machine, 0 of 8
on a quieter one; the bot on the old code passed this test in 8 runs of 8, so it guards the
design (the process survives the load) rather than reproducing the rare race every time. The
second test checks the invariant itself on every run, and fails at once with a pool of threads."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import trafilatura
from aiohttp import web

from bot.core.extract import extract
from bot.net.urls import url_key
from bot.service.parse_thread import THREAD_NAME
from bot.storage.articles import PageMeta
from bot.storage.engine import make_engine
from bot.storage.models import utcnow
from bot.storage.store import Storage
from tests.conftest import RunningBots
from tests.corpus import corpus_or_skip
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer, Handler
from tests.pages import PUTIN_P1_V1, PUTIN_REST, PUTIN_V1, article_html
from tests.test_cli import bot_env, redline_process

CHATS = 8
ARTICLES = 16
CHECKS = 30  # monitor fetches (each one an extraction) after every /track was answered


# Counters, timestamps and labels in many scripts: libxml2 keeps short text nodes in a string
# dictionary shared across threads, so fresh ones on every fetch are what corrupted it.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789éüßøñ漢字かなカナ한글ÆÐΩЖЯ"


def changing_page(html: str, served: list[int]) -> Handler:
    """The same article with 300 small counters that change on every fetch (counted in
    ``served[0]``), as news pages do: no cheap path applies, every check extracts."""
    rng = random.Random(len(html))

    async def handler(request: web.Request) -> web.StreamResponse:
        served[0] += 1
        counters = "".join(f"<span>{''.join(rng.choices(_ALPHABET, k=3))}</span>" for _ in range(300))
        body = html.replace("</body>", f"<aside>{counters}</aside></body>", 1).encode()
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    return handler


async def test_concurrent_checks_and_tracks_of_real_pages_never_crash_the_process(
    telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    corpus = corpus_or_skip()
    pages = sorted((corpus / "pages").glob("*/v*.html"))[::6]  # ~37 pages, from every site
    served = [0]
    sources = {}
    for i, page in enumerate(itertools.islice(itertools.cycle(pages), ARTICLES)):
        sources[f"/p{i}"] = page.read_bytes().decode("utf-8", errors="replace")
        articles.set_route(f"/p{i}", changing_page(sources[f"/p{i}"], served))
    paths = list(sources)
    database = f"sqlite:///{tmp_path / 'redline.db'}"
    env = bot_env(
        telegram,
        database,
        REDLINE_LOGGING_LEVEL="INFO",
        REDLINE_MONITOR_CONCURRENCY="16",
        REDLINE_MONITOR_PER_SITE_LIMIT="16",
    )
    log = tmp_path / "redline.log"
    # Half the articles are tracked already and due when the bot starts: a burst of checks at
    # once on a fresh process; the other half are /tracked while those checks run.
    store = Storage(make_engine(database))
    store.upgrade_schema()
    tracked, to_track = paths[: len(paths) // 2], paths[len(paths) // 2 :]
    for i, path in enumerate(tracked):
        snapshot = extract(sources[path], articles.url(path))
        store.chats.ensure(2000 + i, "private")
        store.articles.track(
            2000 + i,
            url=articles.url(path),
            url_key=url_key(articles.url(path)),
            site=f"site{i}",
            title=snapshot.title,
            content=snapshot.to_dict(),
            content_hash=snapshot.content_hash,
            meta=PageMeta(),
            interval=1,
            now=utcnow() - timedelta(seconds=5),
        )
    store.engine.dispose()

    async def track_share(chat: int) -> list[str]:
        share = to_track[chat::CHATS]
        return [
            (await telegram.ask(1000 + chat, f"/track {articles.url(p)}", timeout=60)).text for p in share
        ]

    async with redline_process("run", env, log) as proc:
        replies = [r for rs in await asyncio.gather(*(track_share(c) for c in range(CHATS))) for r in rs]
        assert sum(r.startswith("👀 Tracking #") for r in replies) >= len(to_track) // 2, replies
        target = served[0] + CHECKS
        async with asyncio.timeout(60):
            while served[0] < target and proc.returncode is None:
                await asyncio.sleep(0.1)
    text = log.read_text()
    assert "Traceback" not in text and "check_crashed" not in text
    assert text.count("outcome=") >= CHECKS // 2


async def test_no_two_extractions_ever_run_at_once_in_one_process(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invariant behind "no crash", checked every time rather than waiting for the rare
    abort: trafilatura's entry point (the library's, not the bot's) is watched while eight chats
    /track and the monitor re-reads 16 pages whose bytes change on every fetch, 16 checks at a
    time. Each call is held 5 ms so two overlapping callers cannot miss each other: with
    extraction in a thread pool (the old code) the peak is above one within the first calls."""
    real = trafilatura.bare_extraction
    lock = threading.Lock()
    inside, peak, calls = [0], [0], [0]
    threads: set[str] = set()

    def watched(*args: Any, **kwargs: Any) -> Any:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            calls[0] += 1
            threads.add(threading.current_thread().name)
        try:
            time.sleep(0.005)
            return real(*args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(trafilatura, "bare_extraction", watched)
    served = [0]
    paths = [f"/story{i}" for i in range(ARTICLES)]
    for i, path in enumerate(paths):
        page = article_html(f"Story {i}: {PUTIN_V1}", [f"Paragraph of story {i}. {PUTIN_P1_V1}", *PUTIN_REST])
        articles.set_route(path, changing_page(page.replace("</body>", "<p>Seen 0 times</p></body>"), served))
    await bots.start(concurrency=16, per_site_limit=16)

    async def track_share(chat: int) -> None:
        for path in paths[chat::CHATS]:
            reply = await telegram.ask(1000 + chat, f"/track {articles.url(path)}", timeout=60)
            assert reply.text.startswith("👀 Tracking #"), reply.text

    await asyncio.gather(*(track_share(c) for c in range(CHATS)))
    target = calls[0] + CHECKS
    async with asyncio.timeout(60):
        while calls[0] < target:
            await asyncio.sleep(0.05)
    assert peak[0] == 1, f"{peak[0]} extractions ran at once in threads {sorted(threads)}"
    assert len(threads) == 1 and next(iter(threads)).startswith(THREAD_NAME), sorted(threads)
