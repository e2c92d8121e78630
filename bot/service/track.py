"""The "track a URL" use case, for /track and the "Track this article" button alike.

parse the URL → find the article → (fetch → fingerprint → extract when nobody reads it yet)
→ the chat's quota → subscribe. The answer is plain data (``TrackResult`` or ``Refused``);
the Telegram handler turns it into a reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.config import Settings
from bot.core.extract import NotAnArticle, Snapshot
from bot.core.watchwords import Watchwords
from bot.messages import replies
from bot.net.fetch import FetchError, Page
from bot.net.urls import URLError, canonical_url, parse_user_url, site_name, url_key
from bot.service.pages import PageReader
from bot.storage.articles import Articles, FollowedBy, PageMeta, TrackResult
from bot.storage.models import Article, ArticleState

log = logging.getLogger("redline.commands")


class Refusal(StrEnum):
    """Why a URL was not tracked."""

    NO_URL = "no_url"  # nothing to track was named
    BAD_URL = "bad_url"  # not a web address we may fetch (bot.net.urls.URLError)
    UNREADABLE = "unreadable"  # the fetch failed (bot.net.fetch.FetchError)
    FULL = "full"  # the chat tracks the most articles it may
    USER_FULL = "user_full"  # the user tracks the most articles one person may, across chats
    NOT_AN_ARTICLE = "not_an_article"  # the page has no article in it
    BAD_WORDS = "bad_words"  # the watchwords cannot be kept (none after "words:", too many, too long)
    UNWANTED = "unwanted"  # a follow's watchwords are in neither its headline nor its text


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    detail: str = ""  # the refusing layer's own explanation (URL, fetch and extraction errors)
    count: int = 0  # FULL: how many articles the chat tracks; USER_FULL: the user, everywhere


def _readable(article: Article | None) -> bool:
    """An article somebody's checks still read: a new subscriber needs no fetch of their own."""
    return article is not None and article.state not in (ArticleState.GONE, ArticleState.DORMANT)


class TrackService:
    def __init__(
        self,
        articles: Articles,
        pages: PageReader,
        settings: Settings,
        on_tracked: Callable[[], None] = lambda: None,
    ) -> None:
        self.articles = articles
        self.pages = pages
        self.settings = settings
        self.on_tracked = on_tracked  # wakes the scheduler: a new or woken article is due

    async def _over_quota(self, chat_id: int, key: str, user_id: int | None) -> Refused | None:
        """The chat's and the user's caps, for a subscription the chat does not have yet."""
        if await asyncio.to_thread(self.articles.lookup, chat_id, url_key=key) is not None:
            return None  # already tracked here: the reply says so, nothing new is taken
        limits = self.settings.limits
        count = await asyncio.to_thread(self.articles.count_subscriptions, chat_id)
        if count >= limits.max_articles_per_chat:
            return Refused(Refusal.FULL, count=count)
        if user_id is not None and limits.max_articles_per_user > 0:
            owned = await asyncio.to_thread(self.articles.count_owned, user_id)
            if owned >= limits.max_articles_per_user:
                log.info("track_refused chat=%s user=%s reason=user_cap owned=%d", chat_id, user_id, owned)
                return Refused(Refusal.USER_FULL, count=owned)
        return None

    async def _article_page(self, page: Page) -> tuple[Page, str]:
        """The page to read and the article's key: an AMP, mobile or query-string variant whose
        trusted canonical link names another URL is read at that URL (what readers of the
        article see), unless that cannot be fetched; then the variant stands for itself."""
        named = await self.pages.named(page)
        if url_key(named) == url_key(page.url):
            return page, url_key(named)
        try:
            canonical = await self.pages.fetch(named)
        except FetchError as exc:
            log.info("canonical_unreadable url=%s reason=%r", named, exc.user_message)
            return page, url_key(page.url)
        return canonical, url_key(named)

    async def track(
        self,
        chat_id: int,
        target: str | None,
        thread_id: int | None = None,
        user_id: int | None = None,
        words: Watchwords | None = None,
        follow: FollowedBy | None = None,
        wanted: Callable[[Snapshot], bool] | None = None,
    ) -> TrackResult | Refused:
        """Subscribe ``chat_id`` to the article at ``target`` (announcements go to ``thread_id``);
        ``user_id`` is who asked (kept as the subscription's owner, counted by the per-user cap);
        ``words`` from bot.core.watchwords.split_watchwords (unmarked: keep the chat's own);
        ``follow``: a follow brings it, for a while (None: the chat's own /track, kept);
        ``wanted``: asked of the article as first read (or, when somebody tracks it already, as
        last stored) before it is subscribed to; False refuses it (UNWANTED), fetched once."""
        if target is None:
            return Refused(Refusal.NO_URL)
        watchwords: tuple[str, ...] | None = None
        if words is not None and words.marked:
            refused_words = replies.watchwords_refused(words)
            if refused_words is not None:
                return Refused(Refusal.BAD_WORDS, refused_words)
            watchwords = words.words
        try:
            url = canonical_url(parse_user_url(target, max_chars=self.settings.limits.max_url_chars))
        except URLError as exc:
            return Refused(Refusal.BAD_URL, exc.args[0])
        key = url_key(url)
        known = await asyncio.to_thread(self.articles.find, key)
        page: Page | None = None
        if not _readable(known):
            try:
                page = await self.pages.fetch(url)
            except FetchError as exc:
                log.info("track_failed chat=%s reason=%r", chat_id, exc.user_message)
                return Refused(Refusal.UNREADABLE, exc.user_message)
            page, key = await self._article_page(page)
            url = page.url
            known = await asyncio.to_thread(self.articles.find, key)
        refused = await self._over_quota(chat_id, key, user_id)
        if refused is not None:
            return refused
        if wanted is not None and known is not None and _readable(known):
            assert known.id is not None
            last = await asyncio.to_thread(self.articles.latest_version, known.id)
            if last is not None and not wanted(Snapshot.from_dict(last.content)):
                return Refused(Refusal.UNWANTED)
        if known is not None and _readable(known):
            result = await asyncio.to_thread(
                self.articles.track,
                chat_id,
                url=known.url,
                url_key=key,
                site=known.site,
                title=known.title,
                content=None,
                content_hash="",
                meta=PageMeta(),
                interval=known.interval,
                thread_id=thread_id,
                user_id=user_id,
                watchwords=watchwords,
                follow=follow,
            )
        else:
            assert page is not None, "fetched above: no readable article had it"
            try:
                read = await self.pages.read(page)
            except NotAnArticle as exc:
                return Refused(Refusal.NOT_AN_ARTICLE, exc.args[0])
            assert read.snapshot is not None, "a first read always extracts"
            snapshot = read.snapshot
            if wanted is not None and not wanted(snapshot):
                return Refused(Refusal.UNWANTED)
            result = await asyncio.to_thread(
                self.articles.track,
                chat_id,
                url=url,
                url_key=key,
                site=site_name(url),
                title=snapshot.title,
                content=snapshot.to_dict(),
                content_hash=snapshot.content_hash,
                meta=PageMeta(page.etag, page.last_modified, page.body_hash, read.fingerprint),
                interval=self.settings.monitor.interval,
                thread_id=thread_id,
                headline_carrier=snapshot.carrier,
                user_id=user_id,
                canonical_key=key,
                watchwords=watchwords,
                follow=follow,
            )
        self.on_tracked()
        log.info(
            "tracked chat=%s article=%s number=%s already=%s",
            chat_id,
            result.article.id,
            result.number,
            result.already,
        )
        return result
