"""The bot under measurement: real ``redline run`` / ``redline worker`` processes.

Each runs with its own config file on a database filled beforehand through
``Storage.articles.track`` exactly as /track fills it, talking to the fake Bot API of
tests/fakes/telegram_api.py (served from a thread of the benchmark: its CPU is not the bot's).
Checks are counted from the bot's own ``check article=… outcome=…`` log lines; CPU is read from
/proc for the process tree (exited children included), and for any extra process tree named
(the PostgreSQL server); peak RSS is the sum of VmHWM over the tree.

Two regimes: saturated (every article due every second, more than the bot can check: it runs
flat out) and steady (N articles due every ``interval``, their due times spread evenly over the
interval once the bot has started; the bot must keep up: checks/s close to N/interval and no
article waiting long past its due time, sampled from the database through the window).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.pages import PageServer, corpus_pages
from benchmarks.proc import tree_cpu, tree_peak_rss_mb
from benchmarks.report import FAILED_OUTCOMES, Figures

CHATS = 20  # the articles are spread over this many chats, as a public bot's would be
CHECK_LINE = re.compile(r" check article=\d+ outcome=(\w+)")
CRASHED_LINE = re.compile(r" check_crashed article=")
# The bot's own errors (its loggers are redline.*): trafilatura logs pages it cannot parse at
# ERROR, which is no failure of a check.
ERROR_LINE = re.compile(r" level=(?:ERROR|CRITICAL) logger=redline")
STARTED_LINE = re.compile(r" started bot=")
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
# Keeping up, in the steady regime: at least this share of N/interval checks per second ...
KEEP_UP_RATE = 0.85
# ... and no article still unclaimed this long (seconds, or a quarter interval if longer) after
# its due time.
KEEP_UP_LAG = 1.0


class FakeBotApi:
    """tests/fakes/telegram_api.py's server on its own event loop in a thread of this process."""

    def __init__(self, chat_ids: list[int]) -> None:
        from tests.fakes.telegram_api import FakeTelegram

        self.fake = FakeTelegram()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(30)
        for chat_id in chat_ids:
            self.fake.add_chat(chat_id)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def chat_ids() -> list[int]:
    return [900_001 + k for k in range(CHATS)]


# What /track learns of each corpus page (the fetched page, its extraction and fingerprint),
# by corpus slot: computed once per benchmark run.
Tracked = dict[int, tuple[Any, Any, str]]


def populate(
    database_url: str, server: PageServer, n: int, known: Tracked, start: int = 0, interval: int = 1
) -> None:
    """Track URLs ``start``..N-1 as /track does: fetch, extract, store version 1 and the meta.

    URL i serves corpus page i % len(corpus) with the same bytes (and ETag, in mode a) as every
    other URL of that page, and extraction reads nothing the per-fetch noise changes: each
    corpus page is fetched, extracted and fingerprinted once into ``known``, not once per URL.
    """
    from bot.config import MonitorSettings
    from bot.core.extract import extract
    from bot.core.fingerprint import fingerprint
    from bot.net.fetch import Fetcher, FetchPolicy
    from bot.net.urls import site_name, url_key
    from bot.storage.articles import PageMeta
    from bot.storage.engine import make_engine
    from bot.storage.store import Storage

    store = Storage(make_engine(database_url))
    store.upgrade_schema()
    chats = chat_ids()
    for chat_id in chats:
        store.chats.ensure(chat_id, "private")
    n_pages = len(corpus_pages())
    missing = [slot for slot in range(min(n, n_pages)) if slot not in known]
    if missing:
        policy = FetchPolicy.from_settings(
            MonitorSettings(allow_private_addresses=True, allowed_ports=(server.port,))
        )

        async def fetch_all() -> list[Any]:
            async with Fetcher(policy) as fetcher:
                return [await fetcher.fetch(server.url(slot)) for slot in missing]

        for slot, page in zip(missing, asyncio.run(fetch_all()), strict=True):
            known[slot] = (page, extract(page.html, page.url), fingerprint(page.html))
    for i in range(start, n):
        page, snapshot, printed = known[i % n_pages]
        url = server.url(i)
        store.articles.track(
            chats[i % len(chats)],
            url=url,
            url_key=url_key(url),
            site=site_name(url),
            title=snapshot.title,
            content=snapshot.to_dict(),
            content_hash=snapshot.content_hash,
            meta=PageMeta(page.etag, page.last_modified, page.body_hash, printed),
            interval=interval,
            # as /track stores them: without a headline carrier or a canonical key, every first
            # check is the one-time full read that adopts them (an upgraded database's articles)
            headline_carrier=snapshot.carrier,
            canonical_key=url_key(url),
        )
    store.engine.dispose()


