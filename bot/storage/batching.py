"""Group commit: many callers' small writes go to the database as one transaction.

A check that found nothing new writes one row. Done one by one, each costs a thread hop, a
transaction (``BEGIN IMMEDIATE`` on SQLite) and a statement compile — more CPU than the check's
fetch. ``GroupCommit`` queues the writes of every check finishing while a transaction is under
way and sends them together as the next one. Each caller still awaits its own write: when
``write`` returns the row is committed, exactly as with a transaction of its own, so a crash
loses nothing that was reported done (a check whose write never committed is simply checked
again when its lease runs out).

``put`` is the write-behind form for callers that need not wait (the scheduler's quiet checks):
the item waits up to ``linger`` seconds for others to share its transaction and the caller goes
on at once. Crash-safety is the lease's: a batch lost with the process (or refused by the
database, which is logged) only means those articles are checked again once their claim's lease
runs out. ``flush`` (before a claim, and on close) writes out whatever is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger("redline.storage")


class GroupCommit(Generic[T]):
    """Calls ``commit(items)`` on a worker thread, one call for every item queued meanwhile."""

    def __init__(
        self, commit: Callable[[Sequence[T]], None], max_batch: int = 256, linger: float = 0.05
    ) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._linger = linger  # the longest a ``put`` waits for company
        self._queue: list[tuple[T, asyncio.Future[None] | None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lingering: asyncio.Event | None = None  # set: stop lingering, commit now

    def put(self, item: T) -> None:
        """Queue ``item`` and return at once (write-behind, see the module docstring)."""
        self._queue.append((item, None))
        if self._flusher is None or self._flusher.done():
            self._lingering = asyncio.Event()
            self._flusher = asyncio.create_task(self._flush(self._lingering), name="write-behind")
        elif len(self._queue) >= self._max_batch and self._lingering is not None:
            self._lingering.set()

    async def flush(self) -> None:
        """Commit everything queued so far (``put`` or ``write``) and wait for it."""
        while self._flusher is not None and not self._flusher.done():
            if self._lingering is not None:
                self._lingering.set()
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flusher)

    async def write(self, item: T) -> None:
        """Queue ``item``; return once the transaction holding it committed (or raise its error)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._lingering = None
            self._flusher = asyncio.create_task(self._flush(None), name="group-commit")
        elif self._lingering is not None:
            self._lingering.set()  # someone waits: no more lingering
        await future

    async def _flush(self, lingering: asyncio.Event | None) -> None:
        if lingering is not None and not lingering.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._linger):
                    await lingering.wait()
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                await asyncio.to_thread(self._commit, [item for item, _ in batch])
            except Exception as exc:  # every writer in the batch hears it, as it would alone
                waiting = [future for _, future in batch if future is not None]
                if len(waiting) < len(batch):
                    log.exception("write_behind_failed rows=%d", len(batch) - len(waiting))
                for future in waiting:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if future is not None and not future.done():
                        future.set_result(None)

    async def aclose(self) -> None:
        """Write out what is queued (a stopping process still records it)."""
        await self.flush()
