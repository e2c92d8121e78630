"""Engine and sessions: reads beside a writer, schema created once, concurrent writers
(SQLite and a real PostgreSQL server: the same behaviour on both)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from bot.storage.engine import make_engine
from bot.storage.models import DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.stats import collect
from bot.storage.store import Storage
from tests.storage_rows import track_article


def test_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """SQLite: a read starts a deferred BEGIN, so /list answers while the monitor writes."""
    path = tmp_path / "redline.db"
    store = Storage(make_engine(f"sqlite:///{path}"))
    store.upgrade_schema()
    track_article(store, 1)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long write would
        done = threading.Event()
        rows: list[object] = []
        reader = threading.Thread(target=lambda: (rows.extend(store.articles.tracked(1)), done.set()))
        reader.start()
        assert done.wait(5), "a read waited for the write lock"
        assert len(rows) == 1 and store.chats.paused() == []
        writer.execute("ROLLBACK")
        reader.join()
    finally:
        writer.close()
        store.engine.dispose()


def test_processes_starting_together_create_the_schema_once(database_url: str) -> None:
    """`run` and `worker` started by one deploy both create the tables on an empty database:
    neither may fail with "already exists", and the schema works afterwards."""
    starters = 6
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(database_url)  # an engine each, like separate processes
        try:
            barrier.wait()
            Storage(engine).upgrade_schema()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    for _round in range(3):
        threads = [threading.Thread(target=start) for _ in range(starters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    store = Storage(make_engine(database_url))
    try:
        assert track_article(store, 1).number == 1
    finally:
        store.engine.dispose()


def test_concurrent_writers_do_not_lose_updates(store: Storage) -> None:
    """BEGIN IMMEDIATE (SQLite) / row locks (PostgreSQL): parallel tracks all land."""
    errors: list[BaseException] = []

    def worker(chat_id: int) -> None:
        try:
            for i in range(10):
                track_article(store, chat_id, f"example.com/{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for chat_id in range(1, 5):
        assert [r.number for r in store.articles.tracked(chat_id)] == list(range(1, 11))


def while_another_connection_writes(
    path: Path, reads: dict[str, Callable[[], object]]
) -> tuple[list[str], dict]:
    """Run ``reads`` while another connection holds SQLite's write lock: which of them waited
    for it (more than five seconds), and what each answered once the lock was let go."""
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long write would
        with ThreadPoolExecutor(max_workers=len(reads)) as pool:
            futures = {name: pool.submit(read) for name, read in reads.items()}
            waited = [name for name, f in futures.items() if not wait([f], timeout=5).done]
            writer.execute("ROLLBACK")  # let any waiting read finish before the pool closes
            return waited, {name: f.result() for name, f in futures.items()}
    finally:
        writer.close()


def test_sender_and_membership_reads_do_not_take_the_write_lock(tmp_path: Path) -> None:
    """SQLite: the reads made for every message sent (its topic, the announcement it replies
    to), a row read back after a migration and the list of paused chats all answer while
    another connection holds the write lock; none of them waits for it."""
    path = tmp_path / "redline.db"
    store = Storage(make_engine(f"sqlite:///{path}"))
    store.upgrade_schema()
    aid = track_article(store, 1, thread_id=42).article.id
    track_article(store, 2)
    store.chats.pause(2, "bot was blocked by the user")
    store.outbox.add_notices(aid, [NewDelivery(1, DeliveryKind.GONE, "gone", "gone")], {}, utcnow())
    [claimed] = store.outbox.claim_pending(utcnow(), 10, claimant="a")
    store.outbox.finish(claimed.id, DeliveryStatus.SENT, claimant="a", message_id=7)
    try:
        waited, answers = while_another_connection_writes(
            path,
            {
                "chats.topic": lambda: store.chats.topic(1, aid),
                "outbox.last_announcement": lambda: store.outbox.last_announcement(1, aid).message_id,  # type: ignore[union-attr]
                "outbox.get": lambda: store.outbox.get(claimed.id).status,  # type: ignore[union-attr]
                "chats.paused": store.chats.paused,
            },
        )
        assert waited == []
        assert answers == {
            "chats.topic": 42,
            "outbox.last_announcement": 7,
            "outbox.get": DeliveryStatus.SENT,
            "chats.paused": [2],
        }
    finally:
        store.engine.dispose()


def test_stats_read_does_not_take_the_write_lock(tmp_path: Path) -> None:
    """SQLite: ``redline stats`` and every /metrics scrape read the figures while the monitor
    writes, without waiting for its lock."""
    path = tmp_path / "redline.db"
    store = Storage(make_engine(f"sqlite:///{path}"))
    store.upgrade_schema()
    track_article(store, 1)
    try:
        waited, answers = while_another_connection_writes(
            path, {"stats": lambda: collect(store.engine).articles}
        )
        assert waited == []
        assert answers["stats"]["active"] == 1
    finally:
        store.engine.dispose()
