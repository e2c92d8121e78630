"""One check of one article, and the due-queue that runs them.

The monitor is the only place that joins the network edge (``Fetcher``), the pure core
(extract → diff → render) and the database (``Storage``). A failure in one article's check is
logged and rescheduled; it never stops the checks of the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import MonitorSettings
from bot.core.diff import diff_snapshots, for_sensitivity, summarize
from bot.core.edits import EventKind, classify
from bot.core.extract import NotAnArticle, Snapshot
from bot.core.fingerprint import fingerprint as page_fingerprint
from bot.messages import notices
from bot.messages.announcement import DEFAULT_BUDGET, MessageContext, render_announcement, render_plain
from bot.net.fetch import Fetcher, FetchError, HTTPStatusError
from bot.service.parse_thread import ParseThread
from bot.storage.batching import GroupCommit
from bot.storage.models import Article, ArticleState, DeliveryKind, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.queue import full_sites
from bot.storage.store import Storage

log = logging.getLogger("redline.monitor")

# A new text shorter than this share of the last version's is treated as a possible
# paywall/error page served once, and must persist before it is announced.
SHRINK_RATIO = 0.4
SHRINK_MIN_CHARS = 400


class Outcome(StrEnum):
    """What one check found; the cheap paths come first, in the order they are tried."""

    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET: one request, nothing read
    BODY_SAME = "body_same"  # the same bytes as the last page read: not parsed
    FINGERPRINT_SAME = "fingerprint_same"  # new bytes, same bot.core.fingerprint: not extracted
    SAME = "same"  # extracted; content hash unchanged
    NOISE = "noise"  # extraction differed only in what diff ignores
    CHANGED = "changed"
    SHRUNK = "shrunk"  # most of the text vanished; waiting to see if it persists
    FAILED = "failed"
    GONE = "gone"
    DORMANT = "dormant"


@dataclass(frozen=True)
class CheckResult:
    article_id: int
    outcome: Outcome
    version: int | None = None
    deliveries: int = 0
    detail: str = ""


def _text_size(snapshot: Snapshot) -> int:
    return len(snapshot.title) + sum(len(p) for p in snapshot.paragraphs)


class Monitor:
    """Runs checks as a continuous pipeline (``run``): ``concurrency`` slots, each taking the
    next due article as soon as it frees up, never waiting for a batch to finish.

    Claims come from the database in chunks of up to ``concurrency`` (one write per chunk, not
    per check), with a lease so processes sharing the database never check one article twice.
    A site never has more than ``per_site_limit`` claimed articles in this process, so a site
    that hangs holds at most that many slots and the others keep flowing. With nothing due the
    pipeline sleeps until the earliest due time or a ``wake()`` (a new /track); it looks again
    after ``monitor.tick`` at most, for articles another process (``run`` beside a ``worker``)
    added or woke. Each sleep ends up to ``JITTER`` seconds late at random, so processes sleeping
    towards the same due time take turns claiming it instead of one taking every check.
    """

    JITTER = 0.05

    def __init__(
        self,
        store: Storage,
        fetcher: Fetcher,
        settings: MonitorSettings,
        parser: ParseThread,
        budget: int = DEFAULT_BUDGET,
        on_check: Callable[[Outcome, datetime], None] | None = None,
        on_announce: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.settings = settings
        self.parser = parser
        self.budget = budget  # telegram.max_announcement_chars
        self.on_check = on_check  # counts outcomes for `redline stats` (bot.storage.stats.CheckCounter)
        # Called after a check stored something to send: the hook that wakes the sender.
        self.on_announce = on_announce
        self._wake = asyncio.Event()
        self._pending: deque[Article] = deque()  # claimed, waiting for a free slot
        self._running: dict[int, asyncio.Task[CheckResult]] = {}
        self._site_load: Counter[str] = Counter()  # claimed per site, pending + running
        # The quiet checks' one-row updates, committed together (bot.storage.batching).
        self._quiet_writes: GroupCommit[tuple[int, dict[str, object]]] = GroupCommit(
            store.queue.update_articles
        )

    # -- scheduling --------------------------------------------------------------------

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
                busy = full_sites(self._site_load, self.settings.per_site_limit)
                try:
                    next_due = await asyncio.to_thread(self.store.queue.next_due, busy)
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
        claimed, drained = await asyncio.to_thread(
            self.store.queue.claim_due, now, limit, lease, dict(self._site_load), self.settings.per_site_limit
        )
        for article in claimed:
            self._site_load[article.site] += 1
            self._pending.append(article)
        return drained

    def _start(self, article: Article) -> None:
        assert article.id is not None
        task = asyncio.create_task(self._guarded(article), name=f"check-{article.id}")
        self._running[article.id] = task

        def finished(_task: asyncio.Task[CheckResult], article: Article = article) -> None:
            assert article.id is not None
            self._running.pop(article.id, None)
            self._site_load[article.site] -= 1
            if self._site_load[article.site] <= 0:
                del self._site_load[article.site]
            self._wake.set()

        task.add_done_callback(finished)

    async def _stop(self) -> None:
        """Cancel the checks under way and make everything this process held due again."""
        held = [*self._running, *(a.id for a in self._pending if a.id is not None)]
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self._quiet_writes.aclose()
        self._pending.clear()
        if held:
            await asyncio.to_thread(self.store.queue.release, held, utcnow())

    async def _guarded(self, article: Article) -> CheckResult:
        assert article.id is not None
        try:
            result = await self.check(article)
        except Exception:
            # A bug on one page must not stop the others; retry it later.
            log.exception("check_crashed article=%s", article.id)
            await asyncio.to_thread(
                self.store.queue.update_article,
                article.id,
                next_check_at=utcnow() + timedelta(seconds=self.settings.max_interval),
            )
            return CheckResult(article.id, Outcome.FAILED, detail="internal error")
        if result.deliveries and self.on_announce is not None:
            self.on_announce()
        return result

    def _next(self, interval: int, now: datetime) -> datetime:
        return now + timedelta(seconds=interval)

    def _slower(self, interval: int) -> int:
        return min(self.settings.max_interval, max(self.settings.min_interval, int(interval * 1.25)))

    def _faster(self, interval: int) -> int:
        return max(self.settings.min_interval, min(self.settings.max_interval, interval // 2))

    # -- one check ---------------------------------------------------------------------

    async def check(self, article: Article, now: datetime | None = None) -> CheckResult:
        """Fetch, extract, compare and store; see DESIGN.md "The flow of one check"."""
        assert article.id is not None
        started = time.monotonic()
        now = now or utcnow()
        result = await self._check(article, now)
        log.info(
            "check article=%s outcome=%s version=%s deliveries=%s ms=%d%s",
            article.id,
            result.outcome,
            result.version,
            result.deliveries,
            (time.monotonic() - started) * 1000,
            f" detail={result.detail!r}" if result.detail else "",
        )
        if self.on_check is not None:
            self.on_check(result.outcome, now)
        return result

    async def _quiet(
        self, article: Article, now: datetime, outcome: Outcome, detail: str = "", **fields: object
    ) -> CheckResult:
        """Nothing to announce: record the check and look less often (pages settle down)."""
        assert article.id is not None
        interval = self._slower(article.interval)
        fields.update(interval=interval, next_check_at=self._next(interval, now), last_checked_at=now)
        await self._quiet_writes.write((article.id, fields))
        return CheckResult(article.id, outcome, detail=detail)

    async def _check(self, article: Article, now: datetime) -> CheckResult:
        assert article.id is not None
        aid = article.id
        # Quiet since its last change, or since /track last woke it, whichever is later.
        quiet_since = max(
            article.last_changed_at or article.created_at, article.woken_at or article.created_at
        )
        if now - quiet_since > timedelta(days=self.settings.stop_after_days):
            await asyncio.to_thread(self.store.queue.update_article, aid, state=ArticleState.DORMANT)
            return CheckResult(aid, Outcome.DORMANT)
        try:
            page = await self.fetcher.fetch(
                article.url, etag=article.etag, last_modified=article.last_modified
            )
        except FetchError as exc:
            # Only "gone" ends an article; anything else (a 403 from bot protection, an
            # oversized error page) may pass, so it backs off and is retried.
            gone = isinstance(exc, HTTPStatusError) and exc.status in (404, 410)
            return await self._failed(article, now, exc.user_message, permanent=gone)

        recovered = {"failures": 0, "failure_reason": "", "state": ArticleState.ACTIVE}
        if page.not_modified or (page.body_hash and page.body_hash == article.body_hash):
            # The page the last version came from: any shrink seen since was passing.
            outcome = Outcome.NOT_MODIFIED if page.not_modified else Outcome.BODY_SAME
            return await self._quiet(article, now, outcome, shrink_hash=None, shrink_count=0, **recovered)

        # ``article.fingerprint`` is only ever stored beside an extraction that was compared
        # with the last version and left it standing (same, noise, A/B flip) or became it;
        # a shrunk or unreadable page keeps the old one, so it is extracted again next time.
        fingerprint = await self.parser.run(page_fingerprint, page.html)
        meta = {
            "etag": page.etag,
            "last_modified": page.last_modified,
            "body_hash": page.body_hash,
            "fingerprint": fingerprint,
        }
        if fingerprint == article.fingerprint:
            return await self._quiet(
                article, now, Outcome.FINGERPRINT_SAME, shrink_hash=None, shrink_count=0, **meta, **recovered
            )
        try:
            new = await self.parser.extract(page.html, page.url)
        except NotAnArticle as exc:
            return await self._failed(article, now, str(exc), permanent=False)

        last = await asyncio.to_thread(self.store.articles.latest_version, aid)
        assert last is not None, "every article has version 1"
        if new.content_hash == last.content_hash:
            return await self._quiet(
                article, now, Outcome.SAME, shrink_hash=None, shrink_count=0, **meta, **recovered
            )

        old = Snapshot.from_dict(last.content)
        changes = diff_snapshots(old, new)
        if not changes:
            return await self._quiet(article, now, Outcome.NOISE, **meta, **recovered)

        withdrawn = False
        if _text_size(old) >= SHRINK_MIN_CHARS and _text_size(new) < SHRINK_RATIO * _text_size(old):
            count = article.shrink_count + 1 if article.shrink_hash == new.content_hash else 1
            if count < self.settings.withdrawal_checks:
                # Probably a paywall or error page served once: look again soon, say nothing.
                await asyncio.to_thread(
                    self.store.queue.update_article,
                    aid,
                    shrink_hash=new.content_hash,
                    shrink_count=count,
                    next_check_at=self._next(self.settings.min_interval, now),
                    last_checked_at=now,
                    **recovered,
                )
                return CheckResult(aid, Outcome.SHRUNK, detail=f"{count}/{self.settings.withdrawal_checks}")
            withdrawn = True

        index = await asyncio.to_thread(self.store.articles.version_index, aid)
        event = classify(index, old, new, changes, article.ab_titles)
        if event.kind == EventKind.AB_FLIP:
            return await self._quiet(
                article, now, Outcome.NOISE, detail="headline A/B flip", **meta, **recovered
            )
        note, summary = notices.describe(event, withdrawn, summarize(event.changes))

        number = last.number + 1

        @functools.cache
        def message(sensitivity: str, article_number: int) -> tuple[str, str] | None:
            """One render per (sensitivity, number) however many chats share them."""
            shown = for_sensitivity(event.changes, sensitivity)
            if not shown:
                return None
            ctx = MessageContext(
                site=article.site,
                url=article.url,
                title=new.title,
                old_version=last.number,
                new_version=number,
                elapsed=now - last.created_at,
                article_number=article_number,
                note=note,
                paragraphs=len(old.paragraphs),
            )
            return render_announcement(shown, ctx, self.budget), render_plain(shown, ctx, self.budget)

        deliveries = []
        for sub, chat in await asyncio.to_thread(self.store.articles.audience, aid):
            rendered = message(chat.sensitivity, sub.number)
            if rendered is not None:
                text, plain = rendered
                deliveries.append(NewDelivery(chat.id, DeliveryKind.EDIT, text=text, plain=plain))
        interval = self._faster(article.interval)
        fields: dict[str, object] = {
            "title": new.title,
            "interval": interval,
            "next_check_at": self._next(interval, now),
            "last_checked_at": now,
            "last_changed_at": now,
            "shrink_hash": None,
            "shrink_count": 0,
            **meta,
            **recovered,
        }
        if event.ab_titles:
            fields["ab_titles"] = list(event.ab_titles)
        version = await asyncio.to_thread(
            self.store.articles.store_version,
            aid,
            title=new.title,
            content=new.to_dict(),
            content_hash=new.content_hash,
            summary=summary,
            deliveries=deliveries,
            article_fields=fields,
            now=now,
        )
        return CheckResult(aid, Outcome.CHANGED, version=version.number, deliveries=len(deliveries))

    async def _failed(self, article: Article, now: datetime, reason: str, *, permanent: bool) -> CheckResult:
        """Permanent failures end the article; temporary ones back off and speak up once."""
        assert article.id is not None
        aid = article.id
        failures = article.failures + 1
        audience = await asyncio.to_thread(self.store.articles.audience, aid)
        if permanent:
            notices = [
                _notice(sub.chat_id, DeliveryKind.GONE, article, sub.number, reason)
                for sub, _chat in audience
            ]
            await asyncio.to_thread(
                self.store.outbox.add_notices,
                aid,
                notices,
                {
                    "state": ArticleState.GONE,
                    "failures": failures,
                    "failure_reason": reason,
                    "last_checked_at": now,
                },
                now,
            )
            return CheckResult(aid, Outcome.GONE, deliveries=len(notices), detail=reason)
        backoff = min(self.settings.max_interval, article.interval * 2 ** min(failures, 16))
        fields: dict[str, object] = {
            "failures": failures,
            "failure_reason": reason,
            "next_check_at": self._next(backoff, now),
            "last_checked_at": now,
        }
        notices = []
        if failures == self.settings.failures_before_notice:
            fields["state"] = ArticleState.FAILING
            notices = [
                _notice(sub.chat_id, DeliveryKind.FAILING, article, sub.number, reason)
                for sub, _chat in audience
            ]
        await asyncio.to_thread(self.store.outbox.add_notices, aid, notices, fields, now)
        return CheckResult(aid, Outcome.FAILED, deliveries=len(notices), detail=reason)


def _notice(chat_id: int, kind: DeliveryKind, article: Article, number: int, reason: str) -> NewDelivery:
    worded = notices.article_gone if kind == DeliveryKind.GONE else notices.article_failing
    text, plain = worded(number, article.title, article.url, article.site, reason)
    return NewDelivery(chat_id=chat_id, kind=kind, text=text, plain=plain)
