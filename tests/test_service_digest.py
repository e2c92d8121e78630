"""The daily digest on a controllable clock (no sleeps), on SQLite and PostgreSQL: due at the
minute the chat picked, queued once in the outbox with the day's edits (a second process, or a
restart, finds nothing more), a day without edits sends nothing, and off is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core.extract import Snapshot
from bot.service.digest import DigestService
from bot.storage.engine import read_session
from bot.storage.models import Delivery, DeliveryKind
from bot.storage.store import Storage
from tests.storage_rows import CONTENT, track_article

CHAT = 4242
T0 = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)


def digests(store: Storage) -> list[Delivery]:
    with read_session(store.engine) as s:
        return list(s.exec(select(Delivery).where(Delivery.kind == DeliveryKind.DIGEST)).all())


def edit(store: Storage, article_id: int, title: str, at: datetime) -> None:
    new = Snapshot(title=title, paragraphs=tuple(CONTENT["paragraphs"]))
    store.articles.store_version(
        article_id,
        title=title,
        content=new.to_dict(),
        content_hash=new.content_hash,
        summary="headline changed",
        deliveries=[],
        article_fields={},
        now=at,
    )


async def test_a_daily_digest_is_queued_once_at_the_chosen_minute(store: Storage) -> None:
    tracked = track_article(store, CHAT, now=T0 - timedelta(days=2))
    assert tracked.article.id is not None
    service = DigestService(store)
    await service.schedule(CHAT, 8 * 60, T0)
    assert (await service.current(CHAT)) == (480, "UTC", False)
    edit(store, tracked.article.id, "Putin cancels Paris talks", T0)

    assert await service.send_due(T0 + timedelta(minutes=89)) == 0  # 07:59
    assert digests(store) == []
    at_eight = T0 + timedelta(minutes=90, seconds=20)
    assert await service.send_due(at_eight) == 1
    # Another process (or the same after a restart) finds nothing more to send today.
    assert await DigestService(store).send_due(at_eight + timedelta(minutes=1)) == 0
    [queued] = digests(store)
    assert queued.chat_id == CHAT and queued.article_id == tracked.article.id
    assert queued.text.split("\n") == [
        "🗞 The day's edits: 1 article changed in the last 24 hours",
        "#1 <b>Putin cancels Paris talks</b> — headline changed · v1 → v2 · /diff_1_1_2",
    ]
    assert queued.plain.endswith("#1 Putin cancels Paris talks — headline changed · v1 → v2 · /diff_1_1_2")
    chat = store.chats.get(CHAT)
    assert chat is not None and chat.digest_next_at == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)

    # The next day had no edit: nothing is sent, and the day after is next.
    assert await service.send_due(datetime(2026, 12, 8, 8, 0, 5, tzinfo=UTC)) == 0
    assert len(digests(store)) == 1
    chat = store.chats.get(CHAT)
    assert chat is not None and chat.digest_next_at == datetime(2026, 12, 9, 8, 0, tzinfo=UTC)

    # Off: never due again.
    await service.schedule(CHAT, None, T0)
    edit(store, tracked.article.id, "Putin calls off Paris talks", datetime(2026, 12, 9, 7, 0, tzinfo=UTC))
    assert await service.send_due(datetime(2026, 12, 9, 8, 0, tzinfo=UTC)) == 0
    assert (await service.current(CHAT)) == (None, "UTC", False) and len(digests(store)) == 1


async def test_a_bot_down_for_days_sends_one_digest_then_keeps_the_time(store: Storage) -> None:
    tracked = track_article(store, CHAT, now=T0 - timedelta(days=5))
    assert tracked.article.id is not None
    service = DigestService(store)
    await service.schedule(CHAT, 21 * 60, T0)  # due 21:00 on the 7th
    later = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # down until the morning of the 10th
    edit(store, tracked.article.id, "Putin cancels Paris talks", later - timedelta(hours=1))
    assert await service.send_due(later) == 1
    assert await service.send_due(later + timedelta(seconds=1)) == 0
    chat = store.chats.get(CHAT)
    assert chat is not None and chat.digest_next_at == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)


async def test_the_digest_time_is_read_on_the_chats_clock(store: Storage) -> None:
    track_article(store, CHAT, now=T0)
    store.chats.set_timezone(CHAT, "Europe/Berlin")
    service = DigestService(store)
    await service.schedule(CHAT, 8 * 60, T0)  # 07:30 in Berlin: today's 08:00 there is 07:00 UTC
    chat = store.chats.get(CHAT)
    assert chat is not None and chat.digest_next_at == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert await service.send_due(datetime(2026, 12, 7, 7, 0, 1, tzinfo=UTC)) == 0  # no edit today
    chat = store.chats.get(CHAT)
    assert chat is not None and chat.digest_next_at == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
