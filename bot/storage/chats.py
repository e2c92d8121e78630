"""Chats: who hears from us, how much, whether they are paused, and where (forum topics).

Every method is one transaction; reads run on a read session (no write lock on SQLite).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Update, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.sensitivity import DEFAULT_SENSITIVITY
from bot.storage.engine import read_session, session_scope
from bot.storage.models import (
    Article,
    Chat,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Follow,
    Subscription,
    Version,
    new_web_token,
    utcnow,
)


@dataclass(frozen=True)
class NewDigest:
    """A daily digest to queue: its text, and one of its articles (a delivery names one)."""

    article_id: int
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
class ChatOverview:
    """One chat for the operator: what it tracks, who tracked it, which channel it manages."""

    id: int
    type: str
    title: str
    paused: bool
    managing: int | None
    articles: list[tuple[int, str, int | None]]  # (number, url, the user who tracked it)


def unsent() -> ColumnElement[bool]:
    """Deliveries not yet (or not surely) over the wire."""
    return col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])


def saw_message(chat_id: int, message_id: int) -> Update:
    """Raise the chat's newest seen message id to ``message_id`` (never lower it)."""
    return (
        update(Chat)
        .where(col(Chat.id) == chat_id)
        .where(or_(col(Chat.last_message_id).is_(None), col(Chat.last_message_id) < message_id))
        .values(last_message_id=message_id)
    )


def reached(chat_id: int) -> Update:
    """Something was delivered to the chat: an absence it had is over."""
    return (
        update(Chat)
        .where(col(Chat.id) == chat_id)
        .where(col(Chat.paused).is_(False))
        .where(col(Chat.paused_at).is_not(None))
        .values(paused_at=None)
    )


