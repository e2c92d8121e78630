"""A consistent copy of a live SQLite database, taken with SQLite's online backup API.

Copying the file (or the file and its -wal) while the bot writes can catch a transaction
half-way and give a copy that does not open. The backup API reads one snapshot inside a read
transaction; in WAL mode the bot keeps writing meanwhile. All pages are copied in one step:
stepping page by page would restart every time the bot commits, and never finish on a busy bot.
PostgreSQL has its own tool for this (pg_dump).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup could not be made; the message is shown as one line."""


@dataclass(frozen=True)
class BackupResult:
    source: Path
    target: Path
    size: int


def pg_dump_hint(url: str) -> str:
    """The one line a PostgreSQL user gets instead of a copy (password hidden)."""
    parsed = make_url(url)._replace(drivername="postgresql", password=None)  # set() keeps a None
    shown = parsed.render_as_string(hide_password=False)
    return (
        "redline backup copies SQLite databases; for PostgreSQL use pg_dump: "
        f"pg_dump --format=custom --file=redline.dump '{shown}' (password from PGPASSWORD or "
        "~/.pgpass; restore with pg_restore)"
    )


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("database.url is an in-memory SQLite database: there is nothing to back up")
    return Path(parsed.database).expanduser().resolve()


def _target(path: Path, now: datetime) -> Path:
    """``path`` itself, or a time-stamped file inside it when it is a directory."""
    if path.is_dir():
        path = path / f"redline-{now:%Y%m%d-%H%M%S}.db"
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"directory does not exist: {path.parent}")
    return path


def backup_sqlite(source: Path, target: Path, now: datetime | None = None) -> BackupResult:
    """Copy ``source`` to ``target`` (a new file, or a directory to put one in) and check it.

    The copy is written beside the target and renamed into place only once
    ``PRAGMA integrity_check`` passes, so a failed backup never leaves a file that looks good.
    """
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    target = _target(target.expanduser().resolve(), now or datetime.now(UTC))
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source, timeout=30)  # read-only in effect: the backup only reads
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # pages=-1: the whole snapshot in one step (see the module doc)
                # One self-contained file: the restored database switches back to WAL on start.
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA integrity_check").fetchall()
            finally:
                dst.close()
        finally:
            src.close()
        if check != [("ok",)]:
            raise BackupError(f"the copy failed its integrity check: {check[0][0]}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(source, target, target.stat().st_size)


def restore_hint(result: BackupResult) -> str:
    """What to do with the copy, printed after a backup."""
    db = result.source
    return (
        f"Backup written to {result.target} ({result.size} bytes, integrity check ok).\n"
        f"To restore: stop Redline, delete {db}-wal and {db}-shm if present, copy "
        f"{result.target} to {db}, and start Redline again."
    )
