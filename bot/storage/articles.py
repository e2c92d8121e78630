"""Articles, the chats' subscriptions to them (/track, /untrack, /list) and their versions.

An article is stored once however many chats track it; each chat numbers its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.storage.chats import subscription
from bot.storage.engine import read_session, session_scope
from bot.storage.models import (
    Article,
    ArticleState,
    Chat,
    Delivery,
    DeliveryStatus,
    Subscription,
    Version,
    utcnow,
)
from bot.storage.outbox import NewDelivery, add_deliveries
from bot.storage.queue import set_fields


@dataclass(frozen=True)
class Tracked:
    """One row of a chat's /list."""

    number: int
    article: Article
    versions: int
    follow_id: int | None = None  # brought by this follow (/list shows it under the follow)


@dataclass(frozen=True)
class ListPage:
    """One page of a chat's /list: its rows, how many articles match in all, and which page
    it is (a page past the end is the last one: articles may be untracked between two taps)."""

    rows: list[Tracked]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class TrackResult:
    number: int
    article: Article
    already: bool  # the chat tracked this article before
    watchwords: tuple[str, ...] = ()  # the subscription's (bot.core.watchwords): only edits with one


@dataclass(frozen=True)
class FollowedBy:
    """The follow that brings an article into a chat, and when it lets it go."""

    follow_id: int
    expires_at: datetime


@dataclass(frozen=True)
class PageMeta:
    """What a fetch learned that the next conditional GET needs."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    fingerprint: str | None = None  # bot.core.fingerprint of the page version 1 was extracted from


def drop_subscription(s: Session, sub: Subscription, now: datetime) -> Article | None:
    """End one chat's subscription (/untrack, /unfollow, a follow's article released) in the
    caller's transaction: an article nobody tracks any more is marked for retention."""
    article = s.get(Article, sub.article_id)
    s.delete(sub)
    s.flush()
    others = s.exec(select(Subscription.id).where(Subscription.article_id == sub.article_id)).first()
    if article is not None and others is None:
        article.untracked_since = now  # deleted after database.keep_untracked_days
        s.add(article)
    # Announcements not yet sent for this article would now surprise the chat.
    s.exec(  # type: ignore[call-overload]
        update(Delivery)
        .where(col(Delivery.chat_id) == sub.chat_id)
        .where(col(Delivery.article_id) == sub.article_id)
        .where(col(Delivery.status) == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.FAILED, error="untracked")
    )
    return article