def _aware(t: datetime) -> datetime:
    """SQLite hands datetimes back naive (they are stored in UTC)."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def subscription(chat_id: int, article_id: int) -> SelectOfScalar[Subscription]:
    return (
        select(Subscription)
        .where(Subscription.chat_id == chat_id)
        .where(Subscription.article_id == article_id)
    )


# Where a rendered message names an article by its /list number: "/diff N" (and "/diff N A B"),
# "/untrack N", "/history N", their tappable forms ("/diff_N", ...), a notice's "Article #N",
# a digest line's leading "#N".
_POINTER = re.compile(
    r"(?:(?<=/diff )|(?<=/diff_)|(?<=/untrack )|(?<=/untrack_)|(?<=/history )|(?<=/history_)"
    r"|(?<=Article #)|(?<=^#))(\d+)(?!\d)",
    re.M,
)


def _renumber(text: str, numbers: dict[int, int]) -> str:
    """Point every article a rendered message names at its new number, in one pass (so 1→2
    and 2→1 swap rather than collapse)."""
    return _POINTER.sub(lambda m: str(numbers.get(int(m.group(1)), m.group(1))), text)


class Chats:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ensure(self, chat_id: int, chat_type: str, title: str = "") -> Chat:
        """Register a chat that talked to us (a paused one stays paused: see ``resume``)."""
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

    def set_digest(self, chat_id: int, minute: int | None, next_at: datetime | None) -> None:
        """Turn the chat's daily digest on at ``minute`` (first due ``next_at``), or off (None)."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.digest_minute, chat.digest_next_at = minute, next_at
            s.add(chat)

    def set_digest_only(self, chat_id: int, on: bool) -> None:
        """Articles follows bring: only in the daily digest (``on``), or announced one by one."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.digest_only = on
            s.add(chat)

    def due_digests(self, now: datetime) -> list[Chat]:
        """Chats whose daily digest is due and that we may write to."""
        with read_session(self.engine) as s:
            return list(
                s.exec(
                    select(Chat)
                    .where(col(Chat.digest_next_at) <= now)
                    .where(col(Chat.paused).is_(False))
                    .order_by(col(Chat.digest_next_at))
                ).all()
            )

    def queue_digest(
        self, chat_id: int, due: datetime, next_at: datetime, message: NewDigest | None, now: datetime
    ) -> bool:
        """Move the chat's digest from ``due`` to ``next_at`` and queue ``message`` (None: a day
        without edits, nothing to send) in one transaction. False when another process already
        took this one: the row no longer says ``due``."""
        with session_scope(self.engine) as s:
            moved = s.exec(  # type: ignore[call-overload]
                update(Chat)
                .where(col(Chat.id) == chat_id)
                .where(col(Chat.digest_next_at) == due)
                .values(digest_next_at=next_at)
            )
            if moved.rowcount != 1:
                return False
            if message is not None:
                s.add(_digest_row(chat_id, message, now))
            return True

    def set_managing(self, chat_id: int, channel_id: int | None) -> None:
        """The channel a private chat's commands act on from now (None: the chat itself)."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.managing = channel_id
            s.add(chat)

    def overview(self) -> list[ChatOverview]:
        """Every chat with the articles it tracks and who tracked each (``redline chats``)."""
        with read_session(self.engine) as s:
            chats = s.exec(select(Chat).order_by(col(Chat.created_at), col(Chat.id))).all()
            rows = s.exec(
                select(Subscription.chat_id, Subscription.number, Subscription.user_id, Article.url)
                .join(Article, col(Article.id) == Subscription.article_id)
                .order_by(col(Subscription.chat_id), col(Subscription.number))
            ).all()
            tracked: dict[int, list[tuple[int, str, int | None]]] = {}
            for chat_id, number, user_id, url in rows:
                tracked.setdefault(chat_id, []).append((number, url, user_id))
            return [
                ChatOverview(c.id, c.type, c.title, c.paused, c.managing, tracked.get(c.id, []))
                for c in chats
            ]

    def set_quiet(self, chat_id: int, quiet: bool) -> None:
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.quiet = quiet
            s.add(chat)

    def set_timezone(self, chat_id: int, timezone: str) -> None:
        """``timezone``: an IANA name the caller has checked ("Europe/Berlin")."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.timezone = timezone
            s.add(chat)

    def get(self, chat_id: int) -> Chat | None:
        with read_session(self.engine) as s:
            return s.get(Chat, chat_id)

    def web_token(self, chat_id: int) -> str:
        """The chat's web token (one is made for a chat that has none). Read first, on a read
        session: asked for every /history, it must not wait for the write lock."""
        with read_session(self.engine) as s:
            token = s.exec(select(Chat.web_token).where(Chat.id == chat_id)).first()
        if token is not None:
            return token
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            if chat.web_token is None:
                chat.web_token = new_web_token()
                s.add(chat)
            return chat.web_token

    def replace_web_token(self, chat_id: int) -> str:
        """/feed revoke: a new token; addresses with the old one stop working."""
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id) or Chat(id=chat_id)
            chat.web_token = new_web_token()
            s.add(chat)
            return chat.web_token

    def pause(self, chat_id: int, reason: str, now: datetime | None = None) -> bool:
        """The bot was removed or blocked, or Telegram will not deliver here: send nothing
        more, keep the subscriptions. Unsent announcements are dropped (the digest sent on
        return covers them), and the pause dates from the oldest of them, or from an earlier
        absence whose digest never arrived (``paused_at`` is kept until something reaches the
        chat). True if newly paused."""
        now = now or utcnow()
        with session_scope(self.engine) as s:
            chat = s.get(Chat, chat_id)
            if chat is None:
                chat = Chat(id=chat_id, type="private" if chat_id > 0 else "group")
            if chat.paused:
                return False
            oldest = s.exec(
                select(func.min(Delivery.created_at)).where(Delivery.chat_id == chat_id).where(unsent())
            ).one()
            since = [t for t in (oldest, chat.paused_at) if t is not None]
            chat.paused, chat.paused_at = True, min(since, key=_aware) if since else now
            s.add(chat)
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.chat_id) == chat_id)
                .where(unsent())
                .values(status=DeliveryStatus.FAILED, error=f"chat paused: {reason}"[:500])
            )
            return True

    def resume(
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
            if chat is None or not chat.paused:
                s.add(chat or Chat(id=chat_id, type=chat_type, title=title))
                return None
            changes = self._away_changes(s, chat_id, chat.paused_at or now)
            chat.type, chat.title = chat_type, title or chat.title
            chat.paused = False  # paused_at stays until the digest (or anything) is delivered
            s.add(chat)
            if changes:
                text, plain = digest(changes)
                s.add(_digest_row(chat_id, NewDigest(changes[0].article_id, text, plain), now))
            return changes

    def changed_since(self, chat_id: int, since: datetime) -> list[AwayChange]:
        """The chat's articles with a version stored since ``since`` (/digest): the version
        before the first of them and the newest."""
        with read_session(self.engine) as s:
            return self._away_changes(s, chat_id, since)

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

    def paused(self) -> list[int]:
        with read_session(self.engine) as s:
            return list(s.exec(select(Chat.id).where(col(Chat.paused).is_(True))).all())

    def saw_message(self, chat_id: int, message_id: int) -> None:
        """Remember the newest message seen in a chat (an edit in place needs to be the last)."""
        with session_scope(self.engine) as s:
            s.exec(saw_message(chat_id, message_id))  # type: ignore[call-overload]

    def migrate(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move its subscriptions, settings and unsent messages to
        the new id, merged with what the supergroup already tracks (an article tracked in both
        is kept once; a number the supergroup uses goes to the next free one)."""
        with session_scope(self.engine) as s:
            # Locked first: a version being stored for the group either commits before (its
            # messages are moved below) or waits and finds the group gone (outbox.add_deliveries).
            old = s.exec(select(Chat).where(Chat.id == old_id).with_for_update()).first()
            new = s.get(Chat, new_id)
            created = new is None
            if new is None:
                new = Chat(
                    id=new_id,
                    type="supergroup",
                    title=old.title if old else "",
                    sensitivity=old.sensitivity if old else DEFAULT_SENSITIVITY,
                    quiet=old.quiet if old else False,
                    timezone=old.timezone if old else "UTC",
                    paused=old.paused if old else False,
                    paused_at=old.paused_at if old else None,
                    digest_minute=old.digest_minute if old else None,
                    digest_next_at=old.digest_next_at if old else None,
                    digest_only=old.digest_only if old else False,
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
            numbers: dict[int, int] = {}  # the group's /list number → the merged chat's
            for sub in ours:
                if sub.article_id in theirs:
                    numbers[sub.number] = theirs[sub.article_id].number
                    s.delete(sub)
                    continue
                if sub.number in taken:
                    top += 1
                    numbers[sub.number] = top
                    sub.number = top
                top = max(top, sub.number)
                taken.add(sub.number)
                sub.chat_id = new_id
                s.add(sub)
            s.flush()
            follows = _merge_follows(s, old_id, new_id)
            known = {
                (d.article_id, d.version_id, d.kind, d.follow_id)
                for d in s.exec(select(Delivery).where(Delivery.chat_id == new_id))
            }
            for d in s.exec(select(Delivery).where(Delivery.chat_id == old_id).where(unsent())).all():
                if d.follow_id is not None and d.follow_id not in follows:
                    s.delete(d)  # a notice about a follow the supergroup already had
                    continue
                if (d.article_id, d.version_id, d.kind, d.follow_id) in known:
                    s.delete(d)  # the supergroup already has (or had) this very message
                else:
                    d.chat_id = new_id
                    if numbers:  # its pointers name the merged numbers
                        d.text, d.plain = _renumber(d.text, numbers), _renumber(d.plain, numbers)
                    s.add(d)
            if old is not None:
                token = old.web_token
                s.delete(old)
                if created:  # the group's feed keeps its address (its readers need not know)
                    s.flush()
                    new.web_token = token
                    s.add(new)

    def topic(self, chat_id: int, article_id: int | None, follow_id: int | None = None) -> int | None:
        """The forum topic the chat tracks the article in, or (a follow's notice) follows the
        source in; None: the chat itself."""
        with read_session(self.engine) as s:
            if article_id is None:
                follow = s.get(Follow, follow_id) if follow_id is not None else None
                return follow.thread_id if follow is not None and follow.chat_id == chat_id else None
            sub = s.exec(subscription(chat_id, article_id)).first()
            return sub.thread_id if sub is not None else None

    def move_to_general(self, chat_id: int, thread_id: int) -> None:
        """A deleted topic: its subscriptions are announced in the chat's General topic."""
        with session_scope(self.engine) as s:
            for table in (Subscription, Follow):
                s.exec(  # type: ignore[call-overload]
                    update(table)
                    .where(col(table.chat_id) == chat_id)
                    .where(col(table.thread_id) == thread_id)
                    .values(thread_id=None)
                )


__all__ = ["AwayChange", "ChatOverview", "Chats"]


def _merge_follows(s: Session, old_id: int, new_id: int) -> set[int]:
    """The group's follows go to the supergroup (a source both follow is kept once, the
    supergroup's; a number it uses goes to the next free one). Returns the ids moved. The
    subscriptions a dropped follow brought now belong to the supergroup's own follow of it."""
    theirs = {f.feed_id: f for f in s.exec(select(Follow).where(Follow.chat_id == new_id))}
    taken = {f.number for f in theirs.values()}
    top = max(taken, default=0)
    moved: set[int] = set()
    for f in s.exec(select(Follow).where(Follow.chat_id == old_id).order_by(col(Follow.number))).all():
        kept = theirs.get(f.feed_id)
        if kept is not None:
            s.exec(  # type: ignore[call-overload]
                update(Subscription)
                .where(col(Subscription.chat_id) == new_id)
                .where(col(Subscription.follow_id) == f.id)
                .values(follow_id=kept.id)
            )
            s.delete(f)
            continue
        if f.number in taken:
            top = max(top, *taken) + 1
            f.number = top
        taken.add(f.number)
        f.chat_id = new_id
        s.add(f)
        assert f.id is not None
        moved.add(f.id)
    s.flush()
    return moved


def _digest_row(chat_id: int, message: NewDigest, now: datetime) -> Delivery:
    """One message about several articles (welcome back, the daily digest), due now."""
    return Delivery(
        chat_id=chat_id,
        article_id=message.article_id,
        kind=DeliveryKind.DIGEST,
        text=message.text,
        plain=message.plain,
        created_at=now,
        not_before=now,
    )
