"""Every query the bot makes, as plain synchronous methods on one ``Store``.

Handlers and the monitor call these through ``asyncio.to_thread`` so a slow write never
blocks the event loop. Each method is one transaction: either all of it happens or none.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, and_, bindparam, exists, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.sensitivity import DEFAULT_SENSITIVITY
from bot.storage.engine import read_session, session_scope
from bot.storage.models import (
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
from bot.storage.schema import Upgrade, upgrade_schema


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
class AwayChange:
    """An article that changed while a chat was paused: versions ``old`` → ``new``."""

    number: int
    article_id: int
    title: str
    old: int
    new: int


@dataclass(frozen=True)
class PageMeta:
    """What a fetch learned that the next conditional GET needs."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    fingerprint: str | None = None  # bot.core.fingerprint of the page version 1 was extracted from


def _checkable(due_by: datetime | None = None) -> list[ColumnElement[bool]]:
    """Conditions for an article the monitor fetches: checked on schedule, due by ``due_by``
    (any time when None), and tracked by a chat that hears it (``audible``)."""
    conditions = [col(Article.state).in_([ArticleState.ACTIVE, ArticleState.FAILING]), audible()]
    if due_by is not None:
        conditions.append(col(Article.next_check_at) <= due_by)
    return conditions


def full_sites(load: Mapping[str, int], per_site: int | None) -> list[str]:
    """Sites that already have ``per_site`` claimed articles."""
    return [] if per_site is None else [site for site, n in load.items() if n >= per_site]


def _subscription(chat_id: int, article_id: int) -> SelectOfScalar[Subscription]:
    return (
        select(Subscription)
        .where(Subscription.chat_id == chat_id)
        .where(Subscription.article_id == article_id)
    )


def _renumber(text: str, old: int, new: int) -> str:
    """Point a rendered message's ``/diff N`` commands at the article's new number."""
    return re.sub(rf"/diff {old}(?!\d)", f"/diff {new}", text)


@functools.cache
def _article_update(names: tuple[str, ...]) -> Update:
    """``UPDATE article SET <names> WHERE id = :_id``, built once per set of columns."""
    table = Article.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
    )