def write_config(
    path: Path,
    database_url: str,
    api: FakeBotApi,
    server: PageServer,
    monitor: list[str],
    interval: int = 1,
) -> None:
    """The bot's config file; ``monitor`` adds ``KEY=VALUE`` lines (TOML values) to [monitor]."""
    extra = "".join(f"{line.strip()}\n" for line in monitor)
    path.write_text(
        f"""[telegram]
token = "{api.fake.token}"
base_url = "{api.fake.base_url}"
base_file_url = "{api.fake.base_file_url}"

[database]
url = "{database_url}"

[monitor]
interval = {interval}
min_interval = {interval}
max_interval = {interval}
allow_private_addresses = true
allowed_ports = [{server.port}]
{extra}
[logging]
level = "INFO"
"""
    )


@dataclass(frozen=True)
class LogCounts:
    outcomes: Counter[str]
    crashed: int
    errors: int
    started: bool
    first_error: str

    @property
    def failed(self) -> int:
        return sum(self.outcomes[o] for o in FAILED_OUTCOMES) + self.crashed


def read_log(log: Path) -> LogCounts:
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        text = ""
    return LogCounts(
        Counter(CHECK_LINE.findall(text)),
        len(CRASHED_LINE.findall(text)),
        len(ERROR_LINE.findall(text)),
        bool(STARTED_LINE.search(text)),
        next((line for line in text.splitlines() if ERROR_LINE.search(line)), ""),
    )


class DueQueue:
    """The bench's own view of the bot's database: spreads due times, samples the backlog."""

    def __init__(self, database_url: str) -> None:
        from bot.storage.engine import make_engine

        self.engine = make_engine(database_url)

    def set_due(self, first: datetime | None, interval: float = 0.0) -> None:
        """Article k of N falls due at ``first + k * interval / N`` (None: far in the future)."""
        from sqlalchemy import bindparam, select, update

        from bot.storage.models import Article

        table = Article.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(select(table.c.id).order_by(table.c.id))]
            if not ids:
                return
            spread = [
                {
                    "b_id": aid,
                    "b_due": first + timedelta(seconds=k * interval / len(ids)) if first else FAR_FUTURE,
                }
                for k, aid in enumerate(ids)
            ]
            stmt = (
                update(table).where(table.c.id == bindparam("b_id")).values(next_check_at=bindparam("b_due"))
            )
            conn.execute(stmt, spread)

    def backlog(self) -> tuple[int, float]:
        """Articles due and not yet claimed, and how long the oldest of them has waited (s).

        A bot that claims ahead holds what it claimed in memory, unseen here: for it the
        checks/s against N/interval is what tells whether it keeps up."""
        from sqlalchemy import func, select

        from bot.storage.models import Article, utcnow

        table = Article.__table__  # type: ignore[attr-defined]
        now = utcnow()
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(table.c.next_check_at)).where(table.c.next_check_at <= now)
            ).one()
        if not count or oldest is None:
            return 0, 0.0
        if isinstance(oldest, str):
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return int(count), (now - oldest).total_seconds()

    def dispose(self) -> None:
        self.engine.dispose()


