"""A real database that misbehaves on request: statements matching a pattern fail, or hold
their transaction open until the test lets them go.

It listens on the engine's cursor events (SQLAlchemy's own extension point), so the bot's code
runs unchanged and meets the fault where a busy SQLite or a dropped PostgreSQL connection would
hit it: inside the repository method, after earlier statements of the transaction ran.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    count: int


@dataclass
class _Hold:
    pattern: re.Pattern[str]
    reached: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.go.set()


class DatabaseFaults:
    """Faults for one engine; ``detach`` (or leaving the ``with``) removes them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._faults: list[_Fault] = []
        self._holds: list[_Hold] = []
        self._lock = threading.Lock()
        self.failed: list[str] = []  # statements refused so far
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def __enter__(self) -> DatabaseFaults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def detach(self) -> None:
        for hold in self._holds:
            hold.go.set()
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def fail_next(self, pattern: str, count: int = 1) -> None:
        """The next ``count`` statements matching ``pattern`` (a regex, case-insensitive) fail
        as a locked SQLite database does."""
        with self._lock:
            self._faults.append(_Fault(re.compile(pattern, re.I | re.S), count))

    def hold_after(self, pattern: str) -> _Hold:
        """The next statement matching ``pattern`` runs, then its thread waits (transaction
        open, locks held) until the returned hold's ``release``."""
        hold = _Hold(re.compile(pattern, re.I | re.S))
        with self._lock:
            self._holds.append(hold)
        return hold

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.pattern.search(statement):
                    fault.count -= 1
                    self.failed.append(statement)
                    raise sqlite3.OperationalError("database is locked (injected by the test)")

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            hold = next((h for h in self._holds if h.pattern.search(statement)), None)
            if hold is not None:
                self._holds.remove(hold)
        if hold is not None:
            hold.reached.set()
            hold.go.wait(30)


__all__ = ["DatabaseFaults"]
