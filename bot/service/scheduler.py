"""The due queue as a pipeline: fetch slots that each take the next due article as it frees up.

When a check runs is decided here; what a check does is bot.service.check. A failure in one
article's check is logged and rescheduled; it never stops the checks of the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.config import MonitorSettings
from bot.core.policy import Outcome, next_check
from bot.service.check import Checker, CheckResult
from bot.service.sites import SiteLoad
from bot.storage.models import Article, utcnow
from bot.storage.queue import CheckQueue, full_sites

log = logging.getLogger("redline.monitor")


class Scheduler:
    """Runs checks as a continuous pipeline (``run``): ``concurrency`` slots, each taking the
    next due article as soon as it frees up, never waiting for a batch to finish.

    Claims are made ahead in time: one query (``CheckQueue.claim``) takes everything due within
    ``HORIZON`` seconds, with a lease so processes sharing the database never check one article
    twice, and the pipeline starts them from memory when due, in batches: the first due waits
    up to ``BATCH`` seconds so that what falls due meanwhile starts with it (at steady load a
    check started alone paid more for its own wake-ups than for its work). A finishing check costs no
    query: its update waits in the checker's write-behind, and the next claim is made when the
    claimed articles run out (the horizon, or the in-memory queue running low when more were
    due), when a check finishing frees room on a site that had more due, or when an article of
    this process falls due again. Claims prompted by finishing checks are ``CLAIM_GAP`` apart at
    least, so checks finishing close together share one. With nothing due it sleeps until the
    next due time the claim reported, or a ``wake()`` (a new /track); it looks again after
    ``monitor.tick`` at most, for articles another process (``run`` beside a ``worker``) added or
    woke. Each of those looks is up to ``JITTER`` seconds late at random, so processes sleeping
    towards the same due time take turns claiming it instead of one taking every check.

    A site never has more than ``per_site_limit`` fetches running here, checks and feed fetches
    together (the ``SiteLoad`` shared with bot.service.follow): a site that hangs holds at most
    that many slots and the others keep flowing. Nor more than ``SITE_AHEAD`` times that claimed:
    behind a site that hangs, the last of them waits ``SITE_AHEAD - 1`` timeouts, inside its
    lease (three timeouts and a minute). That is also room for a horizon of a busy site's
    checks: a claim that had to leave some of a site out is made again as each of its checks
    ends, and at twice the fetch limit that was a claim for most checks at steady load.
    """

    JITTER = 0.05
    HORIZON = 1.0  # seconds ahead a claim reaches (never more than monitor.tick)
    LEAD = 0.2  # a claim is made this long before what it is for falls due
    CLAIM_GAP = 0.05  # seconds between two claims that finishing checks asked for
    BATCH = 0.2  # seconds a due article waits for others to start with it
    AHEAD = 4  # claimed and waiting: at most concurrency × AHEAD
    SITE_AHEAD = 4  # claimed per site, waiting or running: at most per_site_limit × SITE_AHEAD (≤ 4)

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
        self._ahead: list[tuple[datetime, int, Article]] = []  # claimed, not started: a heap by due time
        self._order = itertools.count()  # ties in the heap: claim order
        self._running: dict[int, asyncio.Task[CheckResult]] = {}
        self._site_load: Counter[str] = Counter()  # claimed per site, waiting + running
        # Fetches under way per site, shared with the feed schedule (app.py).
        self.sites = sites if sites is not None else SiteLoad(settings.per_site_limit)
        self.sites.on_free(self._site_freed)
        self._capped: set[str] = set()  # sites at their claim cap at the last claim: may have more due
        self._more_due = False  # the last claim stopped at its limit
        self._next_claim = datetime.min.replace(tzinfo=UTC)  # when to claim next (at once on start)
        self._urgent = False  # a wake(): claim now, whatever the gap
        self._last_claim = -1e9  # time.monotonic() of the last claim
        self.claims = 0  # claim queries made (for the operator's logs and the tests)

    @property
    def horizon(self) -> timedelta:
        return timedelta(seconds=min(self.HORIZON, self.settings.tick))

    def wake(self) -> None:
        """Look at the due queue now (an article was added or woken)."""
        self._urgent = True
        self._wake.set()

    def _site_freed(self) -> None:
        """A fetch ended (a check, or a feed's): an article waiting for its site may start
        now or, due later, needs a timer the last sleep did not set (its site was full)."""
        if self._ahead:
            self._wake.set()

    def _claim_at(self, when: datetime) -> None:
        """Claim no later than ``when`` (a finishing check's reason; ``CLAIM_GAP`` still holds)."""
        if when < self._next_claim:
            self._next_claim = when
            self._wake.set()

    async def run(self) -> None:
        """The pipeline; runs until cancelled, then gives back what it claimed but never began."""
        lease = timedelta(seconds=self.settings.timeout * 3 + 60)
        try:
            while True:
                self._wake.clear()  # before looking: a wake-up from now on is not lost
                now = utcnow()
                if self._room() > 0 and (
                    self._urgent
                    or (now >= self._next_claim and time.monotonic() >= self._last_claim + self.CLAIM_GAP)
                ):
                    await self._claim(now, lease)
                    now = utcnow()
                self._start_due(now)
                delay = self._idle_for(now)
                if delay > 0:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
        finally:
            await self._stop()

    def _room(self) -> int:
        """How many more articles this process may hold claimed."""
        return self.settings.concurrency * (self.AHEAD + 1) - len(self._ahead) - len(self._running)

    def _site_cap(self) -> int:
        return self.settings.per_site_limit * self.SITE_AHEAD

    async def _claim(self, now: datetime, lease: timedelta) -> None:
        """One claim of everything due within the horizon; decides when the next one is."""
        self._urgent = False
        self._last_claim = time.monotonic()
        self.claims += 1
        # Checks ending while the claim runs may ask for the next one (``_claim_at``): kept.
        self._next_claim = now + timedelta(seconds=self.settings.tick + random.uniform(0, self.JITTER))
        load = dict(self._site_load)
        cap = self._site_cap()
        try:
            # This process's own quiet checks are written first, so the claim sees them due.
            await self.checker.flush_writes()
            claim = await asyncio.to_thread(
                self.queue.claim, now, now + self.horizon, self._room(), lease, load, cap
            )
        except Exception:  # the database is away for a moment: look again later
            log.exception("claim_failed")
            return
        for article, due in claim.articles:
            self._site_load[article.site] += 1
            load[article.site] = load.get(article.site, 0) + 1
            heapq.heappush(self._ahead, (due, next(self._order), article))
        # Sites this claim left out or cut short: they may have more due.
        self._capped = set(full_sites(load, cap))
        if any(self._site_load[site] < cap for site in self._capped):
            self._claim_at(now)  # room came back while it ran
        self._more_due = not claim.drained
        if claim.next_due is not None:  # the horizon after this one, a little ahead of it
            jitter = timedelta(seconds=random.uniform(0, self.JITTER))
            later = max(claim.next_due, now + self.horizon) - timedelta(seconds=self.LEAD) + jitter
            self._claim_at(later)

    def _start_due(self, now: datetime) -> None:
        """Start every claimed article that is due, while slots (and its site's) are free."""
        held = []
        concurrency, running = self.settings.concurrency, self.sites.counts()
        while self._ahead and self._ahead[0][0] <= now and len(self._running) < concurrency:
            item = heapq.heappop(self._ahead)
            if running.get(item[2].site, 0) < self.sites.limit:
                running[item[2].site] = running.get(item[2].site, 0) + 1
                self._start(item[2], item[0])
            else:  # its site is busy: a check of that site finishing wakes us
                held.append(item)
        for item in held:
            heapq.heappush(self._ahead, item)

    def _idle_for(self, now: datetime) -> float:
        """Seconds until there is something to do: a claimed article due, or the next claim."""
        wake_at = now + timedelta(seconds=self.settings.tick)
        if self._room() > 0:
            gap = timedelta(seconds=max(0.0, self._last_claim + self.CLAIM_GAP - time.monotonic()))
            wake_at = min(wake_at, max(self._next_claim, now + gap))
        if len(self._running) < self.settings.concurrency:
            running, limit = self.sites.counts(), self.sites.limit
            startable = [due for due, _, a in self._ahead if running.get(a.site, 0) < limit]
            if startable:  # a batch: what falls due meanwhile starts with it
                wake_at = min(wake_at, min(startable) + timedelta(seconds=self.BATCH))
        return max(0.0, (wake_at - now).total_seconds())

    def _start(self, article: Article, due: datetime) -> None:
        assert article.id is not None
        site = article.site
        self.sites.take(site)
        # Started up to BATCH late to share its wake-ups with others: it counts as checked when
        # due, so batching never stretches an interval. A check late for want of a slot does not.
        late = utcnow() - due
        at = due if timedelta(0) <= late <= timedelta(seconds=self.BATCH) else None
        task = asyncio.create_task(self._guarded(article, at), name=f"check-{article.id}")
        self._running[article.id] = task

        def finished(task: asyncio.Task[CheckResult], article: Article = article) -> None:
            assert article.id is not None
            self._running.pop(article.id, None)
            self._site_load[site] -= 1
            if self._site_load[site] <= 0:
                del self._site_load[site]
            now = utcnow()
            if site in self._capped or (self._more_due and len(self._ahead) < self.settings.concurrency):
                self._claim_at(now)  # room for more of what the last claim had to leave
            if not task.cancelled() and task.exception() is None:
                due = task.result().next_check_at
                if due is not None:  # ours again then: claim it a little ahead
                    self._claim_at(due - timedelta(seconds=self.LEAD))
            self.sites.give(site)  # wakes the loop through _site_freed (and the feed schedule)

        task.add_done_callback(finished)

    async def _stop(self) -> None:
        """Cancel the checks under way and make everything this process held due again."""
        held = [*self._running, *(a.id for _, _, a in self._ahead if a.id is not None)]
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.checker.aclose()
        self._ahead.clear()
        if held:
            await asyncio.to_thread(self.queue.release, held, utcnow())

    async def _guarded(self, article: Article, at: datetime | None = None) -> CheckResult:
        assert article.id is not None
        try:
            result = await self.checker.check(article, at)
        except Exception:
            # A bug on one page must not stop the others; retry it later.
            log.exception("check_crashed article=%s", article.id)
            due = next_check(self.settings.max_interval, utcnow())
            await asyncio.to_thread(self.queue.update_article, article.id, next_check_at=due)
            return CheckResult(article.id, Outcome.FAILED, detail="internal error", next_check_at=due)
        if result.deliveries and self.on_announce is not None:
            self.on_announce()
        return result
