"""Follows (/follow, /unfollow, /list's follows block), the feeds they read and what each
feed listed. A feed is stored once however many chats follow it, and fetched once for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.feeds import Entry
from bot.storage.articles import drop_subscription
from bot.storage.chats import unsent
from bot.storage.engine import read_session, session_scope
from bot.storage.models import Chat, Delivery, Feed, FeedItem, Follow, Subscription
from bot.storage.outbox import NewDelivery, add_deliveries


@dataclass(frozen=True)
class Followed:
    """The answer to a new follow."""

    follow: Follow
    feed: Feed
    already: bool  # the chat followed this feed before


@dataclass(frozen=True)
class FollowRow:
    """One line of /list's follows block."""

    number: int
    title: str
    url: str
    days: int
    articles: int  # held now
    ends: datetime | None  # when the last article it holds is released
    watchwords: tuple[str, ...] = ()


class Follows:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def count(self, chat_id: int) -> int:
        with read_session(self.engine) as s:
            return s.exec(select(func.count()).select_from(Follow).where(Follow.chat_id == chat_id)).one()

    def follow(
        self,
        chat_id: int,
        *,
        url: str,
        kind: str,
        title: str,
        listed: Sequence[Entry],
        days: int,
        now: datetime,
        next_fetch_at: datetime,
        validators: tuple[str | None, str | None] = (None, None),
        thread_id: int | None = None,
        user_id: int | None = None,
        watchwords: Sequence[str] = (),
    ) -> Followed:
        """The chat follows the feed at ``url`` (only articles with one of ``watchwords``, if
        any); a feed nobody read yet starts with what it lists now as seen (the backlog), so
        only what appears later is new."""
        for attempt in range(5):
            try:
                with session_scope(self.engine) as s:
                    feed = s.exec(select(Feed).where(Feed.url == url)).first()
                    if feed is None:
                        etag, last_modified = validators
                        feed = Feed(
                            url=url,
                            kind=kind,
                            title=title,
                            etag=etag,
                            last_modified=last_modified,
                            next_fetch_at=next_fetch_at,
                            listed_at=now,
                            created_at=now,
                        )
                        s.add(feed)
                        s.flush()
                        assert feed.id is not None
                        for item in listed:
                            s.add(_seen(feed.id, item, now))
                    assert feed.id is not None
                    existing = s.exec(
                        select(Follow).where(Follow.chat_id == chat_id).where(Follow.feed_id == feed.id)
                    ).first()
                    if existing is not None:
                        if watchwords:  # new words replace the follow's, for what it brings next
                            existing.watchwords = list(watchwords)
                            s.add(existing)
                        return Followed(existing, feed, already=True)
                    top = s.exec(select(func.max(Follow.number)).where(Follow.chat_id == chat_id)).one()
                    follow = Follow(
                        chat_id=chat_id,
                        feed_id=feed.id,
                        number=(top or 0) + 1,
                        days=days,
                        thread_id=thread_id,
                        user_id=user_id,
                        watchwords=list(watchwords) or None,
                        created_at=now,
                    )
                    s.add(follow)
                    s.flush()
                    return Followed(follow, feed, already=False)
            except IntegrityError:  # two chats adding one new feed at once: the loser retries
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def unfollow(self, chat_id: int, number: int, now: datetime) -> tuple[Follow, Feed, int] | None:
        """Stop one follow; the articles it brought go too (a chat's own /track keeps its own).
        Returns the follow, its feed and how many articles were released."""
        with session_scope(self.engine) as s:
            follow = s.exec(
                select(Follow).where(Follow.chat_id == chat_id).where(Follow.number == number)
            ).first()
            if follow is None:
                return None
            feed = s.get(Feed, follow.feed_id)
            assert feed is not None
            subs = s.exec(select(Subscription).where(Subscription.follow_id == follow.id)).all()
            for sub in subs:
                drop_subscription(s, sub, now)
            s.exec(  # its notices not yet sent name a follow that is gone  # type: ignore[call-overload]
                delete(Delivery).where(col(Delivery.follow_id) == follow.id).where(unsent())
            )
            s.delete(follow)
            return follow, feed, len(subs)

    def due(self, now: datetime, limit: int = 50) -> list[Feed]:
        """Feeds somebody follows whose next fetch is due, most overdue first."""
        with read_session(self.engine) as s:
            followed = select(Follow.feed_id)
            return list(
                s.exec(
                    select(Feed)
                    .where(col(Feed.id).in_(followed))
                    .where(Feed.next_fetch_at <= now)
                    .order_by(col(Feed.next_fetch_at))
                    .limit(limit)
                ).all()
            )

    def claim(self, feed: Feed, until: datetime) -> bool:
        """Take a due feed for one fetch: its next fetch moves to ``until`` only if no other
        process moved it first (``run`` and ``worker`` share the database: one fetch, not two)."""
        with session_scope(self.engine) as s:
            moved = s.exec(  # type: ignore[call-overload]
                update(Feed)
                .where(col(Feed.id) == feed.id)
                .where(col(Feed.next_fetch_at) == feed.next_fetch_at)
                .values(next_fetch_at=until)
            )
            return bool(moved.rowcount)

    def next_due(self) -> datetime | None:
        with read_session(self.engine) as s:
            followed = select(Follow.feed_id)
            return s.exec(select(func.min(Feed.next_fetch_at)).where(col(Feed.id).in_(followed))).one()

    def fetched(
        self,
        feed_id: int,
        *,
        listed: Sequence[Entry] | None,
        etag: str | None,
        last_modified: str | None,
        now: datetime,
        next_fetch_at: datetime,
    ) -> tuple[list[Entry], list[int]]:
        """Record a good fetch (``listed`` None: 304). Returns the items never seen before, in
        the feed's order, and the follows that had been told the feed fails (it works again)."""
        with session_scope(self.engine) as s:
            feed = s.get(Feed, feed_id)
            assert feed is not None
            feed.etag, feed.last_modified = etag, last_modified
            feed.next_fetch_at, feed.failures, feed.failure_reason = next_fetch_at, 0, ""
            s.add(feed)
            recovered = [
                f.id
                for f in s.exec(
                    select(Follow).where(Follow.feed_id == feed_id).where(col(Follow.told_failing))
                ).all()
                if f.id is not None
            ]
            for f in s.exec(select(Follow).where(col(Follow.id).in_(recovered))).all():
                f.told_failing = False
                s.add(f)
            if listed is None:  # a 304: it lists what it listed
                return [], recovered
            feed.listed_at = now  # what it lists now is what is seen now (retention reads it)
            if not listed:
                return [], recovered
            urls = [i.url for i in listed]
            known = set(
                s.exec(
                    select(FeedItem.url).where(FeedItem.feed_id == feed_id).where(col(FeedItem.url).in_(urls))
                ).all()
            )
            s.exec(  # type: ignore[call-overload]
                update(FeedItem)
                .where(col(FeedItem.feed_id) == feed_id)
                .where(col(FeedItem.url).in_(urls))
                .values(last_seen_at=now)
            )
            new = [i for i in listed if i.url not in known]
            for item in new:
                s.add(_seen(feed_id, item, now))
            return new, recovered

    def failed(self, feed_id: int, reason: str, next_fetch_at: datetime) -> int:
        """Record a failed fetch; returns the failures in a row."""
        with session_scope(self.engine) as s:
            feed = s.get(Feed, feed_id)
            assert feed is not None
            feed.failures += 1
            feed.failure_reason = reason
            feed.next_fetch_at = next_fetch_at
            s.add(feed)
            return feed.failures

    def followers(self, feed_id: int) -> list[Follow]:
        """The follows of chats we may still write to, oldest first."""
        with read_session(self.engine) as s:
            return list(
                s.exec(
                    select(Follow)
                    .join(Chat, col(Chat.id) == Follow.chat_id)
                    .where(Follow.feed_id == feed_id)
                    .where(col(Chat.paused).is_(False))
                    .order_by(col(Follow.id))
                ).all()
            )

    def tell_failing(
        self, feed_id: int, notice: Callable[[Follow], NewDelivery], now: datetime
    ) -> list[Follow]:
        """Queue ``notice`` for each follow not yet told that its feed fails, and mark it told,
        in one transaction (told once; the sender delivers it, crash or flood limit aside)."""
        with session_scope(self.engine) as s:
            rows = list(
                s.exec(
                    select(Follow).where(Follow.feed_id == feed_id).where(col(Follow.told_failing).is_(False))
                ).all()
            )
            for f in rows:
                f.told_failing = True
                s.add(f)
            add_deliveries(s, None, None, [notice(f) for f in rows], now)
            return rows

    def set_told_full(self, follow_id: int, told: bool) -> bool:
        """Mark whether the chat heard that its cap skips this follow's articles; returns
        whether that changed (so the chat hears it once per time it fills up)."""
        with session_scope(self.engine) as s:
            return _told_full(s, follow_id, told)

    def tell_full(self, follow_id: int, notice: NewDelivery, now: datetime) -> bool:
        """Queue ``notice`` (the cap skips the follow's articles) unless the chat was told since
        it last had room; True if queued."""
        with session_scope(self.engine) as s:
            if not _told_full(s, follow_id, True):
                return False
            add_deliveries(s, None, None, [notice], now)
            return True

    def release_expired(self, now: datetime, limit: int = 500) -> int:
        """Let go, quietly, of the articles follows brought whose time is up."""
        with session_scope(self.engine) as s:
            subs = s.exec(
                select(Subscription)
                .where(col(Subscription.expires_at).is_not(None))
                .where(col(Subscription.expires_at) <= now)
                .limit(limit)
            ).all()
            for sub in subs:
                drop_subscription(s, sub, now)
            return len(subs)

    def listing(self, chat_id: int) -> list[FollowRow]:
        """The chat's follows with the articles each holds and when the last one goes."""
        with read_session(self.engine) as s:
            held = (
                select(
                    Subscription.follow_id,
                    func.count().label("n"),
                    func.max(Subscription.expires_at).label("ends"),
                )
                .where(Subscription.chat_id == chat_id)
                .where(col(Subscription.follow_id).is_not(None))
                .group_by(col(Subscription.follow_id))
                .subquery()
            )
            rows = s.exec(
                select(Follow, Feed, held.c.n, held.c.ends)
                .join(Feed, col(Feed.id) == Follow.feed_id)
                .outerjoin(held, held.c.follow_id == Follow.id)
                .where(Follow.chat_id == chat_id)
                .order_by(col(Follow.number))
            ).all()
            return [
                FollowRow(
                    f.number,
                    feed.title or feed.url,
                    feed.url,
                    f.days,
                    n or 0,
                    ends,
                    tuple(f.watchwords or ()),
                )
                for f, feed, n, ends in rows
            ]

    def titles(self, follow_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        """follow id → (the chat's follow number, the source's title), for announcements."""
        if not follow_ids:
            return {}
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Follow.id, Follow.number, Feed.title, Feed.url)
                .join(Feed, col(Feed.id) == Follow.feed_id)
                .where(col(Follow.id).in_(list(follow_ids)))
            ).all()
            return {fid: (number, title or url) for fid, number, title, url in rows if fid is not None}

    def feeds_of(self, chat_id: int) -> list[Feed]:
        """The chat's followed feeds, in /list order (/export follows)."""
        with read_session(self.engine) as s:
            return list(
                s.exec(
                    select(Feed)
                    .join(Follow, col(Follow.feed_id) == Feed.id)
                    .where(Follow.chat_id == chat_id)
                    .order_by(col(Follow.number))
                ).all()
            )


def _seen(feed_id: int, item: Entry, now: datetime) -> FeedItem:
    return FeedItem(feed_id=feed_id, url=item.url, title=item.title, first_seen_at=now, last_seen_at=now)


def _told_full(s: Session, follow_id: int, told: bool) -> bool:
    follow = s.get(Follow, follow_id)
    if follow is None or follow.told_full == told:
        return False
    follow.told_full = told
    s.add(follow)
    return True


__all__ = ["FollowRow", "Followed", "Follows"]
