"""The outbox sender against the fake Bot API when Telegram is slow or out of reach: a message
that may have arrived is not sent twice, and one that never left is not lost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.storage.models import Delivery, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from bot.tg.sender import Sender
from tests.fakes.telegram_api import FakeTelegram
from tests.storage_rows import track_article

ALICE = 1001
TEXT = "✏️ Headline changed · <b>cancels</b>"


@pytest.fixture
def store(sqlite_store: Storage) -> Storage:
    return sqlite_store


def queue_announcement(store: Storage) -> int:
    """One pending announcement to Alice; its id."""
    article = track_article(store, ALICE).article
    assert article.id is not None
    store.outbox.add_notices(article.id, [NewDelivery(ALICE, DeliveryKind.EDIT, TEXT, "plain")], {}, utcnow())
    with Session(store.engine) as s:
        delivery = s.exec(select(Delivery)).one()
        return delivery.id  # type: ignore[return-value]


def delivery(store: Storage, delivery_id: int) -> Delivery:
    with Session(store.engine) as s:
        found = s.get(Delivery, delivery_id)
        assert found is not None
        return found


def bot_for(base_url: str, token: str, **timeouts: float) -> Bot:
    return Bot(token, base_url=base_url, request=HTTPXRequest(**timeouts))  # type: ignore[arg-type]


@pytest.fixture
def unreachable() -> Iterator[str]:
    """A port whose accept queue is full: connections to it hang, as to a host that is down."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}/bot"
    for sock in (*fillers, server):
        sock.close()


async def test_answer_too_late_counts_as_sent(telegram: FakeTelegram, store: Storage) -> None:
    """Telegram took the message but answered after our read timeout: sending it again would
    post the edit twice, so it counts as sent."""
    telegram.add_chat(ALICE)
    delivery_id = queue_announcement(store)
    telegram.answer_late("sendMessage", 1.5)
    async with bot_for(telegram.base_url, telegram.token, read_timeout=0.3) as bot:
        sender = Sender(store, bot)
        report = await sender.send_pending()
        assert (report.sent, report.retried) == (1, 0)
        assert (await sender.send_pending()).sent == 0
    assert [m.text for m in telegram.messages_to(ALICE)] == [TEXT]
    row = delivery(store, delivery_id)
    assert row.status == DeliveryStatus.SENT and row.error.startswith("timed out")
    # What the README promises for this case is what happened here, word for word.
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert (
        'it is recorded as sent (with "timed out" as its note) and not sent again, because a '
        "duplicate is the worse failure for an edit bot — so one that in fact never arrived is lost."
    ) in readme


async def test_connect_timeout_is_retried_not_lost(
    telegram: FakeTelegram, store: Storage, unreachable: str
) -> None:
    """Telegram out of reach: the request never left, so the announcement waits and goes out
    once Telegram is back."""
    telegram.add_chat(ALICE)
    delivery_id = queue_announcement(store)
    bot = bot_for(unreachable, telegram.token, connect_timeout=0.3)  # not initialised: no getMe
    try:
        report = await Sender(store, bot).send_pending()
    finally:
        await bot.shutdown()
    assert (report.sent, report.retried) == (0, 1)
    row = delivery(store, delivery_id)
    assert row.status == DeliveryStatus.PENDING and row.not_before > utcnow()
    assert telegram.messages_to(ALICE) == []

    with Session(store.engine) as s:  # the back-off has passed
        due = s.get(Delivery, delivery_id)
        assert due is not None
        due.not_before = utcnow()
        s.add(due)
        s.commit()
    async with bot_for(telegram.base_url, telegram.token) as bot:
        assert (await Sender(store, bot).send_pending()).sent == 1
    assert [m.text for m in telegram.messages_to(ALICE)] == [TEXT]
    assert delivery(store, delivery_id).status == DeliveryStatus.SENT
