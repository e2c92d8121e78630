"""What the web pages and feeds show (versions read from storage, paired and diffed by the core)
and where a chat's links to them point.

No Telegram, no HTTP, no cache: ``bot.web`` serves and caches what these return. Every call is
synchronous (one read transaction plus the diffs), for ``asyncio.to_thread``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from bot.config import WebSettings
from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.core.record import WINDOWS, ArticleFacts, ArticleRef, Edit, Window, outlet_record
from bot.messages.weblinks import WebLinks
from bot.storage.chats import Chats
from bot.storage.models import Article, Chat, Version
from bot.storage.web import Reader, WebReads

FEED_ENTRIES = 50  # the newest edits a chat's feed lists


def _utc(moment: datetime) -> datetime:
    """The database's naive UTC times (SQLite, PostgreSQL ``timestamp``) made explicit."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ref(article: Article) -> ArticleRef:
    assert article.id is not None
    return ArticleRef(article.id, article.url, article.url_key, article.site, article.title)


def _edit(old: Version, new: Version) -> Edit:
    before, after = Snapshot.from_dict(old.content), Snapshot.from_dict(new.content)
    return Edit(
        article_id=new.article_id,
        old_number=old.number,
        new_number=new.number,
        old_at=_utc(old.created_at),
        new_at=_utc(new.created_at),
        title=after.title,
        new_hash=new.content_hash,
        changes=tuple(diff_snapshots(before, after)),
        old_paragraphs=before.paragraphs,
        new_paragraphs=after.paragraphs,
    )


class PageLinks:
    """Where a chat's links to the web pages point: ``web.public_url``, with the chat's token
    unless articles are public. None everywhere while no public address is set."""

    def __init__(self, chats: Chats, settings: WebSettings) -> None:
        self.chats = chats
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.public_url)

    def for_chat(self, chat: Chat) -> WebLinks | None:
        """The chat's addresses from its row as read (no query: announcements, one per chat)."""
        if not self.settings.public_url or (chat.web_token is None and not self.settings.public_articles):
            return None
        return WebLinks(self.settings.public_url, None if self.settings.public_articles else chat.web_token)

    def article(self, chat_id: int, article_id: int) -> str | None:
        """The article's history page, as the chat should link to it."""
        if not self.settings.public_url:
            return None
        token = None if self.settings.public_articles else self.chats.web_token(chat_id)
        return WebLinks(self.settings.public_url, token).article(article_id)

    def feed(self, chat_id: int, *, revoke: bool = False) -> str | None:
        """The chat's feed (a new address, the old one dead, with ``revoke``)."""
        if not self.settings.public_url:
            return None
        token = self.chats.replace_web_token(chat_id) if revoke else self.chats.web_token(chat_id)
        return WebLinks(self.settings.public_url, token).chat_feed()


class History:
    def __init__(self, reads: WebReads, feed_entries: int = FEED_ENTRIES) -> None:
        self.reads = reads
        self.feed_entries = feed_entries

    def reader(self, token: str) -> Reader | None:
        return self.reads.reader(token)

    def article(self, article_id: int) -> tuple[ArticleFacts, list[Edit]] | None:
        """The article's facts and every edit of it, oldest first."""
        found = self.reads.history(article_id)
        if found is None:
            return None
        article, versions = found
        facts = ArticleFacts(
            _ref(article),
            article.state,
            _utc(article.created_at),
            _utc(article.last_checked_at) if article.last_checked_at else None,
            len(versions),
        )
        return facts, [_edit(old, new) for old, new in itertools.pairwise(versions)]

    def latest_edits(self, article_ids: Collection[int]) -> list[tuple[ArticleRef, Edit]]:
        """The newest edits of these articles (a chat's feed), newest first."""
        return [
            (_ref(a), _edit(old, new))
            for a, (new, old) in self.reads.latest_edits(article_ids, self.feed_entries)
        ]

    def outlet(
        self, site: str, now: datetime, article_ids: Collection[int] | None
    ) -> tuple[tuple[Window, ...], dict[int, str]] | None:
        """A site's record over ``WINDOWS`` (of the articles in ``article_ids`` only, when
        given) and the headlines of its articles; None when there are none."""
        articles, pairs = self.reads.site_edits(site, now - timedelta(days=max(WINDOWS)), article_ids)
        if not articles:
            return None
        edits = [_edit(old, new) for new, old in pairs]
        titles = {a.id: a.title for a in articles if a.id is not None}
        return outlet_record(edits, len(articles), now), titles


__all__ = ["FEED_ENTRIES", "History", "PageLinks"]
