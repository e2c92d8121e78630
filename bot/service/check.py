"""One check of one article: read the page, compare, store what changed and who to tell.

The only room that joins the page reader (bot.service.pages), the pure core (diff → edit
events → policy → render) and the database (``Storage``) for a check; the scheduler
(bot.service.scheduler) decides when it runs. See DESIGN.md "The flow of one check".
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import MonitorSettings
from bot.core import policy
from bot.core.diff import diff_snapshots, for_sensitivity, summarize
from bot.core.edits import classify
from bot.core.extract import NotAnArticle, Snapshot
from bot.core.headline import CarrierSwitch, announceable, carrier_switch
from bot.core.policy import Intervals, Outcome, next_check
from bot.core.watchwords import edit_matters
from bot.messages import follows as follow_wording
from bot.messages import notices
from bot.messages.announcement import DEFAULT_BUDGET, MessageContext, render_announcement, render_plain
from bot.messages.buttons import announcement_keyboard, notice_keyboard
from bot.messages.replies import with_page_link
from bot.net.fetch import FetchError, HTTPStatusError, Page
from bot.net.urls import article_url, url_key
from bot.service.history import PageLinks
from bot.service.pages import PageReader
from bot.storage.articles import PageMeta
from bot.storage.batching import GroupCommit
from bot.storage.models import Article, ArticleState, Chat, DeliveryKind, Subscription, Version, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage

log = logging.getLogger("redline.monitor")

# Seconds a written-behind update waits for company: a transaction costs ~1.5 ms however few
# rows it holds, so at 20 checks/s a 50 ms linger spent 30 ms of CPU a second on flushes.
WRITE_BEHIND_LINGER = 1.0
SETTLED_MAX = 100_000  # articles whose settled identity a checker remembers (~10 MB at most)


@dataclass(frozen=True)
class CheckResult:
    article_id: int
    outcome: Outcome
    version: int | None = None
    deliveries: int = 0
    detail: str = ""
    # When the article falls due again, as this check wrote it (None: it left the schedule,
    # or the check did not say): the scheduler claims it again then, without asking the database.
    next_check_at: datetime | None = None


class Checker:
    """Checks one article at a time (many at once from the scheduler's slots).

    Quiet checks (nothing to announce) commit their one-row update through a group commit
    (bot.storage.batching): ``aclose`` flushes it. With ``write_behind`` (the scheduler's
    checker) a quiet check does not wait for that commit: updates of checks finishing close
    together share one transaction, written within ``GroupCommit``'s linger or before the
    scheduler's next claim (``flush_writes``). A batch lost in a crash only means its articles
    are checked again when their claim's lease runs out. A check that stores a version or a
    notice still writes it, with its deliveries, in its own transaction at once.
    """

    def __init__(
        self,
        store: Storage,
        pages: PageReader,
        settings: MonitorSettings,
        budget: int = DEFAULT_BUDGET,
        on_check: Callable[[Outcome, datetime], None] | None = None,
        links: PageLinks | None = None,
        on_version: Callable[[int], None] | None = None,
        write_behind: bool = False,
    ) -> None:
        self.store = store
        self.pages = pages
        self.settings = settings
        self.intervals = Intervals(settings.min_interval, settings.max_interval)
        self.budget = budget  # telegram.max_announcement_chars
        self.on_check = on_check  # counts outcomes for `redline stats` (bot.storage.stats.CheckCounter)
        self.links = links  # announcements link to the article's history page (web.public_url)
        self.on_version = on_version  # a version stored: the web pages showing the article are stale
        # The quiet checks' one-row updates, committed together (bot.storage.batching).
        self._quiet_writes: GroupCommit[tuple[int, dict[str, object]]] = GroupCommit(
            store.queue.update_articles, linger=WRITE_BEHIND_LINGER
        )
        self.write_behind = write_behind
        # Per article, a hash of the identity inputs its last check found settled
        # (``_follow_identity``): a few bytes an article, where the strings would be hundreds.
        self._settled: dict[int, int] = {}

    async def flush_writes(self) -> None:
        """Commit the quiet checks' updates still waiting (write-behind)."""
        await self._quiet_writes.flush()

    async def aclose(self) -> None:
        await self._quiet_writes.aclose()

    async def check(self, article: Article, now: datetime | None = None) -> CheckResult:
        """Fetch, extract, compare and store; logs one line and counts the outcome."""
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
        interval = self.intervals.slower(article.interval)
        due = next_check(interval, now)
        fields.update(interval=interval, next_check_at=due, last_checked_at=now)
        if self.write_behind:
            self._quiet_writes.put((article.id, fields))
        else:
            await self._quiet_writes.write((article.id, fields))
        return CheckResult(article.id, outcome, detail=detail, next_check_at=due)

    async def _check(self, article: Article, now: datetime) -> CheckResult:
        assert article.id is not None
        aid = article.id
        if policy.is_dormant(
            now,
            created_at=article.created_at,
            last_changed_at=article.last_changed_at,
            woken_at=article.woken_at,
            stop_after_days=self.settings.stop_after_days,
        ):
            await asyncio.to_thread(self.store.queue.update_article, aid, state=ArticleState.DORMANT)
            return CheckResult(aid, Outcome.DORMANT)
        # An article tracked before headline carriers were recorded is read in full once to get
        # one: no conditional GET, no cheap path.
        last_read: PageMeta | None = None
        if article.headline_carrier is not None:
            last_read = PageMeta(article.etag, article.last_modified, article.body_hash, article.fingerprint)
        try:
            page = await self.pages.fetch(article.url, last_read)
        except FetchError as exc:
            # Only "gone" ends an article; anything else (a 403 from bot protection, an
            # oversized error page) may pass, so it backs off and is retried.
            gone = isinstance(exc, HTTPStatusError) and exc.status in (404, 410)
            return await self._failed(article, now, exc.user_message, permanent=gone)

        printed = await self._follow_identity(article, page, last_read, now)
        recovered = {"failures": 0, "failure_reason": "", "state": ArticleState.ACTIVE}
        # ``article.fingerprint`` is only ever stored beside an extraction that was compared
        # with the last version and left it standing (same, noise, A/B flip) or became it;
        # a shrunk or unreadable page keeps the old one, so it is extracted again next time.
        try:
            read = await self.pages.read(page, last_read, article.headline_carrier, printed)
        except NotAnArticle as exc:
            return await self._failed(article, now, str(exc), permanent=False)
        if read.unchanged in (Outcome.NOT_MODIFIED, Outcome.BODY_SAME):
            # The page the last version came from: any shrink seen since was passing.
            return await self._quiet(
                article, now, read.unchanged, shrink_hash=None, shrink_count=0, **recovered
            )
        meta = {
            "etag": page.etag,
            "last_modified": page.last_modified,
            "body_hash": page.body_hash,
            "fingerprint": read.fingerprint,
        }
        if read.snapshot is None:
            return await self._quiet(
                article, now, Outcome.FINGERPRINT_SAME, shrink_hash=None, shrink_count=0, **meta, **recovered
            )
        new = read.snapshot
        switch = carrier_switch(article.headline_carrier, new.carrier)
        meta["headline_carrier"] = new.carrier

        last = await asyncio.to_thread(self.store.articles.latest_version, aid)
        assert last is not None, "every article has version 1"
        if new.content_hash == last.content_hash and switch is not CarrierSwitch.REDESIGN:
            return await self._quiet(
                article, now, Outcome.SAME, shrink_hash=None, shrink_count=0, **meta, **recovered
            )

        old = Snapshot.from_dict(last.content)
        found = diff_snapshots(old, new)
        changes = announceable(found, switch, new.search_title)
        if not changes:
            if switch is CarrierSwitch.SAME:
                return await self._quiet(article, now, Outcome.NOISE, **meta, **recovered)
            # What is read changed (the headline's element, or the search title that versions
            # stored before it was read lack), the page did not: the next check compares with this.
            interval = self.intervals.slower(article.interval)
            recorded: dict[str, object] = {
                "title": new.title,
                "interval": interval,
                "next_check_at": next_check(interval, now),
                "last_checked_at": now,
                **meta,
                **recovered,
            }
            note = notices.CARRIER_NOTES[switch]
            version = await self._store(aid, new, note, [], recorded, now)
            return CheckResult(
                aid, Outcome.NOISE, version=version.number, detail=note, next_check_at=_due_of(recorded)
            )

        withdrawn = False
        if policy.shrank(old, new):
            shrink = policy.shrink_seen(
                new.content_hash, article.shrink_hash, article.shrink_count, self.settings.withdrawal_checks
            )
            if not shrink.withdrawn:
                # Probably a paywall or error page served once: look again soon, say nothing.
                soon = next_check(self.settings.min_interval, now)
                await asyncio.to_thread(
                    self.store.queue.update_article,
                    aid,
                    shrink_hash=new.content_hash,
                    shrink_count=shrink.count,
                    next_check_at=soon,
                    last_checked_at=now,
                    **recovered,
                )
                return CheckResult(
                    aid,
                    Outcome.SHRUNK,
                    detail=f"{shrink.count}/{self.settings.withdrawal_checks}",
                    next_check_at=soon,
                )
            withdrawn = True

        index = await asyncio.to_thread(self.store.articles.version_index, aid)
        event = classify(index, old, new, changes, article.ab_titles)
        if not policy.announces(event):
            return await self._quiet(
                article, now, Outcome.NOISE, detail="headline A/B flip", **meta, **recovered
            )
        note, summary = notices.describe(event, withdrawn, summarize(event.changes))
        if switch is not CarrierSwitch.SAME:
            summary = f"{summary}; {notices.CARRIER_NOTES[switch]}"

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

        keyboard = announcement_keyboard(aid, last.number, number)

        @functools.cache
        def matters(sensitivity: str, words: tuple[str, ...]) -> bool:
            """Watchwords: an edit whose changed words hold none stays in /history for the chat."""
            return edit_matters(words, for_sensitivity(event.changes, sensitivity))

        deliveries = []
        audience = await asyncio.to_thread(self.store.articles.audience, aid)
        brought = [sub.follow_id for sub, _chat in audience if sub.follow_id is not None]
        follows = await asyncio.to_thread(self.store.follows.titles, brought) if brought else {}
        for sub, chat in audience:
            if not matters(chat.sensitivity, tuple(sub.watchwords or ())) or digest_only(sub, chat):
                continue
            rendered = message(chat.sensitivity, sub.number)
            if rendered is not None:
                text, plain = rendered
                addresses = self.links.for_chat(chat) if self.links is not None else None
                if addresses is not None:  # its own line, after the /diff pointer
                    text, plain = with_page_link(text, plain, addresses.article(aid, number))
                if sub.follow_id in follows:  # a busy chat can tell which follow brought it
                    follow_number, source = follows[sub.follow_id]  # (``number`` is the version's)
                    text = f"{text}\n{follow_wording.brought_by(follow_number, source)}"
                    plain = f"{plain}\n{follow_wording.brought_by_plain(follow_number, source)}"
                deliveries.append(
                    NewDelivery(chat.id, DeliveryKind.EDIT, text=text, plain=plain, buttons=keyboard)
                )
        interval = self.intervals.faster(article.interval)
        fields: dict[str, object] = {
            "title": new.title,
            "interval": interval,
            "next_check_at": next_check(interval, now),
            "last_checked_at": now,
            "last_changed_at": now,
            "shrink_hash": None,
            "shrink_count": 0,
            **meta,
            **recovered,
        }
        if event.ab_titles:
            fields["ab_titles"] = list(event.ab_titles)
        version = await self._store(aid, new, summary, deliveries, fields, now)
        return CheckResult(
            aid,
            Outcome.CHANGED,
            version=version.number,
            deliveries=len(deliveries),
            next_check_at=_due_of(fields),
        )

    async def _store(
        self,
        aid: int,
        new: Snapshot,
        summary: str,
        deliveries: list[NewDelivery],
        fields: dict[str, object],
        now: datetime,
    ) -> Version:
        """The new version, its announcements and the article's new state, in one transaction."""
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
        if self.on_version is not None:
            self.on_version(aid)
        return version

    async def _follow_identity(
        self, article: Article, page: Page, last_read: PageMeta | None, now: datetime
    ) -> str | None:
        """Follow the article where the publisher says it now lives; returns the page's
        fingerprint when it was read on the way (one parse-thread trip for both, see ``read``).

        A new name (a trusted canonical link with a new slug, or a redirect to one) moves the
        article there and tells its chats once ("URL changed"); a redirect to the same article
        (http → https, www) only saves the next check the hop; an article recorded before its
        name was kept takes it quietly. ``article`` is updated in place for the rest of the check.
        """
        assert article.id is not None
        if page.not_modified:
            return None  # no head to read: a move is seen on the next full answer
        same_bytes = page.body_hash is not None and page.body_hash == article.body_hash
        if same_bytes and article.canonical_key is not None and page.url == article.url:
            return None  # the page that named it last time, from the same address: the cheap path stays cheap
        declared, printed = await self.pages.declared(page, last_read)
        # What decides the outcome below; the same as at this article's last check, which
        # changed nothing: nothing changes now either (no URL parsing for a noisy page).
        inputs = hash((page.url, declared, article.url, article.canonical_key))
        if self._settled.get(article.id) == inputs:
            return printed
        named = article_url(page.url, declared)
        key = url_key(named)
        fields: dict[str, object] = {}
        told: list[NewDelivery] = []
        if key != article.canonical_key:
            fields["canonical_key"] = key
            if key != article.url_key:
                taken = await asyncio.to_thread(self.store.articles.find, key)
                if taken is None:
                    fields["url_key"] = key
                else:  # tracked apart before the publisher merged them: both stay
                    log.info("identity_taken article=%s by=%s key=%s", article.id, taken.id, key)
            fields["url"] = named
            if article.canonical_key is not None:
                told = [
                    _moved(sub.chat_id, article, sub.number, named)
                    for sub, chat in await asyncio.to_thread(self.store.articles.audience, article.id)
                    if not digest_only(sub, chat)
                ]
                log.info("article_moved article=%s from=%s to=%s", article.id, article.url, named)
        elif url_key(page.url) != url_key(article.url):
            fields["url"] = page.url
        if not fields:
            if len(self._settled) >= SETTLED_MAX:
                self._settled.clear()  # a bound, not a policy: the next checks fill it again
            self._settled[article.id] = inputs
            return printed
        self._settled.pop(article.id, None)
        await asyncio.to_thread(self.store.outbox.add_notices, article.id, told, fields, now)
        for name, value in fields.items():
            setattr(article, name, value)
        return printed

    async def _failed(self, article: Article, now: datetime, reason: str, *, permanent: bool) -> CheckResult:
        """Permanent failures end the article; temporary ones back off and speak up once."""
        assert article.id is not None
        aid = article.id
        failures = article.failures + 1
        audience = [
            (sub, chat)
            for sub, chat in await asyncio.to_thread(self.store.articles.audience, aid)
            if not digest_only(sub, chat)
        ]
        if permanent:
            told = [
                _notice(sub.chat_id, DeliveryKind.GONE, article, sub.number, reason)
                for sub, _chat in audience
            ]
            await asyncio.to_thread(
                self.store.outbox.add_notices,
                aid,
                told,
                {
                    "state": ArticleState.GONE,
                    "failures": failures,
                    "failure_reason": reason,
                    "last_checked_at": now,
                },
                now,
            )
            return CheckResult(aid, Outcome.GONE, deliveries=len(told), detail=reason)
        backoff = self.intervals.backoff(article.interval, failures)
        fields: dict[str, object] = {
            "failures": failures,
            "failure_reason": reason,
            "next_check_at": next_check(backoff, now),
            "last_checked_at": now,
        }
        told = []
        if policy.notice_due(failures, self.settings.failures_before_notice):
            fields["state"] = ArticleState.FAILING
            told = [
                _notice(sub.chat_id, DeliveryKind.FAILING, article, sub.number, reason)
                for sub, _chat in audience
            ]
        await asyncio.to_thread(self.store.outbox.add_notices, aid, told, fields, now)
        return CheckResult(
            aid, Outcome.FAILED, deliveries=len(told), detail=reason, next_check_at=_due_of(fields)
        )


def _due_of(fields: dict[str, object]) -> datetime | None:
    """The ``next_check_at`` among the article fields a check writes."""
    due = fields.get("next_check_at")
    return due if isinstance(due, datetime) else None


def digest_only(sub: Subscription, chat: Chat) -> bool:
    """An article a follow brought, for a chat that takes those only in its daily digest: no
    message of its own (the version is stored all the same: /history, /digest, the digest)."""
    return sub.follow_id is not None and chat.digest_only and chat.digest_minute is not None


def _moved(chat_id: int, article: Article, number: int, new_url: str) -> NewDelivery:
    text, plain = notices.article_moved(number, article.title, article.url, new_url, article.site)
    return NewDelivery(chat_id=chat_id, kind=DeliveryKind.MOVED, text=text, plain=plain)


def _notice(chat_id: int, kind: DeliveryKind, article: Article, number: int, reason: str) -> NewDelivery:
    worded = notices.article_gone if kind == DeliveryKind.GONE else notices.article_failing
    text, plain = worded(number, article.title, article.url, article.site, reason)
    assert article.id is not None
    return NewDelivery(
        chat_id=chat_id, kind=kind, text=text, plain=plain, buttons=notice_keyboard(article.id)
    )
