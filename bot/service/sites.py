"""How many fetches of each site this process has under way: one count that the checks
(bot.service.scheduler) and the feed schedule (bot.service.follow) share, so together they keep
to ``monitor.per_site_limit`` (a feed fetch and article checks of one site at once)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.storage.queue import full_sites


class SiteLoad:
    """Per-site counts of fetches claimed or running in this process.

    The scheduler claims articles in batches (``claiming`` held while it reads the counts and
    adds its claims, so nothing slips in between) and gives each back when its check ends; a
    feed fetch waits for a free ``slot`` of its site. Each count that falls calls ``on_free``'s
    listeners (the scheduler looks again for articles of that site)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.claiming = asyncio.Lock()
        self._load: Counter[str] = Counter()
        self._freed = asyncio.Event()
        self._listeners: list[Callable[[], object]] = []

    def counts(self) -> dict[str, int]:
        return dict(self._load)

    def full(self) -> list[str]:
        """Sites with no room left in this process."""
        return full_sites(self._load, self.limit)

    def take(self, site: str) -> None:
        self._load[site] += 1

    def give(self, site: str) -> None:
        self._load[site] -= 1
        if self._load[site] <= 0:
            del self._load[site]
        self._freed.set()
        for listener in self._listeners:
            listener()

    def on_free(self, listener: Callable[[], object]) -> None:
        self._listeners.append(listener)

    @asynccontextmanager
    async def slot(self, site: str) -> AsyncIterator[None]:
        """One fetch of ``site``, once the site has room (the checks' claims count too)."""
        while True:
            async with self.claiming:
                if self._load[site] < self.limit:
                    self._load[site] += 1
                    break
                self._freed.clear()
            await self._freed.wait()
        try:
            yield
        finally:
            self.give(site)
