"""The outbox: announcements waiting for, or claimed by, a sender (``Delivery`` rows).

A row is written in the same transaction as what it announces; a sender claims it under a
lease before sending, so a crash loses nothing and a live sender's row is sent once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.storage.chats import reached, saw_message
from bot.storage.engine import read_session, session_scope
from bot.storage.models import Chat, Delivery, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.queue import set_fields


@dataclass(frozen=True)
class NewDelivery:
    chat_id: int
    kind: str
    text: str
    plain: str
    buttons: list[list[tuple[str, str]]] | None = None  # bot.messages.buttons.Keyboard
    follow_id: int | None = None  # a follow's notice (then ``article_id`` is None)


def add_deliveries(
    s: Session,
    article_id: int | None,
    version_id: int | None,
    deliveries: Sequence[NewDelivery],
    now: datetime,
) -> None:
    """Queue ``deliveries`` in the caller's transaction (with the version they announce).

    The audience was read before this transaction: a chat that has since moved to a
    supergroup (its row is gone) or been paused gets nothing (a paused chat's digest covers
    the version). The chats' rows are locked for share, so a migration or pause running
    now either finishes first (and is seen here) or waits and then moves or drops these."""
    wanted = {d.chat_id for d in deliveries}
    reachable = (
        set(
            s.exec(
                select(Chat.id)
                .where(col(Chat.id).in_(wanted))
                .where(col(Chat.paused).is_(False))
                .with_for_update(read=True)
            ).all()
        )
        if wanted
        else set()
    )
    for d in deliveries:
        if d.chat_id not in reachable:
            continue
        s.add(
            Delivery(
                chat_id=d.chat_id,
                article_id=article_id,
                version_id=version_id,
                follow_id=d.follow_id,
                kind=d.kind,
                text=d.text,
                plain=d.plain,
                buttons=[[list(b) for b in row] for row in d.buttons] if d.buttons else None,
                created_at=now,
                not_before=now,
            )
        )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_notices(
        self,
        article_id: int,
        deliveries: Sequence[NewDelivery],
        article_fields: dict[str, object],
        now: datetime,
    ) -> None:
        """Announcements that are not versions (the article is gone or failing)."""
        with session_scope(self.engine) as s:
            add_deliveries(s, article_id, None, deliveries, now)
            set_fields(s, article_id, article_fields)

    def add_follow_notices(self, deliveries: Sequence[NewDelivery], now: datetime) -> None:
        """A follow's notices (its feed fails, the chat's cap skips its articles): no article."""
        with session_scope(self.engine) as s:
            add_deliveries(s, None, None, deliveries, now)

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
        over the wire: pending ones and ones whose claimant's lease ran out (it died).

        Per-chat order across processes: a chat's row is locked (``FOR UPDATE SKIP LOCKED`` on
        PostgreSQL; SQLite's write lock serializes claims anyway) before its queue is read, so
        the read sees every claim committed before it and none is in progress. Then only a
        chat's head (its oldest unfinished row) may go, and only when it is due: nothing is
        claimed for a chat whose head is in flight anywhere or waits for a retry, or that is
        paused."""
        due = or_(
            and_(col(Delivery.status) == DeliveryStatus.PENDING, col(Delivery.not_before) <= now),
            and_(
                col(Delivery.status) == DeliveryStatus.SENDING,
                or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
            ),
        )
        with session_scope(self.engine) as s:
            waiting = (  # each chat's oldest unfinished row: only it may go
                select(func.min(Delivery.id))
                .where(col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
                .group_by(col(Delivery.chat_id))
            )
            candidates = [
                chat_id
                for chat_id in s.exec(
                    select(Delivery.chat_id)
                    .where(col(Delivery.id).in_(waiting))
                    .where(due)
                    .order_by(col(Delivery.id))
                    .limit(limit * 4 + len(skip_chats))
                )
                if chat_id not in skip_chats
            ]
            if not candidates:
                return []
            locked = s.exec(
                select(Chat.id)
                .where(col(Chat.id).in_(candidates))
                .where(col(Chat.paused).is_(False))
                .with_for_update(skip_locked=True)
            ).all()
            heads = waiting.where(col(Delivery.chat_id).in_(list(locked)))  # read again, locked
            rows = s.exec(
                select(Delivery)
                .where(col(Delivery.id).in_(heads))
                .where(due)
                .order_by(col(Delivery.id))
                .limit(limit)
            ).all()
            for d in rows:
                d.status = DeliveryStatus.SENDING
                d.claimed_by, d.lease_until = claimant, now + lease
                s.add(d)
            return list(rows)

    def _claimed(self, ids: Collection[int], claimant: str, **values: object) -> None:
        """Change rows this sender still holds ('sending' under its name), and no others."""
        if not ids:
            return
        with session_scope(self.engine) as s:
            s.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.id).in_(list(ids)))
                .where(col(Delivery.claimed_by) == claimant)
                .where(col(Delivery.status) == DeliveryStatus.SENDING)
                .values(**values)
            )

    def renew_leases(self, ids: Collection[int], claimant: str, until: datetime) -> None:
        """Keep rows this sender is still sending (waiting out a flood limit, say) its own."""
        self._claimed(ids, claimant, lease_until=until)

    def release(self, ids: Collection[int], claimant: str, not_before: datetime | None = None) -> None:
        """Give back rows this sender claimed but did not send (stopping, or told to wait until
        ``not_before``); they keep their place in the queue."""
        values: dict[str, object] = {"status": DeliveryStatus.PENDING, "lease_until": None}
        if not_before is not None:
            values["not_before"] = not_before
        self._claimed(ids, claimant, **values)

    def finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        claimant: str,
        error: str = "",
        not_before: datetime | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        text: str | None = None,
        buttons: list[list[tuple[str, str]]] | None = None,
    ) -> bool:
        """Record how a claimed row ended (``text`` and ``buttons``: what an updated message
        now shows), if ``claimant`` still holds it: a row whose lease went to another sender,
        or that a pause dropped meanwhile, is not theirs to change. A row put back to wait for
        a retry counts one more failed attempt. True if recorded.

        Locks as a claim does, the chat's row before the delivery's, so the two never wait
        for each other in a circle (PostgreSQL)."""
        with session_scope(self.engine) as s:
            found = s.get(Delivery, delivery_id)
            if found is None:
                return False
            s.exec(select(Chat.id).where(Chat.id == found.chat_id).with_for_update()).first()
            d = s.exec(
                select(Delivery)
                .where(Delivery.id == delivery_id)
                .where(Delivery.claimed_by == claimant)
                .where(Delivery.status == DeliveryStatus.SENDING)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).first()
            if d is None:
                return False
            d.status = status
            d.error = error[:500]
            d.lease_until = None
            if status == DeliveryStatus.SENT:
                d.sent_at = utcnow()
            if status == DeliveryStatus.PENDING:
                d.attempts += 1
            if not_before is not None:
                d.not_before = not_before
            if chat_id is not None:
                d.chat_id = chat_id
            if message_id is not None:
                d.message_id = message_id
            if text is not None:
                d.text = text
            if buttons is not None:
                d.buttons = [[list(b) for b in row] for row in buttons]
            s.add(d)
            if status == DeliveryStatus.SENT:
                s.flush()
                s.exec(reached(d.chat_id))  # type: ignore[call-overload]
            if message_id is not None:
                s.flush()
                s.exec(saw_message(d.chat_id, message_id))  # type: ignore[call-overload]
            return True

    def last_announcement(self, chat_id: int, article_id: int | None) -> Delivery | None:
        """The newest announcement this chat got about the article (a new one replies to it);
        None for a follow's notice, which is about no article."""
        if article_id is None:
            return None
        with read_session(self.engine) as s:
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

    def get(self, delivery_id: int) -> Delivery | None:
        with read_session(self.engine) as s:
            return s.get(Delivery, delivery_id)

    def deliveries(self, chat_id: int | None = None) -> list[Delivery]:
        with read_session(self.engine) as s:
            q = select(Delivery).order_by(col(Delivery.id))
            if chat_id is not None:
                q = q.where(Delivery.chat_id == chat_id)
            return list(s.exec(q).all())


__all__ = ["NewDelivery", "Outbox", "add_deliveries"]
