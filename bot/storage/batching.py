"""Group commit: many callers' small writes go to the database as one transaction.

A check that found nothing new writes one row. Done one by one, each costs a thread hop, a
transaction (``BEGIN IMMEDIATE`` on SQLite) and a statement compile — more CPU than the check's
fetch. ``GroupCommit`` queues the writes of every check finishing while a transaction is under
way and sends them together as the next one. Each caller still awaits its own write: when
``write`` returns the row is committed, exactly as with a transaction of its own, so a crash
loses nothing that was reported done (a check whose write never committed is simply checked
again when its lease runs out).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Calls ``commit(items)`` on a worker thread, one call for every item queued meanwhile."""

    def __init__(self, commit: Callable[[Sequence[T]], None], max_batch: int = 256) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, item: T) -> None:
        """Queue ``item``; return once the transaction holding it committed (or raise its error)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="group-commit")
        await future

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                await asyncio.to_thread(self._commit, [item for item, _ in batch])
            except Exception as exc:  # every writer in the batch hears it, as it would alone
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    async def aclose(self) -> None:
        """Wait for the writes already queued (a stopping process still records them)."""
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flusher)
