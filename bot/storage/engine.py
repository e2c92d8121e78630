"""Engine and sessions (the schema itself is ``bot.storage.schema``'s job).

SQLite is the default: WAL lets readers run beside the writer, and a write transaction starts
with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing with
"database is locked" half-way through. Reads (``read_session``) start a plain deferred
``BEGIN``: they never take the write lock, so ``/list`` never waits behind the monitor.
Anything not marked as a read is a write. PostgreSQL needs none of that.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from bot.storage import models  # noqa: F401  (registers the tables)


class DatabaseError(Exception):
    """The database URL is unusable; the message is shown as one line."""


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the SQLite settings described above."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long text
        raise DatabaseError(f"database.url is not a valid database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise DatabaseError(f"database directory does not exist: {parent}")
            if not os.access(parent, os.W_OK):  # SQLite writes its -wal and -shm files beside it
                raise DatabaseError(f"database directory is not writable by uid {os.getuid()}: {parent}")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the driver for {parsed.drivername} is not installed ({exc.name}); "
            "for PostgreSQL install redline[postgres]"
        ) from None


_WAL_ATTEMPTS = 100  # 50 ms apart: five seconds


def _use_wal(cur: sqlite3.Cursor) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once, without waiting out the busy
    timeout, while another connection is creating or recovering the same file (two processes
    starting together, or pooled connections opening at once): retry for a few seconds."""
    for attempt in range(_WAL_ATTEMPTS):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.05)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        _use_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_READ_ONLY = "redline_read_only"


def read_session(engine: Engine) -> Session:
    """A session for queries only: on SQLite its transaction never takes the write lock."""
    return Session(engine.execution_options(**{_READ_ONLY: True}))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
