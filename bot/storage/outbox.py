"""The outbox: announcements waiting for, or claimed by, a sender (``Delivery`` rows).

A row is written in the same transaction as what it announces; a sender claims it under a
lease before sending, so a crash loses nothing and a live sender's row is sent once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.storage.chats import saw_message
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


def add_deliveries(
    s: Session,
    article_id: int,
    version_id: int | None,
    deliveries: Sequence[NewDelivery],
    now: datetime,
) -> None:
    """Queue ``deliveries`` in the caller's transaction (with the version they announce)."""
    for d in deliveries:
        s.add(
            Delivery(
                chat_id=d.chat_id,
                article_id=article_id,
                version_id=version_id,
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
        unpaused = select(Chat.id).where(col(Chat.paused).is_(False))
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
        error: str = "",
        not_before: datetime | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        text: str | None = None,
        buttons: list[list[tuple[str, str]]] | None = None,
    ) -> None:
        """Record how a claimed row ended (``text`` and ``buttons``: what an updated message
        now shows)."""
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
            if buttons is not None:
                d.buttons = [[list(b) for b in row] for row in buttons]
            s.add(d)
            if message_id is not None:
                s.flush()
                s.exec(saw_message(d.chat_id, message_id))  # type: ignore[call-overload]

    def last_announcement(self, chat_id: int, article_id: int) -> Delivery | None:
        """The newest announcement this chat got about the article (a new one replies to it)."""
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
