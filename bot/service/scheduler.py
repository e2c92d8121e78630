"""The due queue as a pipeline: fetch slots that each take the next due article as it frees up.

When a check runs is decided here; what a check does is bot.service.check. A failure in one
article's check is logged and rescheduled; it never stops the checks of the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from bot.config import MonitorSettings
from bot.core.policy import Outcome, next_check
from bot.service.check import Checker, CheckResult
from bot.service.sites import SiteLoad
from bot.storage.models import Article, utcnow
from bot.storage.queue import CheckQueue

log = logging.getLogger("redline.monitor")


class Scheduler:
    """Runs checks as a continuous pipeline (``run``): ``concurrency`` slots, each taking the
    next due article as soon as it frees up, never waiting for a batch to finish.

    Claims come from the database in chunks of up to ``concurrency`` (one write per chunk, not
    per check), with a lease so processes sharing the database never check one article twice.
    A site never has more than ``per_site_limit`` claimed articles (and feed fetches: the
    ``SiteLoad`` is shared with bot.service.follow) in this process, so a site
    that hangs holds at most that many slots and the others keep flowing. With nothing due the
    pipeline sleeps until the earliest due time or a ``wake()`` (a new /track); it looks again
    after ``monitor.tick`` at most, for articles another process (``run`` beside a ``worker``)
    added or woke. Each sleep ends up to ``JITTER`` seconds late at random, so processes sleeping
    towards the same due time take turns claiming it instead of one taking every check.
    """

    JITTER = 0.05

    def __init__(
        self,
        queue: CheckQueue,
        checker: Checker,
        settings: MonitorSettings,
        on_announce: Callable[[], object] | None = None,
        sites: SiteLoad | None = None,
    ) -> None:
        self.queue = queue
        self.checker = checker
        self.settings = settings
        # Called after a check stored something to send: the hook that wakes the sender.
        self.on_announce = on_announce
        self._wake = asyncio.Event()
        self._pending: deque[Article] = deque()  # claimed, waiting for a free slot
        self._running: dict[int, asyncio.Task[CheckResult]] = {}
        # Claimed per site, pending + running, shared with the feed schedule (app.py).
        self.sites = sites if sites is not None else SiteLoad(settings.per_site_limit)
        self.sites.on_free(self.wake)  # a feed fetch ended: its site may have due articles

    def wake(self) -> None:
        """Look at the due queue now (an article was added or woken)."""
        self._wake.set()

    async def run(self) -> None:
        """The pipeline; runs until cancelled, then gives back what it claimed but never began."""
        concurrency = self.settings.concurrency
        lease = timedelta(seconds=self.settings.timeout * 3 + 60)
        try:
            while True:
                self._wake.clear()  # before looking: a wake-up from now on is not lost
                drained = False
                if len(self._pending) < concurrency - len(self._running):
                    try:
                        drained = await self._claim(concurrency - len(self._pending), lease)
                    except Exception:  # the database is away for a moment: look again later
                        log.exception("claim_failed")
                        await asyncio.sleep(self.settings.tick)
                        continue
                while self._pending and len(self._running) < concurrency:
                    self._start(self._pending.popleft())
                if len(self._running) >= concurrency:
                    await self._wake.wait()  # a check finishing or a /track
                    continue
                if not drained:
                    continue  # free slots and more may be due (from sites not busy here)
                # Sites with no room here are left out: a finishing check of theirs wakes us.
                busy = self.sites.full()
                try:
                    next_due = await asyncio.to_thread(self.queue.next_due, busy)
                except Exception:
                    log.exception("claim_failed")
                    next_due = None
                delay = self.settings.tick
                if next_due is not None:
                    delay = min(delay, max(0.0, (next_due - utcnow()).total_seconds()))
                delay += random.uniform(0, self.JITTER)
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            await self._stop()

    async def _claim(self, limit: int, lease: timedelta) -> bool:
        """Claim up to ``limit`` due articles; True when fewer were due than asked for."""
        now = utcnow()
        async with self.sites.claiming:  # no feed takes a slot between reading and adding
            claimed, drained = await asyncio.to_thread(
                self.queue.claim_due, now, limit, lease, self.sites.counts(), self.sites.limit
            )
            for article in claimed:
                self.sites.take(article.site)
        self._pending.extend(claimed)
        return drained

    def _start(self, article: Article) -> None:
        assert article.id is not None
        task = asyncio.create_task(self._guarded(article), name=f"check-{article.id}")
        self._running[article.id] = task

        def finished(_task: asyncio.Task[CheckResult], article: Article = article) -> None:
            assert article.id is not None
            self._running.pop(article.id, None)
            self.sites.give(article.site)  # wakes the pipeline

        task.add_done_callback(finished)

    async def _stop(self) -> None:
        """Cancel the checks under way and make everything this process held due again."""
        held = [*self._running, *(a.id for a in self._pending if a.id is not None)]
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.checker.aclose()
        for article in self._pending:  # claimed, never begun: the site's count goes back
            self.sites.give(article.site)
        self._pending.clear()
        if held:
            await asyncio.to_thread(self.queue.release, held, utcnow())

    async def _guarded(self, article: Article) -> CheckResult:
        assert article.id is not None
        try:
            result = await self.checker.check(article)
        except Exception:
            # A bug on one page must not stop the others; retry it later.
            log.exception("check_crashed article=%s", article.id)
            await asyncio.to_thread(
                self.queue.update_article,
                article.id,
                next_check_at=next_check(self.settings.max_interval, utcnow()),
            )
            return CheckResult(article.id, Outcome.FAILED, detail="internal error")
        if result.deliveries and self.on_announce is not None:
            self.on_announce()
        return result
