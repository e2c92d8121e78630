"""Months of use on a SQLite file in a few minutes, to see what the database costs over time.

    python -m benchmarks.retention                # 10 months, ~10 new articles a day at full pace
    python -m benchmarks.retention --days 120 --per-day 5

A simulated clock drives the bot's own store and retention code (no network, no Telegram): every
day new articles are tracked by two chats each, edited a few times in their first days (each
edit a real diff, rendered as the announcement, queued for both chats and then marked sent
through the outbox), checked all day (counted by the same ``CheckCounter`` the monitor uses,
flushed hourly; a check rewrites the article row in place, once a day here), untracked after
``--lifetime`` days, and pruned once a day. The pace of new articles ramps up over the first
``--ramp`` days and then holds, so the tracked set grows and then stops growing. The figures:
the file's size at the end of each month, and what one tracked article costs per month.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from bot.config import DatabaseSettings
from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.core.policy import Outcome
from bot.messages.announcement import MessageContext, render_announcement, render_plain
from bot.storage.articles import PageMeta
from bot.storage.engine import make_engine
from bot.storage.models import Article, Delivery, DeliveryKind, DeliveryStatus, Version
from bot.storage.outbox import NewDelivery
from bot.storage.retention import Retention
from bot.storage.stats import CheckCounter
from bot.storage.store import Storage

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
CHATS = 40
CHECKS_PER_DAY = 288  # one every five minutes (monitor.interval = 300)

VOCABULARY = (
    "the minister said on tuesday that government officials would meet again next week after talks "
    "in the capital broke down over the budget while opposition leaders accused ministers of "
    "delaying a vote on reforms that economists say could cut inflation by two points and "
    "protesters gathered outside parliament as police closed several streets near the square"
)
WORDS = VOCABULARY.split()


@dataclass
class Live:
    """An article being followed: who tracks it as which number, and its latest text."""

    article_id: int
    snapshot: Snapshot
    subscribers: list[tuple[int, int]]  # (chat, number)
    tracked_on: int  # day
    edits_on: list[int] = field(default_factory=list)  # days


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def new_snapshot(rng: random.Random, paragraphs: int) -> Snapshot:
    """A headline and ``paragraphs`` paragraphs of about 330 characters, like a news page."""
    return Snapshot(sentence(rng, 10), tuple(sentence(rng, 50) for _ in range(paragraphs)))


def edited(rng: random.Random, old: Snapshot) -> Snapshot:
    """One paragraph rewritten in part, sometimes the headline too."""
    paragraphs = list(old.paragraphs)
    i = rng.randrange(len(paragraphs))
    words = paragraphs[i].split()
    for _ in range(5):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    paragraphs[i] = " ".join(words)
    title = sentence(rng, 10) if rng.random() < 0.3 else old.title
    return Snapshot(title, tuple(paragraphs))


def file_size(path: Path) -> int:
    """The database file after a checkpoint (the WAL folded in), as it would be backed up."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def count(store: Storage, model: type) -> int:
    with Session(store.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


class Simulation:
    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.store = Storage(make_engine(f"sqlite:///{path}"))
        self.store.upgrade_schema()
        self.retention = Retention(self.store.engine, DatabaseSettings())
        self.counter = CheckCounter()
        self.live: list[Live] = []
        self.serial = 0
        self.pruned_articles = 0
        for chat in range(1, CHATS + 1):
            self.store.chats.ensure(chat, "private")

    def track(self, day: int, now: datetime) -> None:
        self.serial += 1
        snapshot = new_snapshot(self.rng, self.args.paragraphs)
        key = f"news.example/{self.serial}"
        subscribers = []
        for chat in self.rng.sample(range(1, CHATS + 1), 2):
            result = self.store.articles.track(
                chat,
                url=f"https://{key}",
                url_key=key,
                site="news.example",
                title=snapshot.title,
                content=snapshot.to_dict(),
                content_hash=snapshot.content_hash,
                meta=PageMeta(etag=f'"{self.serial}"'),
                interval=300,
                now=now,
            )
            subscribers.append((chat, result.number))
        assert result.article.id is not None
        edit_days = sorted(day + self.rng.randrange(self.args.edit_window) for _ in range(self.args.edits))
        self.live.append(Live(result.article.id, snapshot, subscribers, day, edit_days))

    def edit(self, item: Live, now: datetime) -> None:
        new = edited(self.rng, item.snapshot)
        changes = diff_snapshots(item.snapshot, new)
        deliveries = []
        for chat, number in item.subscribers:
            ctx = MessageContext(
                site="news.example",
                url=f"https://news.example/{item.article_id}",
                title=new.title,
                old_version=1,
                new_version=2,
                elapsed=timedelta(hours=3),
                article_number=number,
            )
            text, plain = render_announcement(changes, ctx), render_plain(changes, ctx)
            deliveries.append(NewDelivery(chat, DeliveryKind.EDIT, text=text, plain=plain))
        self.store.articles.store_version(
            item.article_id,
            title=new.title,
            content=new.to_dict(),
            content_hash=new.content_hash,
            summary="1 paragraph edited",
            deliveries=deliveries,
            article_fields={"title": new.title, "last_changed_at": now},
            now=now,
        )
        item.snapshot = new

    def send_all(self, now: datetime) -> None:
        """The outbox as the sender works it: claim, then mark each one sent."""
        while claimed := self.store.outbox.claim_pending(now, 100):
            for d in claimed:
                assert d.id is not None
                self.store.outbox.finish(d.id, DeliveryStatus.SENT)

    def checks(self, now: datetime) -> None:
        """A day of checks: counted hour by hour, and each tracked article's row rewritten."""
        per_hour = len(self.live) * CHECKS_PER_DAY // 24
        for hour in range(24):
            at = now + timedelta(hours=hour)
            for _ in range(per_hour):
                self.counter.add(Outcome.NOT_MODIFIED if self.rng.random() < 0.9 else Outcome.SAME, at)
            self.counter.flush(self.store.engine)
        fields = {"last_checked_at": now + DAY, "next_check_at": now + DAY + timedelta(minutes=5)}
        self.store.queue.update_articles([(item.article_id, fields) for item in self.live])

    def day(self, day: int) -> None:
        now = START + day * DAY
        pace = self.args.per_day * min(1.0, (day + 1) / self.args.ramp)
        for _ in range(int(pace) + (self.rng.random() < pace % 1)):
            self.track(day, now)
        for item in self.live:
            for _ in range(item.edits_on.count(day)):
                self.edit(item, now + timedelta(hours=self.rng.randrange(1, 23)))
        self.send_all(now + timedelta(hours=23))
        self.checks(now)
        for item in [i for i in self.live if day - i.tracked_on >= self.args.lifetime]:
            for chat, number in item.subscribers:
                self.store.articles.untrack(chat, number, now=now)
            self.live.remove(item)
        self.pruned_articles += self.retention.prune(now + timedelta(hours=23, minutes=30)).articles


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=int, default=300)
    p.add_argument("--per-day", type=float, default=10.0, help="new articles a day at full pace")
    p.add_argument("--ramp", type=int, default=60, help="days until the full pace")
    p.add_argument("--lifetime", type=int, default=14, help="days an article stays tracked")
    p.add_argument("--edits", type=int, default=4, help="edits per article")
    p.add_argument("--edit-window", type=int, default=3, help="days after tracking the edits fall in")
    p.add_argument("--paragraphs", type=int, default=12)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--db", type=Path, help="keep the database here (default: a temporary file)")
    args = p.parse_args()
    settings = DatabaseSettings()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "redline.db"
        sim = Simulation(path, args)
        print(
            f"Simulating {args.days} days: up to {args.per_day:g} new articles a day (full pace from day "
            f"{args.ramp}), 2 chats each, {args.edits} edits, tracked {args.lifetime} days; "
            f"keep_sent_days={settings.keep_sent_days}, keep_untracked_days={settings.keep_untracked_days}"
        )
        print(
            f"{'day':>4} {'tracked':>7} {'new':>4} {'stored':>6} {'versions':>8} {'deliveries':>10} "
            f"{'file bytes':>10} {'growth':>10} {'growth/new':>10} {'file/tracked':>12}"
        )
        started, last_size, last_serial = time.monotonic(), file_size(path), 0
        for day in range(args.days):
            sim.day(day)
            if (day + 1) % 30 == 0 or day + 1 == args.days:
                size, tracked, new = file_size(path), len(sim.live), sim.serial - last_serial
                print(
                    f"{day + 1:>4} {tracked:>7} {new:>4} {count(sim.store, Article):>6} "
                    f"{count(sim.store, Version):>8} {count(sim.store, Delivery):>10} {size:>10} "
                    f"{size - last_size:>+10} {(size - last_size) // max(new, 1):>+10} "
                    f"{size // max(tracked, 1):>12}"
                )
                last_size, last_serial = size, sim.serial
        print(
            f"{sim.serial} articles tracked in all, {sim.pruned_articles} deleted by retention; "
            f"{time.monotonic() - started:.0f} s. 'growth/new': bytes the month added per article "
            "first tracked in it; 0 once retention deletes as much as new articles add."
        )
        sim.store.engine.dispose()


if __name__ == "__main__":
    main()
