"""`redline backup`: a consistent copy of a live SQLite database, taken while the bot writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.storage.backup import BackupError, backup_sqlite
from bot.storage.engine import make_engine
from bot.storage.models import DeliveryKind, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from tests.storage_rows import track_article
from tests.test_cli import redline


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Storage]:
    """A bot's SQLite database with one tracked article and ~16 MB of other pages, so a copy
    takes long enough for writes to land while it runs."""
    store = Storage(make_engine(f"sqlite:///{tmp_path / 'redline.db'}"))
    store.upgrade_schema()
    track_article(store, 1)
    track_article(store, 2)
    with sqlite3.connect(tmp_path / "redline.db") as raw:
        raw.execute("CREATE TABLE ballast (data BLOB)")
        raw.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) "
            "INSERT INTO ballast SELECT randomblob(4000) FROM n"
        )
    yield store
    store.engine.dispose()


@contextmanager
def writing(store: Storage) -> Iterator[list[int]]:
    """A writer storing versions, each with two announcements in the same transaction (as the
    monitor does), until the block ends; yields the list of version numbers committed."""
    committed: list[int] = []
    started, stop = threading.Event(), threading.Event()

    def write() -> None:
        n = 1
        while not stop.is_set():
            n += 1
            store.articles.store_version(
                1,
                title=f"v{n}",
                content={"title": f"v{n}", "paragraphs": ["x" * 2000]},
                content_hash=str(n),
                summary="",
                deliveries=[NewDelivery(c, DeliveryKind.EDIT, "x", "x") for c in (1, 2)],
                article_fields={},
                now=utcnow(),
            )
            committed.append(n)
            if n == 10:
                started.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(30), "the writer never got going"
        yield committed
    finally:
        stop.set()
        thread.join(30)


def consistent(path: Path) -> tuple[int, int]:
    """Open the copy as SQLite, check its integrity and that every version has both its
    announcements (a copy taken half-way through a transaction would not)."""
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        versions = copy.execute("SELECT count(*) FROM version WHERE number > 1").fetchone()[0]
        deliveries = copy.execute("SELECT count(*) FROM delivery").fetchone()[0]
    assert deliveries == 2 * versions
    return versions, deliveries


def test_backup_while_the_bot_writes_is_consistent(live: Storage, tmp_path: Path) -> None:
    source = Path(str(live.engine.url.database))
    with writing(live) as committed:
        before = len(committed)
        result = backup_sqlite(source, tmp_path / "copy.db")
        during = len(committed) - before
    assert during > 0, "no write landed while the backup ran"
    versions, _ = consistent(result.target)
    assert before <= versions <= before + during
    assert result.size == result.target.stat().st_size > 16_000_000
    assert not list(tmp_path.glob("*.partial"))


def test_cli_backup_of_a_live_database_says_how_to_restore(live: Storage, tmp_path: Path) -> None:
    db = tmp_path / "redline.db"
    target = tmp_path / "backups"
    target.mkdir()
    env = {"REDLINE_DATABASE_URL": f"sqlite:///{db}"}
    with writing(live) as committed:
        before = len(committed)
        result = redline("backup", str(target), env=env)
        assert len(committed) > before
    assert result.returncode == 0, result.stderr
    (copy,) = target.glob("redline-*.db")
    lines = result.stdout.splitlines()
    assert lines == [
        f"Backup written to {copy} ({copy.stat().st_size} bytes, integrity check ok).",
        f"To restore: stop Redline, delete {db}-wal and {db}-shm if present, copy {copy} to {db}, "
        "and start Redline again.",
    ]
    consistent(copy)
    # The copy is a working Redline database: the bot's own store reads it.
    restored = Storage(make_engine(f"sqlite:///{copy}"))
    assert [row.number for row in restored.articles.tracked(1)] == [1]
    restored.engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backup", "{tmp}/redline.db"],
            "redline: error: {tmp}/redline.db already exists; choose a new file name\n",
        ),
        (["backup", "{tmp}/no/such/copy.db"], "redline: error: directory does not exist: {tmp}/no/such\n"),
    ],
)
def test_cli_backup_refusals(live: Storage, tmp_path: Path, args: list[str], message: str) -> None:
    env = {"REDLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'redline.db'}"}
    result = redline(*(a.format(tmp=tmp_path) for a in args), env=env)
    assert result.returncode == 2
    assert result.stderr == message.format(tmp=tmp_path)


def test_cli_backup_without_a_database(tmp_path: Path) -> None:
    env = {"REDLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    result = redline("backup", str(tmp_path / "copy.db"), env=env)
    assert result.returncode == 2
    assert result.stderr == f"redline: error: no database at {tmp_path / 'none.db'}\n"
    assert not (tmp_path / "none.db").exists()


def test_backup_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "a.db").write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(tmp_path / "a.db", tmp_path / "a.db")


def test_cli_backup_on_postgresql_points_to_pg_dump() -> None:
    env = {"REDLINE_DATABASE_URL": "postgresql+psycopg://redline:s3cret@db.example:5432/redline"}
    result = redline("backup", "/tmp/never-written.db", env=env)
    assert result.returncode == 2
    assert result.stderr == (
        "redline: error: redline backup copies SQLite databases; for PostgreSQL use pg_dump: "
        "pg_dump --format=custom --file=redline.dump 'postgresql://redline@db.example:5432/redline' "
        "(password from PGPASSWORD or ~/.pgpass; restore with pg_restore)\n"
    )
