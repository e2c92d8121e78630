"""Fan-outs to many chats by real `redline` processes: stopped, killed, joined by a second
process, or flooded mid-way. Each chat gets its announcement; the figures are printed."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.db import make_engine
from bot.extract import extract
from bot.models import DeliveryStatus
from bot.store import PageMeta, Store
from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2
from tests.test_cli import bot_env, redline_process

LEASE = "2"  # seconds: a killed process's messages are taken back this soon


def seed_audience(database_url: str, telegram: FakeTelegram, url: str, chats: range) -> None:
    """Every chat already tracks the article at ``url`` (as after /track), version 1 stored."""
    snapshot = extract(article_html(), url)
    store = Store(make_engine(database_url))
    try:
        store.create_schema()
        for chat_id in chats:
            telegram.add_chat(chat_id)
            store.ensure_chat(chat_id, "private", f"user{chat_id}")
            store.track(
                chat_id,
                url=url,
                url_key=url.split("://", 1)[1],
                site="127.0.0.1",
                title=snapshot.title,
                content=snapshot.to_dict(),
                content_hash=snapshot.content_hash,
                meta=PageMeta(),
                interval=1,
            )
    finally:
        store.engine.dispose()


def outbox(database_url: str) -> Counter[str]:
    store = Store(make_engine(database_url))
    try:
        return Counter(d.status for d in store.deliveries())
    finally:
        store.engine.dispose()


def received(telegram: FakeTelegram, chats: range) -> Counter[int]:
    return Counter(m.chat_id for m in telegram.sent if m.chat_id in chats and "<b>cancels</b>" in m.text)


async def until(condition: object, timeout: float, what: str) -> None:
    """Poll a condition of what the fake recorded (every 50 ms) until it holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


@asynccontextmanager
async def edited_story(
    telegram: FakeTelegram, articles: ArticleServer, database_url: str, chats: range
) -> AsyncIterator[dict[str, str]]:
    """The article every chat tracks, already edited: the first check announces it."""
    articles.set_page("/story", article_html())
    seed_audience(database_url, telegram, articles.url("/story"), chats)
    articles.set_page("/story", putin_v2())
    yield bot_env(telegram, database_url, REDLINE_TELEGRAM_SEND_LEASE=LEASE, REDLINE_LOGGING_LEVEL="INFO")


async def start(command: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = log.open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command, stdout=out, stderr=out, env=env, cwd=log.parent
    )


async def test_sigterm_mid_fanout_exits_fast_and_loses_nothing(
    telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    chats = range(10_001, 10_101)
    url = f"sqlite:///{tmp_path / 'redline.db'}"
    async with edited_story(telegram, articles, url, chats) as env:
        log = tmp_path / "run.log"
        proc = await start("run", env, log)
        await until(lambda: len(received(telegram, chats)) >= 20, 60, "a fifth of the fan-out")
        loop = asyncio.get_running_loop()
        asked = loop.time()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
        took = loop.time() - asked
        at_stop = sum(received(telegram, chats).values())
        rows = outbox(url)
        print(f"\nSIGTERM: exit {code} after {took:.2f} s; {at_stop}/100 sent; outbox {dict(rows)}")
        assert code == 0, log.read_text()[-3000:]
        assert took < 2.0
        assert at_stop < len(chats)  # it stopped mid-way
        # Every message is recorded as sent or waits for the next start; none is held.
        assert rows == Counter({DeliveryStatus.SENT: at_stop, DeliveryStatus.PENDING: len(chats) - at_stop})
        async with redline_process("run", env, tmp_path / "run2.log"):
            await until(lambda: len(received(telegram, chats)) == len(chats), 60, "the rest")
            await until(lambda: outbox(url) == Counter({DeliveryStatus.SENT: len(chats)}), 10, "recorded")
    assert received(telegram, chats) == Counter(dict.fromkeys(chats, 1))


async def test_sigkill_mid_fanout_then_restart_repeats_at_most_the_messages_in_flight(
    telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    chats = range(20_001, 20_201)
    url = f"sqlite:///{tmp_path / 'redline.db'}"
    async with edited_story(telegram, articles, url, chats) as env:
        proc = await start("run", env, tmp_path / "run.log")
        try:
            await until(lambda: len(received(telegram, chats)) >= 60, 60, "60 of the fan-out")
        finally:
            proc.kill()
            await proc.wait()
        at_kill = len(received(telegram, chats))
        async with redline_process("run", env, tmp_path / "run2.log"):
            await until(lambda: len(received(telegram, chats)) == len(chats), 60, "every chat")
            await until(lambda: set(outbox(url)) == {DeliveryStatus.SENT}, 10, "the outbox drained")
    per_chat = received(telegram, chats)
    repeated = sum(n - 1 for n in per_chat.values())
    print(f"\nSIGKILL after {at_kill}/200 chats: every chat served, {repeated} repeated")
    assert set(per_chat) == set(chats)
    assert repeated <= 8  # telegram.send_concurrency: at most the messages in flight at the kill


async def test_second_process_joining_mid_fanout_sends_nothing_twice(
    telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    chats = range(30_001, 30_101)
    url = f"sqlite:///{tmp_path / 'redline.db'}"
    worker_log = tmp_path / "worker.log"
    async with (
        edited_story(telegram, articles, url, chats) as env,
        redline_process("run", env, tmp_path / "run.log"),
    ):
        await until(lambda: len(received(telegram, chats)) >= 10, 60, "the fan-out under way")
        telegram.hold_answers()  # the first process's messages stay in flight while the second starts
        async with redline_process("worker", env, worker_log):
            await until(lambda: "sender_started" in worker_log.read_text(), 60, "the worker up")
            at_join = len(received(telegram, chats))
            # The worker's first messages go out (and are held) beside the first process's.
            await until(lambda: len(received(telegram, chats)) > at_join, 30, "the worker sending")
            telegram.release_answers()
            await until(lambda: len(received(telegram, chats)) == len(chats), 60, "every chat")
            await until(lambda: set(outbox(url)) == {DeliveryStatus.SENT}, 10, "the outbox drained")
    by_worker = worker_log.read_text().count(" sent delivery=")
    print(f"\nsecond process: joined after {at_join}/{len(chats)} chats and sent {by_worker} of them")
    assert at_join < len(chats)
    assert received(telegram, chats) == Counter(dict.fromkeys(chats, 1))


async def test_429_storm_mid_fanout_holds_every_chat_and_delivers_each_once(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """Telegram floods the bot after 5 of 30 messages: no call to any chat arrives until the
    retry_after it gave has passed (only the requests already on their way), then all 30
    are delivered exactly once."""
    chats = range(40_001, 40_031)
    url = f"sqlite:///{bots.db_path}"
    async with edited_story(telegram, articles, url, chats):
        telegram.flood(1.5, after_sends=5)
        await bots.start()
        await until(lambda: len(received(telegram, chats)) == len(chats), 60, "every chat")
    first, retry_after = telegram.flood_answers[0]
    chat_calls = [
        t for t, (_m, p) in zip(telegram.request_times, telegram.requests, strict=True) if "chat_id" in p
    ]
    during = [t for t in chat_calls if first < t < first + retry_after]
    print(
        f"\n429 storm: {len(telegram.flood_answers)} answered 429 (retry_after {retry_after} s), "
        f"{len(during)} more calls to chats during it, all within {max(during, default=first) - first:.3f} s "
        f"of the first 429; {sum(received(telegram, chats).values())} delivered to {len(chats)} chats"
    )
    assert all(t < first + 0.1 for t in during)  # only requests already on their way
    assert received(telegram, chats) == Counter(dict.fromkeys(chats, 1))
