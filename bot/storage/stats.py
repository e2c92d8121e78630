"""The operator's view: what the bot holds, what it did in the last hour, how far behind it is.

``collect`` reads the figures in one short read-only session; ``format_stats`` (pure) turns
them into the text ``redline stats`` prints, and ``bot.ops.metrics`` serves the same figures to
Prometheus. Checks are counted by ``CheckCounter``: in memory per process, added to the
``check_count`` table in one transaction now and then instead of one extra write per check.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.policy import Outcome
from bot.messages.time import duration
from bot.storage.engine import read_session, session_scope
from bot.storage.models import Article, ArticleState, Chat, CheckCount, Delivery, DeliveryStatus, utcnow

BUCKET = timedelta(minutes=5)
WINDOW = timedelta(hours=1)

OUTCOME_LABELS = {
    Outcome.NOT_MODIFIED: "not modified (304)",
    Outcome.BODY_SAME: "same bytes",
    Outcome.FINGERPRINT_SAME: "same fingerprint",
    Outcome.SAME: "same text",
    Outcome.NOISE: "noise only",
    Outcome.CHANGED: "changed",
    Outcome.SHRUNK: "shrunk (withdrawal?)",
    Outcome.FAILED: "failed",
    Outcome.GONE: "gone",
    Outcome.DORMANT: "went dormant",
}


def bucket_of(moment: datetime) -> datetime:
    """The start of the five minutes ``moment`` falls in."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


class CheckCounter:
    """Checks per (five minutes, outcome) not yet written; ``add`` is the monitor's hook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # add() runs in the event loop, flush() in a thread
        self._counts: Counter[tuple[datetime, str]] = Counter()

    def add(self, outcome: str, at: datetime) -> None:
        with self._lock:
            self._counts[(bucket_of(at), str(outcome))] += 1

    def flush(self, engine: Engine) -> int:
        """Add the counts to the table in one transaction; returns the checks written.

        Counts taken are put back if the write fails, so a busy database loses none.
        """
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        try:
            with session_scope(engine) as s:
                insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
                table = CheckCount.__table__  # type: ignore[attr-defined]
                stmt = insert(table)
                s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[table.c.bucket, table.c.outcome],
                        set_={"count": table.c.count + stmt.excluded.count},
                    ),
                    [{"bucket": b, "outcome": o, "count": n} for (b, o), n in counts.items()],
                )
        except BaseException:
            with self._lock:
                self._counts.update(counts)
            raise
        return sum(counts.values())


@dataclass(frozen=True)
class Stats:
    at: datetime
    articles: dict[str, int]  # by ArticleState
    untracked: int  # articles no chat tracks (deleted after database.keep_untracked_days)
    checks: dict[str, int]  # by Outcome, in the last hour
    overdue: int  # checks due and not started
    oldest_overdue: timedelta | None  # how far behind the scheduler is
    deliveries: dict[str, int]  # by DeliveryStatus (sent and failed ones are pruned)
    oldest_pending: timedelta | None
    chats: dict[str, int]  # active / blocked
    database_bytes: int
    database: str  # the URL, password hidden


def database_bytes(engine: Engine, s: Session) -> int:
    """The database's size on disk: SQLite's file and its write-ahead log, or PostgreSQL's."""
    if engine.dialect.name == "postgresql":
        return int(s.exec(select(func.pg_database_size(func.current_database()))).one())  # type: ignore[call-overload]
    path = engine.url.database or ""
    if not path or path == ":memory:":
        page_size = s.exec(text("PRAGMA page_size")).one()[0]  # type: ignore[call-overload]
        return int(page_size) * int(s.exec(text("PRAGMA page_count")).one()[0])  # type: ignore[call-overload]
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))


def _ago(now: datetime, moment: datetime | None) -> timedelta | None:
    return None if moment is None else max(timedelta(0), now - moment)


def collect(engine: Engine, now: datetime | None = None) -> Stats:
    """Every figure of ``redline stats``, read in one session."""
    now = now or utcnow()
    with read_session(engine) as s:

        def by(column: object, model: type, *where: object) -> dict[str, int]:
            q = select(column, func.count()).select_from(model).where(*where).group_by(column)  # type: ignore[call-overload]
            return {str(k): int(n) for k, n in s.exec(q).all()}

        articles = {state.value: 0 for state in ArticleState} | by(col(Article.state), Article)
        untracked = s.exec(
            select(func.count()).select_from(Article).where(col(Article.untracked_since).is_not(None))
        ).one()
        checks = {o.value: 0 for o in Outcome} | {
            str(o): int(n)
            for o, n in s.exec(
                select(CheckCount.outcome, func.sum(CheckCount.count))
                .where(CheckCount.bucket > bucket_of(now - WINDOW))
                .group_by(col(CheckCount.outcome))
            ).all()
        }
        overdue, oldest = s.exec(
            select(func.count(), func.min(Article.next_check_at))
            .where(col(Article.state).in_([ArticleState.ACTIVE, ArticleState.FAILING]))
            .where(Article.next_check_at <= now)
        ).one()
        deliveries = {status.value: 0 for status in DeliveryStatus} | by(col(Delivery.status), Delivery)
        oldest_pending = s.exec(
            select(func.min(Delivery.not_before)).where(Delivery.status == DeliveryStatus.PENDING)
        ).one()
        paused = dict(s.exec(select(Chat.paused, func.count()).group_by(col(Chat.paused))).all())
        size = database_bytes(engine, s)
    return Stats(
        at=now,
        articles=articles,
        untracked=int(untracked),
        checks=checks,
        overdue=int(overdue),
        oldest_overdue=_ago(now, oldest),
        deliveries=deliveries,
        oldest_pending=_ago(now, oldest_pending),
        chats={"active": int(paused.get(False, 0)), "blocked": int(paused.get(True, 0))},
        database_bytes=size,
        database=engine.url.render_as_string(hide_password=True),
    )


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _counts(counts: dict[str, int], labels: dict[str, str] | None = None) -> str:
    return " · ".join(f"{n} {(labels or {}).get(k, k)}" for k, n in counts.items())


def format_stats(stats: Stats) -> str:
    """The text ``redline stats`` prints (pure)."""
    if stats.overdue:
        late = duration(stats.oldest_overdue or timedelta(0))
        scheduler = f"{stats.overdue} check{'s' if stats.overdue != 1 else ''} overdue, the oldest by {late}"
    else:
        scheduler = "up to date (no check overdue)"
    pending = ""
    if stats.oldest_pending is not None:
        pending = f" (oldest pending for {duration(stats.oldest_pending)})"
    return "\n".join(
        [
            f"Redline at {stats.at:%Y-%m-%d %H:%M:%S} UTC · {stats.database}",
            f"articles: {_counts(stats.articles)} · {stats.untracked} tracked by nobody",
            f"checks in the last hour: {_counts(stats.checks, OUTCOME_LABELS)}",
            f"scheduler: {scheduler}",
            f"deliveries: {_counts(stats.deliveries)}{pending}",
            f"chats: {_counts(stats.chats)}",
            f"database: {human_bytes(stats.database_bytes)}",
        ]
    )
