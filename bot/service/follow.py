"""The "follow a source" use case (/follow, /unfollow) and the feed schedule beside the checks.

A followed source is a feed (RSS/Atom) or a section page: its ``<link rel="alternate">`` feed
when it names one, else the article links on it. It is fetched once per
``monitor.follow_interval`` however many chats follow it (a conditional GET through the
guarded fetcher); each article that appears in it is tracked, for every chat following it, for
the follow's days, then released quietly. A failing source backs off and each chat hears once,
through the outbox (bot.tg.sender delivers it as it delivers announcements).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import Settings
from bot.core.extract import Snapshot
from bot.core.feeds import Entry, Listing, NotAFeed, article_links, feed_links, parse_feed
from bot.core.watchwords import Watchwords, mentions, split_watchwords
from bot.messages import follows as wording
from bot.messages import replies
from bot.net.fetch import FetchError, Page
from bot.net.urls import URLError, canonical_url, parse_user_url, site_name
from bot.service.pages import PageReader, fetch_source
from bot.service.sites import SiteLoad
from bot.service.track import Refusal, Refused, TrackService
from bot.storage.articles import FollowedBy, TrackResult
from bot.storage.models import DeliveryKind, Feed, Follow, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage

log = logging.getLogger("redline.follow")

MAX_DISCOVERED = 3  # alternate feeds of a page tried, in page order
_DAYS = re.compile(r"^(\d{1,4})(?:d|days?)?$", re.IGNORECASE)


NO_WORDS = Watchwords("")


@dataclass(frozen=True)
class FollowArgs:
    """What ``/follow URL [N days] [all] [words: …]`` asked for."""

    url: str | None
    days: int | None = None  # None: limits' default
    backlog: bool = False  # "all": what the source lists now is tracked too
    words: Watchwords = NO_WORDS  # bot.core.watchwords, the same rules as /track's
    bad: bool = False  # a word that is none of these


def parse_follow_args(args: list[str]) -> FollowArgs:
    """``/follow URL``, ``/follow URL 14 days``, ``/follow URL 14d all``, ``… words: …``."""
    split = split_watchwords(" ".join(args))
    tokens, words = split.rest.split(), Watchwords("", split.words, split.marked)
    if not tokens:
        return FollowArgs(None, words=words)
    url, rest = tokens[0], tokens[1:]
    days: int | None = None
    backlog = bad = False
    for i, token in enumerate(rest):
        lowered = token.lower()
        if lowered == "all":
            backlog = True
        elif lowered in ("day", "days") and i > 0 and rest[i - 1].isdigit():
            continue
        elif (m := _DAYS.match(lowered)) is not None:
            days = int(m.group(1))
        else:
            bad = True
    return FollowArgs(url, days, backlog, words, bad)


class FollowRefusal(StrEnum):
    USAGE = "usage"  # no URL, or words we don't understand
    BAD_DAYS = "bad_days"  # outside 1..limits.follow_max_days
    BAD_URL = "bad_url"  # bot.net.urls.URLError
    UNREADABLE = "unreadable"  # bot.net.fetch.FetchError
    NO_FEED = "no_feed"  # neither a feed nor a page with feeds or article links
    FULL = "full"  # limits.max_follows_per_chat
    BAD_WORDS = "bad_words"  # the watchwords cannot be kept (detail: why)


@dataclass(frozen=True)
class FollowRefused:
    reason: FollowRefusal
    detail: str = ""
    count: int = 0


@dataclass(frozen=True)
class FollowStarted:
    number: int
    title: str
    url: str
    listed: int  # articles the source lists now
    days: int
    backlog: int | None  # articles tracked at once (/follow URL all); None: backlog skipped
    from_page: bool  # a section page's article links, not a feed
    already: bool
    words: tuple[str, ...] = ()  # the follow's watchwords


@dataclass(frozen=True)
class Source:
    url: str  # the feed's (or, for a page without one, the page's) URL
    kind: str  # "feed" or "page"
    listing: Listing
    etag: str | None = None  # validators of this fetch: the first poll is already conditional
    last_modified: str | None = None


class FollowService:
    def __init__(
        self,
        store: Storage,
        pages: PageReader,
        tracker: TrackService,
        settings: Settings,
        on_notice: Callable[[], object] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
        sites: SiteLoad | None = None,
    ) -> None:
        self.store = store
        self.pages = pages
        self.tracker = tracker
        self.settings = settings
        self.on_notice = on_notice  # a notice was queued in the outbox: wakes the sender
        self.clock = clock
        # Fetches per site under way in this process, shared with the checks (app.py): a feed
        # fetch, and each article it brings, waits for room within monitor.per_site_limit.
        self.sites = sites if sites is not None else SiteLoad(settings.monitor.per_site_limit)
        self._wake = asyncio.Event()
        self.fetches = 0  # feed fetches this process made (the bench reports them)

    # -- reading a source ----------------------------------------------------------------------

    async def _parse(self, page: Page, kind: str) -> Listing:
        """On the parse thread: feedparser and lxml never run two at once in this process."""
        if kind == "page":
            return await self.pages.parser.run(article_links, page.html, page.url)
        return await self.pages.parser.run(parse_feed, page.html, page.url)

    async def discover(self, url: str) -> Source:
        """The source at ``url``: a feed, a page's feed, or a page's article links.

        Raises FetchError when it cannot be read, NotAFeed when it lists nothing."""
        page = await fetch_source(self.pages, url)
        self.fetches += 1
        try:
            return Source(page.url, "feed", await self._parse(page, "feed"), page.etag, page.last_modified)
        except NotAFeed:
            pass
        for link in (await self.pages.parser.run(feed_links, page.html, page.url))[:MAX_DISCOVERED]:
            try:
                feed_page = await fetch_source(self.pages, canonical_url(link))
                self.fetches += 1
                listing = await self._parse(feed_page, "feed")
                return Source(feed_page.url, "feed", listing, feed_page.etag, feed_page.last_modified)
            except (FetchError, NotAFeed, URLError) as exc:
                log.info("feed_link_unusable page=%s error=%s", page.url, type(exc).__name__)
        listing = await self._parse(page, "page")
        if not listing.entries:
            raise NotAFeed(wording.NO_FEED)
        return Source(page.url, "page", listing, page.etag, page.last_modified)

    # -- /follow and /unfollow ---------------------------------------------------------------

    async def follow(
        self, chat_id: int, args: FollowArgs, thread_id: int | None = None, user_id: int | None = None
    ) -> FollowStarted | FollowRefused:
        limits = self.settings.limits
        if args.url is None or args.bad:
            return FollowRefused(FollowRefusal.USAGE)
        refused_words = replies.watchwords_refused(args.words, "follow")
        if refused_words is not None:
            return FollowRefused(FollowRefusal.BAD_WORDS, refused_words)
        days = args.days if args.days is not None else min(7, limits.follow_max_days)
        if not 1 <= days <= limits.follow_max_days:
            return FollowRefused(FollowRefusal.BAD_DAYS, count=limits.follow_max_days)
        try:
            url = canonical_url(parse_user_url(args.url, max_chars=limits.max_url_chars))
        except URLError as exc:
            return FollowRefused(FollowRefusal.BAD_URL, exc.args[0])
        count = await asyncio.to_thread(self.store.follows.count, chat_id)
        if count >= limits.max_follows_per_chat:
            return FollowRefused(FollowRefusal.FULL, count=count)
        try:
            source = await self.discover(url)
        except FetchError as exc:
            log.info("follow_failed chat=%s reason=%r", chat_id, exc.user_message)
            return FollowRefused(FollowRefusal.UNREADABLE, exc.user_message)
        except NotAFeed:
            return FollowRefused(FollowRefusal.NO_FEED, wording.NO_FEED)
        now = self.clock()
        listed = list(source.listing.entries)
        followed = await asyncio.to_thread(
            self.store.follows.follow,
            chat_id,
            url=source.url,
            kind=source.kind,
            title=source.listing.title,
            listed=listed,
            days=days,
            now=now,
            validators=(source.etag, source.last_modified),
            next_fetch_at=now + timedelta(seconds=self.settings.monitor.follow_interval),
            thread_id=thread_id,
            user_id=user_id,
            watchwords=args.words.words,
        )
        backlog: int | None = None
        if args.backlog and not followed.already:
            backlog = 0
            read: dict[str, tuple[str, ...]] = {}
            for item in listed:
                outcome = await self._bring(followed.follow, item, now, read)
                if isinstance(outcome, Refused) and outcome.reason in (Refusal.FULL, Refusal.USER_FULL):
                    break
                backlog += isinstance(outcome, TrackResult) and not outcome.already
        log.info(
            "followed chat=%s follow=%s feed=%s kind=%s listed=%d already=%s",
            chat_id,
            followed.follow.number,
            followed.feed.id,
            source.kind,
            len(listed),
            followed.already,
        )
        return FollowStarted(
            followed.follow.number,
            followed.feed.title,
            followed.feed.url,
            len(listed),
            followed.follow.days,
            backlog,
            followed.feed.kind == "page",
            followed.already,
            tuple(followed.follow.watchwords or ()),
        )

    async def unfollow(self, chat_id: int, number: int) -> tuple[Follow, Feed, int] | None:
        done = await asyncio.to_thread(self.store.follows.unfollow, chat_id, number, self.clock())
        if done is not None:
            log.info("unfollowed chat=%s follow=%s released=%d", chat_id, number, done[2])
        return done

    # -- the feed schedule -------------------------------------------------------------------

    async def _bring(
        self, follow: Follow, item: Entry, now: datetime, read: dict[str, tuple[str, ...]]
    ) -> TrackResult | Refused:
        """Track one article a follow brought, for the follow's days from now. A full chat is
        refused before the page is fetched (/track fetches first: the link may redirect to an
        article the chat has; a feed listing thousands must not cost thousands of fetches).

        A follow with watchwords takes the article when the feed's headline or summary holds
        one; else the article's own headline and text decide, as first read (``read`` keeps
        what was read this round, so another follow of the same feed need not fetch it again)."""
        assert follow.id is not None
        count = await asyncio.to_thread(self.store.articles.count_subscriptions, follow.chat_id)
        if count >= self.settings.limits.max_articles_per_chat:
            return Refused(Refusal.FULL, count=count)
        words = tuple(follow.watchwords or ())
        wanted: Callable[[Snapshot], bool] | None = None
        if not mentions(words, (item.title, item.summary)):
            if item.url in read and not mentions(words, read[item.url]):
                return Refused(Refusal.UNWANTED)

            def wanted(snapshot: Snapshot) -> bool:
                read[item.url] = (snapshot.title, *snapshot.paragraphs)
                return mentions(words, read[item.url])

        async with self.sites.slot(site_name(item.url)):
            return await self.tracker.track(
                follow.chat_id,
                item.url,
                follow.thread_id,
                user_id=follow.user_id,
                words=Watchwords("", words, marked=True) if words else None,
                follow=FollowedBy(follow.id, now + timedelta(days=follow.days)),
                wanted=wanted,
            )

    def _backoff(self, failures: int) -> timedelta:
        m = self.settings.monitor
        return timedelta(
            seconds=min(m.follow_interval * 2 ** min(failures, 16), max(m.max_interval, m.follow_interval))
        )

    async def _failed(self, feed: Feed, reason: str, now: datetime) -> None:
        assert feed.id is not None
        failures = await asyncio.to_thread(
            self.store.follows.failed, feed.id, reason, now + self._backoff(feed.failures + 1)
        )
        log.info("feed_failed feed=%s failures=%d reason=%r", feed.id, failures, reason)
        if failures < self.settings.monitor.failures_before_notice:
            return

        def notice(follow: Follow) -> NewDelivery:
            text, plain = wording.feed_failing(follow.number, feed.title, feed.url, reason)
            return NewDelivery(follow.chat_id, DeliveryKind.FEED_FAILING, text, plain, follow_id=follow.id)

        if await asyncio.to_thread(self.store.follows.tell_failing, feed.id, notice, now):
            self.on_notice()

    async def _tell_full(self, follow: Follow, feed: Feed, count: int, now: datetime) -> None:
        assert follow.id is not None
        text, plain = wording.follow_full(follow.number, feed.title, feed.url, count)
        notice = NewDelivery(follow.chat_id, DeliveryKind.FOLLOW_FULL, text, plain, follow_id=follow.id)
        if await asyncio.to_thread(self.store.follows.tell_full, follow.id, notice, now):
            self.on_notice()

    async def poll_feed(self, feed: Feed, now: datetime) -> int:
        """One fetch of one feed; returns the articles it brought into chats."""
        assert feed.id is not None
        try:
            async with self.sites.slot(site_name(feed.url)):
                page = await fetch_source(self.pages, feed.url, feed.etag, feed.last_modified)
            self.fetches += 1
            listing = None if page.not_modified else await self._parse(page, feed.kind)
        except FetchError as exc:
            await self._failed(feed, exc.user_message, now)
            return 0
        except NotAFeed:
            await self._failed(feed, "it no longer serves a feed.", now)
            return 0
        listed = None if listing is None else list(listing.entries)
        new, _recovered = await asyncio.to_thread(
            self.store.follows.fetched,
            feed.id,
            listed=listed,
            etag=page.etag,
            last_modified=page.last_modified,
            now=now,
            next_fetch_at=now + timedelta(seconds=self.settings.monitor.follow_interval),
        )
        if not new:
            return 0
        brought = 0
        read: dict[str, tuple[str, ...]] = {}
        for follow in await asyncio.to_thread(self.store.follows.followers, feed.id):
            for item in new:
                outcome = await self._bring(follow, item, now, read)
                if isinstance(outcome, Refused):
                    if outcome.reason in (Refusal.FULL, Refusal.USER_FULL):
                        log.info(
                            "follow_full chat=%s follow=%s skipped=%d",
                            follow.chat_id,
                            follow.number,
                            len(new),
                        )
                        await self._tell_full(follow, feed, outcome.count, now)
                        break
                    continue
                if follow.told_full and not outcome.already:  # room again: the next fill is told
                    follow.told_full = False
                    await asyncio.to_thread(self.store.follows.set_told_full, follow.id, False)  # type: ignore[arg-type]
                brought += not outcome.already  # a chat's own /track of it stays its own
        log.info("feed_polled feed=%s new=%d brought=%d", feed.id, len(new), brought)
        return brought

    async def poll_once(self, now: datetime | None = None) -> int:
        """Release what expired, then fetch every due feed once. Returns articles brought."""
        now = now or self.clock()
        released = await asyncio.to_thread(self.store.follows.release_expired, now)
        if released:
            log.info("follow_released articles=%d", released)
        brought = 0
        lease = now + timedelta(seconds=self.settings.monitor.follow_interval)
        for feed in await asyncio.to_thread(self.store.follows.due, now):
            if await asyncio.to_thread(self.store.follows.claim, feed, lease):
                brought += await self.poll_feed(feed, now)
        return brought

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Forever: poll, then sleep ``monitor.tick`` (or until woken). One failure is logged
        and the next round goes on."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("feed_round_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.monitor.tick)