def audible() -> ColumnElement[bool]:
    """True for an article some unpaused chat tracks: only those are worth a fetch."""
    return exists().where(
        Subscription.article_id == Article.id,
        Subscription.chat_id == Chat.id,
        col(Chat.blocked).is_(False),
    )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upgrade_schema(self) -> Upgrade:
        return upgrade_schema(self.engine)

    # -- chats -------------------------------------------------------------------------

    def ensure_chat(self, chat_id: int, chat_type: str, title: str = "") -> Chat:
        """Register a chat that talked to us (a paused one stays paused: see ``resume_chat``)."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is None:
                chat = Chat(id=chat_id, type=chat_type, title=title)
            else:
                chat.type, chat.title = chat_type, title or chat.title
            s.add(chat)
            return chat

    def set_sensitivity(self, chat_id: int, sensitivity: str) -> None:
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.sensitivity = sensitivity
            s.add(chat)

    def chat(self, chat_id: int) -> Chat | None:
        with read_session(self.engine) as s:
            return s.get(Chat, chat_id)

    def pause_chat(self, chat_id: int, reason: str, now: datetime | None = None) -> bool:
        """The bot was removed or blocked, or Telegram will not deliver here: send nothing
        more, keep the subscriptions. Unsent announcements are dropped (the digest sent on
        return covers them), and the pause dates from the oldest of them. True if newly paused."""
        now = now or utcnow()
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is None:
                chat = Chat(id=chat_id, type="private" if chat_id > 0 else "group")
            if chat.blocked:
                return False
            unsent = col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            oldest = s.exec(
                select(func.min(Delivery.created_at)).where(Delivery.chat_id == chat_id).where(unsent)
            ).one()
            chat.blocked, chat.paused_at = True, oldest or now
            s.add(chat)
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.chat_id) == chat_id)
                .where(unsent)
                .values(status=DeliveryStatus.FAILED, error=f"chat paused: {reason}"[:500])
            )
            return True

    def resume_chat(
        self,
        chat_id: int,
        chat_type: str,
        title: str,
        digest: Callable[[list[AwayChange]], tuple[str, str]],
        now: datetime | None = None,
    ) -> list[AwayChange] | None:
        """A paused chat is reachable again: unpause it and queue one message listing what
        changed while it was away (``digest`` renders it), in one transaction. None if the
        chat was not paused."""
        now = now or utcnow()
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is None or not chat.blocked:
                s.add(chat or Chat(id=chat_id, type=chat_type, title=title))
                return None
            changes = self._away_changes(s, chat_id, chat.paused_at or now)
            chat.type, chat.title = chat_type, title or chat.title
            chat.blocked, chat.paused_at = False, None
            s.add(chat)
            if changes:
                text, plain = digest(changes)
                s.add(
                    Delivery(
                        chat_id=chat_id,
                        article_id=changes[0].article_id,
                        kind=DeliveryKind.DIGEST,
                        text=text,
                        plain=plain,
                        created_at=now,
                        not_before=now,
                    )
                )
            return changes

    @staticmethod
    def _away_changes(s: Session, chat_id: int, since: datetime) -> list[AwayChange]:
        rows = s.exec(
            select(
                Subscription.number,
                Article.id,
                Article.title,
                func.min(Version.number),
                func.max(Version.number),
            )
            .join(Article, col(Article.id) == Subscription.article_id)
            .join(Version, col(Version.article_id) == Article.id)
            .where(Subscription.chat_id == chat_id)
            .where(Version.created_at >= since)
            .where(Version.number > 1)
            .group_by(col(Subscription.number), col(Article.id), col(Article.title))
            .order_by(col(Subscription.number))
        ).all()
        return [AwayChange(n, aid, title, first - 1, last) for n, aid, title, first, last in rows]

    def paused_chats(self) -> list[int]:
        with Session(self.engine) as s:
            return list(s.exec(select(Chat.id).where(col(Chat.blocked).is_(True))).all())

    def saw_message(self, chat_id: int, message_id: int) -> None:
        """Remember the newest message seen in a chat (an edit in place needs to be the last)."""
        with session_scope(self.engine) as s:
            s.exec(  # type: ignore[call-overload]
                update(Chat)
                .where(col(Chat.id) == chat_id)
                .where(or_(col(Chat.last_message_id).is_(None), col(Chat.last_message_id) < message_id))
                .values(last_message_id=message_id)
            )

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move its subscriptions, settings and unsent messages to
        the new id, merged with what the supergroup already tracks (an article tracked in both
        is kept once; a number the supergroup uses goes to the next free one)."""
        with session_scope(self.engine) as s:
            old = s.get(Chat, old_id)
            new = s.get(Chat, new_id)
            if new is None:
                new = Chat(
                    id=new_id,
                    type="supergroup",
                    title=old.title if old else "",
                    sensitivity=old.sensitivity if old else DEFAULT_SENSITIVITY,
                    blocked=old.blocked if old else False,
                    paused_at=old.paused_at if old else None,
                )
                s.add(new)
                s.flush()
            in_new = select(Subscription).where(Subscription.chat_id == new_id)
            theirs = {sub.article_id: sub for sub in s.exec(in_new)}
            taken = {sub.number for sub in theirs.values()}
            top = max(taken, default=0)
            ours = s.exec(
                select(Subscription).where(Subscription.chat_id == old_id).order_by(col(Subscription.number))
            ).all()
            renumbered: dict[int, tuple[int, int]] = {}  # article id → (old, new) number
            for sub in ours:
                if sub.article_id in theirs:
                    s.delete(sub)
                    continue
                if sub.number in taken:
                    top += 1
                    renumbered[sub.article_id] = (sub.number, top)
                    sub.number = top
                top = max(top, sub.number)
                taken.add(sub.number)
                sub.chat_id = new_id
                s.add(sub)
            s.flush()
            unsent = col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            known = {
                (d.article_id, d.version_id, d.kind)
                for d in s.exec(select(Delivery).where(Delivery.chat_id == new_id))
            }
            for d in s.exec(select(Delivery).where(Delivery.chat_id == old_id).where(unsent)).all():
                if (d.article_id, d.version_id, d.kind) in known:
                    s.delete(d)  # the supergroup already has (or had) this very message
                else:
                    d.chat_id = new_id
                    if d.article_id in renumbered:  # its /diff pointers name the new number
                        d.text, d.plain = (_renumber(t, *renumbered[d.article_id]) for t in (d.text, d.plain))
                    s.add(d)
            if old is not None:
                s.delete(old)

    # -- subscriptions -----------------------------------------------------------------

    def find_article(self, url_key: str) -> Article | None:
        with read_session(self.engine) as s:
            return s.exec(select(Article).where(Article.url_key == url_key)).first()

    def count_subscriptions(self, chat_id: int) -> int:
        with read_session(self.engine) as s:
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
        thread_id: int | None = None,
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
                        fingerprint=meta.fingerprint,
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
                existing = s.exec(_subscription(chat_id, article.id)).first()
                if existing is not None:
                    return TrackResult(existing.number, article, already=True)
                top = s.exec(
                    select(func.max(Subscription.number)).where(Subscription.chat_id == chat_id)
                ).one()
                number = (top or 0) + 1
                s.add(
                    Subscription(chat_id=chat_id, article_id=article.id, number=number, thread_id=thread_id)
                )
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
        with read_session(self.engine) as s:
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

    def article(self, article_id: int) -> Article | None:
        with read_session(self.engine) as s:
            return s.get(Article, article_id)

    # -- the monitor -------------------------------------------------------------------

    def claim_due(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        site_load: Mapping[str, int] | None = None,
        per_site: int | None = None,
    ) -> tuple[list[Article], bool]:
        """Due articles someone reads, oldest due first, pushed ``lease`` ahead so no other
        process takes them (``SKIP LOCKED`` on PostgreSQL; SQLite's write lock serialises).

        ``site_load`` counts what the caller already holds per site; no site is given more than
        ``per_site`` in all. Also says whether fewer than ``limit`` were due (the queue is drained).
        """
        load = Counter(site_load or {})
        with session_scope(self.engine) as s:
            query = (
                select(Article)
                .where(*_checkable(now))
                .order_by(col(Article.next_check_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            full = full_sites(load, per_site)
            if full:
                query = query.where(col(Article.site).not_in(full))
            rows = list(s.exec(query).all())
            claimed = []
            for article in rows:
                if per_site is None or load[article.site] < per_site:
                    load[article.site] += 1
                    claimed.append(article)
            if claimed:
                s.exec(  # type: ignore[call-overload]
                    update(Article)
                    .where(col(Article.id).in_([a.id for a in claimed]))
                    .values(next_check_at=now + lease)
                )
            return claimed, len(rows) < limit

    def next_due(self, exclude_sites: Collection[str] = ()) -> datetime | None:
        """When the earliest article someone reads falls due (None: nothing to check), leaving
        out ``exclude_sites`` (sites the caller has no room for now)."""
        with read_session(self.engine) as s:
            query = select(func.min(Article.next_check_at)).where(*_checkable())
            if exclude_sites:
                query = query.where(col(Article.site).not_in(list(exclude_sites)))
            return s.exec(query).one()

    def release_articles(self, article_ids: Collection[int], now: datetime) -> None:
        """Give back claimed articles that were never checked (the process is stopping)."""
        if article_ids:
            with session_scope(self.engine) as s:
                s.exec(  # type: ignore[call-overload]
                    update(Article).where(col(Article.id).in_(list(article_ids))).values(next_check_at=now)
                )

    def audience(self, article_id: int) -> list[tuple[Subscription, Chat]]:
        """Subscriptions of chats we may still write to."""
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Subscription, Chat)
                .join(Chat, col(Chat.id) == Subscription.chat_id)
                .where(Subscription.article_id == article_id)
                .where(col(Chat.blocked).is_(False))
            ).all()
            return [(sub, chat) for sub, chat in rows]

    def update_article(self, article_id: int, **fields: object) -> None:
        """One UPDATE statement in its own transaction."""
        self.update_articles([(article_id, fields)])

    def update_articles(self, updates: Sequence[tuple[int, Mapping[str, object]]]) -> None:
        """Many articles' UPDATEs in one transaction, one executemany per set of columns: the
        whole database cost of a batch of checks that found nothing new. SQLAlchemy Core, not
        an ORM session: nothing here needs objects back."""
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for article_id, fields in updates:
            groups.setdefault(tuple(sorted(fields)), []).append({"_id": article_id, **fields})
        with self.engine.begin() as conn:
            for names, rows in groups.items():
                conn.execute(_article_update(names), rows)

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

    def claim_pending(
        self,
        now: datetime,
        limit: int,
        *,
        claimant: str = "",
        lease: timedelta = timedelta(seconds=60),
        skip_chats: Collection[int] = (),
    ) -> list[Delivery]:
        """Due deliveries, marked 'sending' under ``claimant``'s lease before anything goes
        over the wire: pending ones and ones whose claimant's lease ran out (it died). At most
        one per chat, and none for a chat whose message is in flight anywhere (per-chat order)
        or that is paused."""
        unpaused = select(Chat.id).where(col(Chat.blocked).is_(False))
        busy = (
            select(Delivery.chat_id)
            .where(Delivery.status == DeliveryStatus.SENDING)
            .where(col(Delivery.lease_until) > now)
        )
        due = or_(
            and_(col(Delivery.status) == DeliveryStatus.PENDING, col(Delivery.not_before) <= now),
            and_(
                col(Delivery.status) == DeliveryStatus.SENDING,
                or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
            ),
        )
        with session_scope(self.engine) as s:
            q = (
                select(Delivery)
                .where(due)
                .where(col(Delivery.chat_id).in_(unpaused))
                .where(col(Delivery.chat_id).not_in(busy))
                .order_by(col(Delivery.id))
                .limit(limit * 4)
                .with_for_update(skip_locked=True)
            )
            if skip_chats:
                q = q.where(col(Delivery.chat_id).not_in(list(skip_chats)))
            rows: dict[int, Delivery] = {}
            for d in s.exec(q).all():
                if len(rows) < limit and d.chat_id not in rows:
                    rows[d.chat_id] = d
            for d in rows.values():
                d.status = DeliveryStatus.SENDING
                d.claimed_by, d.lease_until = claimant, now + lease
                d.attempts += 1
                s.add(d)
            return sorted(rows.values(), key=lambda d: d.id or 0)

    def renew_leases(self, ids: Collection[int], claimant: str, until: datetime) -> None:
        """Keep rows this sender is still sending (waiting out a flood limit, say) its own."""
        if not ids:
            return
        with session_scope(self.engine) as s:
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.id).in_(list(ids)))
                .where(col(Delivery.claimed_by) == claimant)
                .where(col(Delivery.status) == DeliveryStatus.SENDING)
                .values(lease_until=until)
            )

    def release(self, ids: Collection[int], claimant: str, not_before: datetime | None = None) -> None:
        """Give back rows this sender claimed but did not send (stopping, or told to wait until
        ``not_before``); they keep their place in the queue."""
        if not ids:
            return
        values: dict[str, object] = {"status": DeliveryStatus.PENDING, "lease_until": None}
        if not_before is not None:
            values["not_before"] = not_before
        with session_scope(self.engine) as s:
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.id).in_(list(ids)))
                .where(col(Delivery.claimed_by) == claimant)
                .where(col(Delivery.status) == DeliveryStatus.SENDING)
                .values(**values)
            )

    def finish_delivery(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        error: str = "",
        not_before: datetime | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        text: str | None = None,
    ) -> None:
        """Record how a claimed row ended (``text``: what an updated message now shows)."""
        with session_scope(self.engine) as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                return
            d.status = status
            d.error = error[:500]
            d.lease_until = None
            if status == DeliveryStatus.SENT:
                d.sent_at = utcnow()
            if not_before is not None:
                d.not_before = not_before
            if chat_id is not None:
                d.chat_id = chat_id
            if message_id is not None:
                d.message_id = message_id
            if text is not None:
                d.text = text
            s.add(d)
            if message_id is not None:
                s.flush()
                s.exec(  # type: ignore[call-overload]
                    update(Chat)
                    .where(col(Chat.id) == d.chat_id)
                    .where(or_(col(Chat.last_message_id).is_(None), col(Chat.last_message_id) < message_id))
                    .values(last_message_id=message_id)
                )

    def topic(self, chat_id: int, article_id: int) -> int | None:
        """The forum topic the chat tracks the article in (None: the chat itself)."""
        with Session(self.engine) as s:
            sub = s.exec(_subscription(chat_id, article_id)).first()
            return sub.thread_id if sub is not None else None

    def move_to_general(self, chat_id: int, thread_id: int) -> None:
        """A deleted topic: its subscriptions are announced in the chat's General topic."""
        with session_scope(self.engine) as s:
            s.exec(  # type: ignore[call-overload]
                update(Subscription)
                .where(col(Subscription.chat_id) == chat_id)
                .where(col(Subscription.thread_id) == thread_id)
                .values(thread_id=None)
            )

    def last_announcement(self, chat_id: int, article_id: int) -> Delivery | None:
        """The newest announcement this chat got about the article (a new one replies to it)."""
        with Session(self.engine) as s:
            return s.exec(
                select(Delivery)
                .where(Delivery.chat_id == chat_id)
                .where(Delivery.article_id == article_id)
                .where(Delivery.kind != DeliveryKind.DIGEST)  # about several articles
                .where(Delivery.status == DeliveryStatus.SENT)
                .where(col(Delivery.message_id).is_not(None))
                .order_by(col(Delivery.sent_at).desc(), col(Delivery.id).desc())
                .limit(1)
            ).first()

    def delivery(self, delivery_id: int) -> Delivery | None:
        with Session(self.engine) as s:
            return s.get(Delivery, delivery_id)

    def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        with read_session(self.engine) as s:
            q = select(Delivery).order_by(col(Delivery.id))
            if chat_id is not None:
                q = q.where(Delivery.chat_id == chat_id)
            return list(s.exec(q).all())


__all__ = ["AwayChange", "DeliveryKind", "NewDelivery", "PageMeta", "Store", "TrackResult", "Tracked"]
