"""Bringing a database's schema up to date with Alembic, one process at a time.

Every schema change ships as a revision in ``bot/storage/migrations/versions``; ``redline run``,
``redline worker`` and ``redline migrate`` all call :func:`upgrade_schema` at start. A database
that ``create_all`` made before Alembic (no ``alembic_version`` table) is recognised by its
columns and stamped with the revision it matches, never recreated.

``run`` and ``worker`` often start together (one compose file, one deploy): the whole upgrade
runs in one transaction, which SQLite serialises with ``BEGIN IMMEDIATE`` and PostgreSQL with a
transaction-scoped advisory lock (its DDL is transactional), so the second process waits and
then finds the schema current.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from bot.storage.engine import DatabaseError

log = logging.getLogger("redline.schema")

T = TypeVar("T")

# Any constant shared by every Redline process on one database.
_SCHEMA_LOCK = 0x5ED11E

# Schemas made by ``create_all`` before Alembic, newest first: (revision, how to recognise it).
_LEGACY: list[tuple[str, Callable[[dict[str, set[str]]], bool]]] = [
    ("0002", lambda columns: "ab_titles" in columns.get("article", set())),
    ("0001", lambda columns: "article" in columns),
]


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: the database was empty
    after: str
    stamped: bool  # a pre-Alembic database was recognised and stamped first


def alembic_config(url: str = "") -> Config:
    """The Alembic configuration for Redline's revisions, without an alembic.ini on disk."""
    config = Config(output_buffer=io.StringIO())
    config.set_main_option("script_location", "bot.storage:migrations")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "bot/storage/migrations/versions holds no revision"
    return head


def legacy_revision(conn: Connection) -> str | None:
    """The revision a pre-Alembic database matches; None when it has none of Redline's tables."""
    inspector = inspect(conn)
    columns = {
        table: {c["name"] for c in inspector.get_columns(table)} for table in inspector.get_table_names()
    }
    return next((revision for revision, matches in _LEGACY if matches(columns)), None)


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at, a pre-Alembic one included; None for an empty database."""
    return MigrationContext.configure(conn).get_current_revision() or legacy_revision(conn)


def in_schema_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in the one transaction a schema change may use, one process at a time."""
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            raw = conn.connection.dbapi_connection
            if sqlite:
                # Batch mode rebuilds a table by copy, drop and rename, and dropping a table others
                # point at fails SQLite's per-statement foreign key checks. The switch only works
                # outside a transaction (the connection is in autocommit until BEGIN): off for the
                # upgrade, every key checked before the commit, on again for the pool.
                raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                    result = work(conn)
                    if sqlite:
                        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise DatabaseError(f"the schema change would break foreign keys: {broken[:3]}")
                    return result
            finally:
                if sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    except OperationalError as exc:  # the first connection: server down, wrong password, bad path
        raise cannot_open(engine, exc) from None


def cannot_open(engine: Engine, exc: OperationalError) -> DatabaseError:
    """The one line a user sees when the database cannot be reached (password hidden)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    where = engine.url.render_as_string(hide_password=True)
    return DatabaseError(f"cannot open the database {where}: {reason}")


def upgrade_schema(engine: Engine) -> Upgrade:
    """Create or upgrade the schema to the latest revision; see the module docstring."""

    def work(conn: Connection) -> Upgrade:
        config = alembic_config()
        config.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        stamped = False
        if before is None:
            before = legacy_revision(conn)
            if before is not None:
                command.stamp(config, before)
                stamped = True
        command.upgrade(config, "head")
        return Upgrade(before, head_revision(), stamped)

    done = in_schema_transaction(engine, work)
    if done.before != done.after:
        log.info("schema_upgraded from=%s to=%s stamped=%s", done.before, done.after, done.stamped)
    return done


def database_revision(engine: Engine) -> str | None:
    """Where the database stands now, read without changing anything."""
    with engine.connect() as conn:
        return current_revision(conn)


def upgrade_sql(url: str, start: str | None) -> str:
    """The SQL that brings a database at ``start`` (None: empty) to the latest revision, for a DBA."""
    config = alembic_config(url)
    command.upgrade(config, f"{start}:head" if start else "head", sql=True)
    buffer = config.output_buffer
    assert isinstance(buffer, io.StringIO)
    return buffer.getvalue()
