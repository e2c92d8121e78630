"""The one thread of a process that parses pages: every lxml/trafilatura call goes through it.

Why one thread: trafilatura and htmldate parse with module-global lxml ``HTMLParser`` objects,
and libxml2 shares string dictionaries between the documents of one parser and the threads
that use it. Two extractions at once in one process (``asyncio.to_thread`` is a pool of
threads) corrupt that memory and abort the process (``free(): invalid pointer``, ``double free
or corruption``): 16 concurrent ``asyncio.to_thread(extract, …)`` over corpus pages with fresh
counters aborted 2 of 3 ten-second runs on this 2-core machine (0 of 8 at a quieter time: the
race is rare, not absent). One thread costs little: the same load through the parse thread ran
148–233 extractions in 10 s against 147–185 through six threads. A process pool is safe but holds
a copy of trafilatura per child (39 MB peak RSS for a process that imported it and read one page,
against a 200 MB budget for 10 000 articles) and
needs a restart-and-retry path for a child that dies. So: one parse thread per process, and
the cores are used by running more ``redline worker`` processes on a shared PostgreSQL
database, each with its own parse thread. The event loop never waits on a parse: fetches,
database work and Telegram go on while a page is being read.

Callers (the monitor, ``/track``, the fingerprint step) await ``parser.run(fn, *args)``; a
function that never touches lxml must not be sent here, it would only queue behind pages.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.core.extract import Snapshot, extract

P = ParamSpec("P")
T = TypeVar("T")

THREAD_NAME = "redline-parse"


class ParseThread:
    """A single-worker executor: at most one page is parsed at a time in this process."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the parse thread, awaited without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def extract(self, html: str, url: str | None, carrier: str | None = None) -> Snapshot:
        """``bot.core.extract.extract`` on the parse thread (raises ``NotAnArticle`` as it does)."""
        return await self.run(extract, html, url, carrier)

    def close(self) -> None:
        """Stop taking work; a page being parsed finishes in the background."""
        self._executor.shutdown(wait=False, cancel_futures=True)
