"""Every query the bot makes, as plain synchronous methods on one ``Store``.

Handlers and the monitor call these through ``asyncio.to_thread`` so a slow write never
blocks the event loop. Each method is one transaction: either all of it happens or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.db import session_scope
from bot.models import (
    Article,
    ArticleState,
    Chat,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Subscription,
    Version,
    utcnow,
)
from bot.schema import Upgrade, upgrade_schema


@dataclass(frozen=True)
class Tracked:
    """One row of a chat's /list."""

    number: int
    article: Article
    versions: int


@dataclass(frozen=True)
class TrackResult:
    number: int
    article: Article
    already: bool  # the chat tracked this article before


@dataclass(frozen=True)
class NewDelivery:
    chat_id: int
    kind: str
    text: str
    plain: str


@dataclass(frozen=True)
class PageMeta:
    """What a fetch learned that the next conditional GET needs."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


def _subscription(chat_id: int, article_id: int) -> SelectOfScalar[Subscription]:
    return (
        select(Subscription)
        .where(Subscription.chat_id == chat_id)
        .where(Subscription.article_id == article_id)
    )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upgrade_schema(self) -> Upgrade:
        return upgrade_schema(self.engine)

    # -- chats -------------------------------------------------------------------------

    def ensure_chat(self, chat_id: int, chat_type: str, title: str = "") -> Chat:
        """Register a chat that talked to us; a chat that blocked us and came back is unblocked."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is None:
                chat = Chat(id=chat_id, type=chat_type, title=title)
            else:
                chat.type, chat.title, chat.blocked = chat_type, title or chat.title, False
            s.add(chat)
            return chat

    def set_sensitivity(self, chat_id: int, sensitivity: str) -> None:
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.sensitivity = sensitivity
            s.add(chat)

    def chat(self, chat_id: int) -> Chat | None:
        with Session(self.engine) as s:
            return s.get(Chat, chat_id)

    def block_chat(self, chat_id: int) -> None:
        """The chat blocked us or removed us: stop sending, keep its subscriptions."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is not None:
                chat.blocked = True
                s.add(chat)
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.chat_id) == chat_id)
                .where(col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
                .values(status=DeliveryStatus.FAILED, error="chat blocked the bot")
            )

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move everything to the new id."""
        with session_scope(self.engine) as s:
            old = s.get(Chat, old_id)
            if s.get(Chat, new_id) is None:
                s.add(
                    Chat(
                        id=new_id,
                        type="supergroup",
                        title=old.title if old else "",
                        sensitivity=old.sensitivity if old else "substantive",
                    )
                )
                s.flush()
            s.exec(  # type: ignore[call-overload]
                update(Subscription).where(col(Subscription.chat_id) == old_id).values(chat_id=new_id)
            )
            s.exec(  # type: ignore[call-overload]
                update(Delivery).where(col(Delivery.chat_id) == old_id).values(chat_id=new_id)
            )
            if old is not None:
                s.delete(old)

    # -- subscriptions -----------------------------------------------------------------

    def find_article(self, url_key: str) -> Article | None:
        with Session(self.engine) as s:
            return s.exec(select(Article).where(Article.url_key == url_key)).first()

    def subscription_for(self, chat_id: int, article_id: int) -> Subscription | None:
        with Session(self.engine) as s:
            return s.exec(_subscription(chat_id, article_id)).first()

    def count_subscriptions(self, chat_id: int) -> int:
        with Session(self.engine) as s:
            return s.exec(
                select(func.count()).select_from(Subscription).where(Subscription.chat_id == chat_id)
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
    ) -> TrackResult:
        """Subscribe the chat; create the article and its version 1 if nobody tracked it yet.

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
                    # Tracking again wakes an article that went quiet.
                    article.state = ArticleState.ACTIVE
                    article.failures = 0
                    article.next_check_at = now
                    s.add(article)
                if article.untracked_since is not None:  # tracked again: retention keeps it
                    article.untracked_since = None
                    s.add(article)
                assert article.id is not None
                existing = s.exec(_subscription(chat_id, article.id)).first()
                if existing is not None:
                    return TrackResult(existing.number, article, already=True)
                top = s.exec(
                    select(func.max(Subscription.number)).where(Subscription.chat_id == chat_id)
                ).one()
                number = (top or 0) + 1
                s.add(Subscription(chat_id=chat_id, article_id=article.id, number=number))
                return TrackResult(number, article, already=False)

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
            article = s.get(Article, sub.article_id)
            s.delete(sub)
            s.flush()
            others = s.exec(select(Subscription.id).where(Subscription.article_id == sub.article_id)).first()
            if article is not None and others is None:
                article.untracked_since = now or utcnow()  # deleted after database.keep_untracked_days
                s.add(article)
            # Announcements not yet sent for this article would now surprise the chat.
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.chat_id) == chat_id)
                .where(col(Delivery.article_id) == sub.article_id)
                .where(col(Delivery.status) == DeliveryStatus.PENDING)
                .values(status=DeliveryStatus.FAILED, error="untracked")
            )
            return article

    def tracked(self, chat_id: int) -> list[Tracked]:
        with Session(self.engine) as s:
            counts = (
                select(Version.article_id, func.count().label("n"))
                .group_by(col(Version.article_id))
                .subquery()
            )
            rows = s.exec(
                select(Subscription.number, Article, counts.c.n)
                .join(Article, col(Article.id) == Subscription.article_id)
                .join(counts, counts.c.article_id == Article.id)
                .where(Subscription.chat_id == chat_id)
                .order_by(col(Subscription.number))
            ).all()
            return [Tracked(number, article, n) for number, article, n in rows]

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

    # -- versions ----------------------------------------------------------------------

    def versions(self, article_id: int) -> list[Version]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(Version).where(Version.article_id == article_id).order_by(col(Version.number))
                ).all()
            )

    def version_index(self, article_id: int) -> list[tuple[int, str, str]]:
        """(number, content_hash, title) of every version, oldest first: enough to spot reverts."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Version.number, Version.content_hash, Version.title)
                .where(Version.article_id == article_id)
                .order_by(col(Version.number))
            ).all()
            return [(n, h, t) for n, h, t in rows]

    def latest_version(self, article_id: int) -> Version | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Version)
                .where(Version.article_id == article_id)
                .order_by(col(Version.number).desc())
                .limit(1)
            ).first()

    def article(self, article_id: int) -> Article | None:
        with Session(self.engine) as s:
            return s.get(Article, article_id)

    # -- the monitor -------------------------------------------------------------------

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Article]:
        """Articles whose check is due, pushed ``lease`` ahead so no other tick takes them."""
        with session_scope(self.engine) as s:
            articles = list(
                s.exec(
                    select(Article)
                    .where(col(Article.state).in_([ArticleState.ACTIVE, ArticleState.FAILING]))
                    .where(Article.next_check_at <= now)
                    .order_by(col(Article.next_check_at))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            for article in articles:
                article.next_check_at = now + lease
                s.add(article)
            return articles

    def audience(self, article_id: int) -> list[tuple[Subscription, Chat]]:
        """Subscriptions of chats we may still write to."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Subscription, Chat)
                .join(Chat, col(Chat.id) == Subscription.chat_id)
                .where(Subscription.article_id == article_id)
                .where(col(Chat.blocked).is_(False))
            ).all()
            return [(sub, chat) for sub, chat in rows]

    def update_article(self, article_id: int, **fields: object) -> None:
        with session_scope(self.engine) as s:
            article = s.get(Article, article_id)
            if article is None:
                return
            for name, value in fields.items():
                setattr(article, name, value)
            s.add(article)

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
            self._add_deliveries(s, article_id, version.id, deliveries, now)
            article = s.get(Article, article_id)
            assert article is not None
            for name, value in article_fields.items():
                setattr(article, name, value)
            s.add(article)
            return version

    def add_notices(
        self,
        article_id: int,
        deliveries: Sequence[NewDelivery],
        article_fields: dict[str, object],
        now: datetime,
    ) -> None:
        """Announcements that are not versions (the article is gone or failing)."""
        with session_scope(self.engine) as s:
            self._add_deliveries(s, article_id, None, deliveries, now)
            article = s.get(Article, article_id)
            assert article is not None
            for name, value in article_fields.items():
                setattr(article, name, value)
            s.add(article)

    @staticmethod
    def _add_deliveries(
        s: Session,
        article_id: int,
        version_id: int | None,
        deliveries: Sequence[NewDelivery],
        now: datetime,
    ) -> None:
        for d in deliveries:
            s.add(
                Delivery(
                    chat_id=d.chat_id,
                    article_id=article_id,
                    version_id=version_id,
                    kind=d.kind,
                    text=d.text,
                    plain=d.plain,
                    created_at=now,
                    not_before=now,
                )
            )

    # -- the outbox --------------------------------------------------------------------

    def recover_interrupted(self) -> int:
        """Deliveries left 'sending' by a crash go back to the queue (at-least-once)."""
        with session_scope(self.engine) as s:
            result = s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.status) == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.PENDING)
            )
            return int(result.rowcount or 0)

    def claim_pending(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries, marked 'sending' before anything goes over the wire."""
        with session_scope(self.engine) as s:
            rows = list(
                s.exec(
                    select(Delivery)
                    .where(Delivery.status == DeliveryStatus.PENDING)
                    .where(Delivery.not_before <= now)
                    .order_by(col(Delivery.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            for d in rows:
                d.status = DeliveryStatus.SENDING
                d.attempts += 1
                s.add(d)
            return rows

    def finish_delivery(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        error: str = "",
        not_before: datetime | None = None,
        chat_id: int | None = None,
    ) -> None:
        with session_scope(self.engine) as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                return
            d.status = status
            d.error = error[:500]
            if status == DeliveryStatus.SENT:
                d.sent_at = utcnow()
            if not_before is not None:
                d.not_before = not_before
            if chat_id is not None:
                d.chat_id = chat_id
            s.add(d)

    def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        with Session(self.engine) as s:
            q = select(Delivery).order_by(col(Delivery.id))
            if chat_id is not None:
                q = q.where(Delivery.chat_id == chat_id)
            return list(s.exec(q).all())


__all__ = ["DeliveryKind", "NewDelivery", "PageMeta", "Store", "TrackResult", "Tracked"]