def start_bot(kind: str, config: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """``redline <kind> --config CONFIG`` (kind: run or worker), its output in a log file."""
    log = workdir / f"{kind}-{time.monotonic_ns()}.log"
    redline = Path(sys.executable).with_name("redline")
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [str(redline), kind, "--config", str(config)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env={k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")},
        )
    return proc, log


def stop_bots(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM, as ``docker stop`` sends it; killed after 30 s."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


@dataclass(frozen=True)
class Steady:
    """The steady regime: ``n`` articles, each due every ``interval`` seconds."""

    n: int
    interval: int

    @property
    def expected_rate(self) -> float:
        return self.n / self.interval


def run_bot(
    kind: str,
    config: Path,
    workdir: Path,
    *,
    warmup: float,
    duration: float,
    workers: int = 1,
    steady: Steady | None = None,
    database_url: str = "",
    also: tuple[int, ...] = (),
) -> Figures:
    """Start ``workers`` ``redline <kind>`` processes (kind: run or worker) and measure a window.

    Saturated (``steady`` None): the window starts ``warmup`` s after every process's first
    check. Steady: the articles are set far in the future until every process has started, then
    spread over one interval starting a scheduler tick later; the window starts ``warmup``
    after the first check. ``also``: more process trees whose CPU counts (the PostgreSQL
    server).
    """
    from bot.config import load_settings

    tick = load_settings(config, env={}).monitor.tick
    queue = DueQueue(database_url) if steady is not None else None
    if queue is not None:
        queue.set_due(None)
    started = [start_bot(kind, config, workdir) for _ in range(workers)]
    procs, logs = [p for p, _ in started], [log for _, log in started]

    def alive() -> None:
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise SystemExit(f"redline {kind} exited {p.returncode}:\n{log.read_text()[-3000:]}")

    def wait_for(what: str, ready: Any) -> None:
        deadline = time.monotonic() + 120
        while not all(ready(read_log(log)) for log in logs):
            alive()
            if time.monotonic() > deadline:
                raise SystemExit(f"redline {kind}: {what} not seen in 120 s")
            time.sleep(0.1)

    lags: list[float] = []
    backlogs: list[int] = []
    try:
        if queue is not None and steady is not None:
            from bot.storage.models import utcnow

            wait_for("'started'", lambda c: c.started)
            # its scheduler looked, found nothing due and sleeps a tick at most: spread the due
            # times from just after that, so the first round is as even as the next ones
            queue.set_due(utcnow() + timedelta(seconds=tick + 0.5), steady.interval)
        wait_for("a first check", lambda c: sum(c.outcomes.values()) > 0)
        time.sleep(warmup)  # steady: the due times are spread from the first round on
        before = [read_log(log).outcomes for log in logs]
        cpu0 = sum(tree_cpu(p.pid) for p in procs) + sum(tree_cpu(p) for p in also)
        t0 = time.monotonic()
        end = t0 + duration
        while (left := end - time.monotonic()) > 0:
            if queue is not None:
                count, lag = queue.backlog()
                backlogs.append(count)
                lags.append(lag)
            time.sleep(min(0.2, left))
        counts = [read_log(log) for log in logs]
        cpu1 = sum(tree_cpu(p.pid) for p in procs) + sum(tree_cpu(p) for p in also)
        t1 = time.monotonic()
        peak = sum(tree_peak_rss_mb(p.pid) for p in procs)
        alive()
    finally:
        stop_bots(procs)
        if queue is not None:
            queue.dispose()
    outcomes: Counter[str] = Counter()
    for c, b in zip(counts, before, strict=True):
        outcomes += c.outcomes - b
    fig = Figures(sum(outcomes.values()), t1 - t0, cpu1 - cpu0, peak, outcomes)
    fig.failed = sum(c.failed for c in counts)
    if fig.failed:
        fig.invalid.append(f"{fig.failed} failed checks")
    errors = sum(c.errors for c in counts)
    if errors:
        fig.invalid.append(f"{errors} ERROR log lines")
        fig.notes.append("first ERROR line: " + next(c.first_error for c in counts if c.first_error)[:300])
    if steady is not None:
        mean_backlog = sum(backlogs) / len(backlogs) if backlogs else 0.0
        worst_lag = max(lags, default=0.0)
        fig.notes.append(
            f"expected {steady.expected_rate:.1f} checks/s (N={steady.n} every {steady.interval} s); "
            f"due backlog mean {mean_backlog:.1f}, max {max(backlogs, default=0)}; "
            f"longest wait past due {worst_lag:.2f} s (due and unclaimed in the database)"
        )
        if fig.rate < KEEP_UP_RATE * steady.expected_rate:
            fig.invalid.append(f"did not keep up: {fig.rate:.0f} of {steady.expected_rate:.0f} checks/s")
        if worst_lag > max(KEEP_UP_LAG, steady.interval / 4):
            fig.invalid.append(f"did not keep up: an article waited {worst_lag:.1f} s past due")
    return fig


def run_idle(config: Path, workdir: Path, database_url: str, settle: float, duration: float) -> Figures:
    """``redline run`` with every article far in the future: CPU over ``duration`` s, once it
    has started and settled."""
    queue = DueQueue(database_url)
    queue.set_due(None)
    queue.dispose()
    proc, log = start_bot("run", config, workdir)
    try:
        deadline = time.monotonic() + 120
        while not read_log(log).started:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"redline run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        time.sleep(settle)
        cpu0, t0 = tree_cpu(proc.pid), time.monotonic()
        time.sleep(duration)
        cpu1, t1 = tree_cpu(proc.pid), time.monotonic()
        peak = tree_peak_rss_mb(proc.pid)
        counts = read_log(log)
    finally:
        stop_bots([proc])
    fig = Figures(sum(counts.outcomes.values()), t1 - t0, cpu1 - cpu0, peak, counts.outcomes)
    fig.failed = counts.failed
    if fig.checks:
        fig.invalid.append(f"{fig.checks} checks ran although none was due")
    return fig