class Articles:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, url_key: str) -> Article | None:
        with read_session(self.engine) as s:
            return s.exec(select(Article).where(Article.url_key == url_key)).first()

    def count_subscriptions(self, chat_id: int) -> int:
        with read_session(self.engine) as s:
            return s.exec(
                select(func.count()).select_from(Subscription).where(Subscription.chat_id == chat_id)
            ).one()

    def count_owned(self, user_id: int) -> int:
        """Articles ``user_id`` tracks across every chat (the per-user cap)."""
        with read_session(self.engine) as s:
            return s.exec(
                select(func.count()).select_from(Subscription).where(Subscription.user_id == user_id)
            ).one()

    def track(
        self,
        chat_id: int,
        *,
        url: str,
        url_key: str,
        site: str,
        title: str,
        content: dict | None,
        content_hash: str,
        meta: PageMeta,
        interval: int,
        now: datetime | None = None,
        thread_id: int | None = None,
        headline_carrier: str | None = None,
        user_id: int | None = None,
        canonical_key: str | None = None,
        watchwords: Sequence[str] | None = None,
        follow: FollowedBy | None = None,
    ) -> TrackResult:
        """Subscribe the chat; create the article and its version 1 if nobody tracked it yet.

        ``watchwords`` replace the subscription's (None keeps them: a plain /track again); a
        follow's are given to a new subscription only (one the chat has keeps its own).
        ``follow``: a follow brings it (released at its end); None, the chat's own /track, which
        keeps an article a follow brought for good.

        Two chats tracking the same new article at once race on the unique url_key (and one
        chat's two /track commands on its numbering): the loser retries and finds the row.
        """
        now = now or utcnow()

        def once() -> TrackResult:
            with session_scope(self.engine) as s:
                article = s.exec(select(Article).where(Article.url_key == url_key)).first()
                if article is None:
                    if content is None:
                        raise ValueError("a new article needs its first snapshot")
                    article = Article(
                        url=url,
                        url_key=url_key,
                        site=site,
                        title=title,
                        interval=interval,
                        next_check_at=now + timedelta(seconds=interval),
                        last_checked_at=now,
                        last_changed_at=now,
                        etag=meta.etag,
                        last_modified=meta.last_modified,
                        body_hash=meta.body_hash,
                        fingerprint=meta.fingerprint,
                        headline_carrier=headline_carrier,
                        canonical_key=canonical_key,
                        created_at=now,
                    )
                    s.add(article)
                    s.flush()
                    s.add(
                        Version(
                            article_id=article.id,  # type: ignore[arg-type]
                            number=1,
                            title=title,
                            content=content,
                            content_hash=content_hash,
                            summary="first version",
                            created_at=now,
                        )
                    )
                elif article.state in (ArticleState.DORMANT, ArticleState.GONE) and content is not None:
                    # Tracking again wakes an article that went quiet: checked at once, and
                    # awake for stop_after_days from now whatever its last change was.
                    article.state = ArticleState.ACTIVE
                    article.failures = 0
                    article.next_check_at = now
                    article.woken_at = now
                    s.add(article)
                if article.untracked_since is not None:  # tracked again: retention keeps it
                    article.untracked_since = None
                    s.add(article)
                assert article.id is not None
                existing = s.exec(subscription(chat_id, article.id)).first()
                if existing is not None:
                    if watchwords is not None and follow is None:  # a follow keeps the chat's own
                        existing.watchwords = list(watchwords) or None
                        s.add(existing)
                    if follow is None and existing.follow_id is not None:
                        existing.follow_id, existing.expires_at = None, None  # kept by hand now
                        s.add(existing)
                    return TrackResult(existing.number, article, True, tuple(existing.watchwords or ()))
                top = s.exec(
                    select(func.max(Subscription.number)).where(Subscription.chat_id == chat_id)
                ).one()
                number = (top or 0) + 1
                s.add(
                    Subscription(
                        chat_id=chat_id,
                        article_id=article.id,
                        number=number,
                        thread_id=thread_id,
                        user_id=user_id,
                        watchwords=list(watchwords) if watchwords else None,
                        follow_id=None if follow is None else follow.follow_id,
                        expires_at=None if follow is None else follow.expires_at,
                    )
                )
                return TrackResult(number, article, False, tuple(watchwords or ()))

        for attempt in range(5):
            try:
                return once()
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def untrack(self, chat_id: int, number: int, now: datetime | None = None) -> Article | None:
        with session_scope(self.engine) as s:
            sub = s.exec(
                select(Subscription)
                .where(Subscription.chat_id == chat_id)
                .where(Subscription.number == number)
            ).first()
            if sub is None:
                return None
            return drop_subscription(s, sub, now or utcnow())

    def tracked(self, chat_id: int) -> list[Tracked]:
        with read_session(self.engine) as s:
            counts = (
                select(Version.article_id, func.count().label("n"))
                .group_by(col(Version.article_id))
                .subquery()
            )
            rows = s.exec(
                select(Subscription.number, Article, counts.c.n, Subscription.follow_id)
                .join(Article, col(Article.id) == Subscription.article_id)
                .join(counts, counts.c.article_id == Article.id)
                .where(Subscription.chat_id == chat_id)
                .order_by(col(Subscription.number))
            ).all()
            return [Tracked(number, article, n, follow) for number, article, n, follow in rows]

    def list_page(self, chat_id: int, wanted: str, page: int, size: int) -> ListPage:
        """Page ``page`` (from 1) of the chat's articles, newest change first; ``wanted`` is a
        ListFilter value: every article, those edited at least once, or those that fail."""
        with read_session(self.engine) as s:
            counts = (
                select(Version.article_id, func.count().label("n"))
                .group_by(col(Version.article_id))
                .subquery()
            )
            where = [Subscription.chat_id == chat_id]
            if wanted == "all":  # followed articles are counted under their follow instead
                where.append(col(Subscription.follow_id).is_(None))
            if wanted == "changed":
                where.append(counts.c.n > 1)
            elif wanted == "failing":
                where.append(col(Article.state).in_([ArticleState.FAILING, ArticleState.GONE]))
            base = (
                select(Subscription.number, Article, counts.c.n)
                .join(Article, col(Article.id) == Subscription.article_id)
                .join(counts, counts.c.article_id == Article.id)
                .where(*where)
            )
            total = s.exec(select(func.count()).select_from(base.subquery())).one()
            pages = max(1, -(-total // size))
            page = min(max(page, 1), pages)
            rows = s.exec(
                base.order_by(
                    col(Article.last_changed_at).desc().nulls_last(), col(Subscription.number).desc()
                )
                .offset((page - 1) * size)
                .limit(size)
            ).all()
            return ListPage([Tracked(n, article, v) for n, article, v in rows], total, page, pages)

    def subscribed(self, chat_id: int, article_id: int) -> Tracked | None:
        """The chat's view of an article a button names (None: not, or no longer, tracked)."""
        with read_session(self.engine) as s:
            row = s.exec(
                select(Subscription.number, Article)
                .join(Article, col(Article.id) == Subscription.article_id)
                .where(Subscription.chat_id == chat_id)
                .where(Subscription.article_id == article_id)
            ).first()
            if row is None:
                return None
            versions = s.exec(
                select(func.count()).select_from(Version).where(Version.article_id == article_id)
            ).one()
            return Tracked(row[0], row[1], versions)

    def lookup(
        self, chat_id: int, *, number: int | None = None, url_key: str | None = None
    ) -> Tracked | None:
        """A chat's article by its /list number or by its URL."""
        for row in self.tracked(chat_id):
            if (number is not None and row.number == number) or (
                url_key is not None and row.article.url_key == url_key
            ):
                return row
        return None

    def versions_numbered(self, article_id: int, numbers: Sequence[int]) -> dict[int, Version]:
        """The article's versions with these numbers, by number."""
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Version)
                .where(Version.article_id == article_id)
                .where(col(Version.number).in_(numbers))
            ).all()
            return {v.number: v for v in rows}

    def versions(self, article_id: int) -> list[Version]:
        with read_session(self.engine) as s:
            return list(
                s.exec(
                    select(Version).where(Version.article_id == article_id).order_by(col(Version.number))
                ).all()
            )

    def version_index(self, article_id: int) -> list[tuple[int, str, str]]:
        """(number, content_hash, title) of every version, oldest first: enough to spot reverts."""
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Version.number, Version.content_hash, Version.title)
                .where(Version.article_id == article_id)
                .order_by(col(Version.number))
            ).all()
            return [(n, h, t) for n, h, t in rows]

    def latest_version(self, article_id: int) -> Version | None:
        with read_session(self.engine) as s:
            return s.exec(
                select(Version)
                .where(Version.article_id == article_id)
                .order_by(col(Version.number).desc())
                .limit(1)
            ).first()

    def get(self, article_id: int) -> Article | None:
        with read_session(self.engine) as s:
            return s.get(Article, article_id)

    def audience(self, article_id: int) -> list[tuple[Subscription, Chat]]:
        """Subscriptions of chats we may still write to."""
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Subscription, Chat)
                .join(Chat, col(Chat.id) == Subscription.chat_id)
                .where(Subscription.article_id == article_id)
                .where(col(Chat.paused).is_(False))
            ).all()
            return [(sub, chat) for sub, chat in rows]

    def store_version(
        self,
        article_id: int,
        *,
        title: str,
        content: dict,
        content_hash: str,
        summary: str,
        deliveries: Sequence[NewDelivery],
        article_fields: dict[str, object],
        now: datetime,
    ) -> Version:
        """The new version and every chat's announcement of it, in one transaction."""
        with session_scope(self.engine) as s:
            top = s.exec(select(func.max(Version.number)).where(Version.article_id == article_id)).one()
            version = Version(
                article_id=article_id,
                number=(top or 0) + 1,
                title=title,
                content=content,
                content_hash=content_hash,
                summary=summary,
                created_at=now,
            )
            s.add(version)
            s.flush()
            add_deliveries(s, article_id, version.id, deliveries, now)
            set_fields(s, article_id, article_fields)
            return version


__all__ = ["Articles", "FollowedBy", "ListPage", "PageMeta", "TrackResult", "Tracked", "drop_subscription"]
