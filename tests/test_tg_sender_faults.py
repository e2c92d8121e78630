"""The outbox when the database fails around a send, when a row changes hands mid-send, and
per-chat order (issue #16): a message Telegram accepted is never queued again, a sender only
finishes rows it still holds, and a chat's messages leave in the order they were queued."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session
from telegram import Bot

from bot.messages.notices import EARLIER
from bot.storage.engine import make_engine
from bot.storage.models import Delivery, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from bot.tg.sender import MAX_ATTEMPTS, Sender
from tests.fakes.database import DatabaseFaults
from tests.fakes.postgres import PostgresServer
from tests.fakes.telegram_api import FakeTelegram
from tests.storage_rows import track_article

ALICE = 1001
FINISH = r"^UPDATE delivery SET status"  # how a sender records the end of a send
_DBS = itertools.count()


@pytest.fixture
def store(sqlite_store: Storage) -> Storage:
    return sqlite_store


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=telegram.base_url) as b:
        yield b


def announce(store: Storage, chat_id: int, text: str, key: str = "example.com/a") -> int:
    """Queue one edit announcement of the article at ``key`` to ``chat_id``; its row id."""
    tracked = store.articles.lookup(chat_id, url_key=key)
    article = tracked.article if tracked is not None else track_article(store, chat_id, key=key).article
    assert article.id is not None
    store.outbox.add_notices(article.id, [NewDelivery(chat_id, DeliveryKind.EDIT, text, text)], {}, utcnow())
    return max(d.id or 0 for d in store.outbox.deliveries(chat_id))


def row(store: Storage, delivery_id: int) -> Delivery:
    found = store.outbox.get(delivery_id)
    assert found is not None
    return found


# -- 1. a sent message goes back into the queue when recording it fails ------------------------


async def test_a_sent_message_whose_record_fails_is_not_queued_again(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """Telegram accepted the message, then writing 'sent' failed twice (SQLite busy past its
    timeout, a dropped PostgreSQL connection): the row is still recorded as sent, once the
    database answers, and never goes back to the queue."""
    telegram.add_chat(ALICE)
    d = announce(store, ALICE, "edit one")
    telegram.hold_answers()
    sending = asyncio.create_task(Sender(store, bot).send_pending())
    await telegram.wait_for(ALICE, contains="edit one")
    with DatabaseFaults(store.engine) as faults:
        faults.fail_next(FINISH, count=2)
        telegram.release_answers()
        report = await asyncio.wait_for(sending, 10)
        assert len(faults.failed) == 2
    sent = row(store, d)
    assert (sent.status, report.sent, report.retried) == (DeliveryStatus.SENT, 1, 0), sent.error
    assert sent.message_id == telegram.messages_to(ALICE)[0].message_id
    assert (await Sender(store, bot).send_pending()).sent == 0
    assert len(telegram.messages_to(ALICE)) == 1


async def test_an_update_that_already_landed_is_recorded_not_posted_again(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """A second edit updates the first announcement in place; the sender that did it died
    before recording it. The next attempt meets "message is not modified": the message
    already says it, so the row is sent (the same message), not posted as a new one."""
    telegram.add_chat(ALICE)
    first = announce(store, ALICE, "edit one")
    await Sender(store, bot).send_pending()
    second = announce(store, ALICE, "edit two")
    message_id = row(store, first).message_id
    assert message_id is not None
    await bot.edit_message_text(
        "edit two" + EARLIER + "edit one", chat_id=ALICE, message_id=message_id, parse_mode="HTML"
    )
    before = len(telegram.requests)

    report = await Sender(store, bot).send_pending()

    calls = [method for method, _ in telegram.requests[before:] if method != "getChat"]
    assert calls == ["editMessageText"]  # refused: not modified; and no sendMessage after it
    assert telegram.failures[-1][2].startswith("Bad Request: message is not modified")
    done = row(store, second)
    assert (report.sent, done.status, done.message_id) == (1, DeliveryStatus.SENT, message_id)


# -- 2. finishing is tied to who holds the row ---------------------------------------------------


async def test_a_late_retry_does_not_requeue_a_row_the_pause_dropped(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """While the send is in flight the chat is paused (my_chat_member: the bot was blocked),
    which drops its unsent rows; the send then fails. The sender no longer holds the row, so
    its retry writes nothing: the row stays dropped and is not sent on resume."""
    telegram.add_chat(ALICE)
    d = announce(store, ALICE, "edit one")
    telegram.hold_answers()
    telegram.malformed_next("sendMessage")  # carried out, answered with nothing readable
    sending = asyncio.create_task(Sender(store, bot).send_pending())
    await telegram.wait_for(ALICE, contains="edit one")
    assert store.chats.pause(ALICE, "bot was blocked by the user")
    telegram.release_answers()
    await asyncio.wait_for(sending, 10)
    dropped = row(store, d)
    assert (dropped.status, dropped.error) == (
        DeliveryStatus.FAILED,
        "chat paused: bot was blocked by the user",
    )


def test_finish_only_changes_a_row_its_claimant_still_holds(store: Storage) -> None:
    """A lease that ran out went to another sender: the first one's late answer is ignored,
    whatever it says; the holder's own finish lands."""
    d = announce(store, ALICE, "edit one")
    [mine] = store.outbox.claim_pending(utcnow(), 1, claimant="a", lease=timedelta(seconds=-1))
    [theirs] = store.outbox.claim_pending(utcnow(), 1, claimant="b", lease=timedelta(seconds=30))
    assert mine.id == theirs.id == d
    store.outbox.finish(d, DeliveryStatus.PENDING, claimant="a", error="late")
    assert (row(store, d).status, row(store, d).claimed_by) == (DeliveryStatus.SENDING, "b")
    store.outbox.finish(d, DeliveryStatus.SENT, claimant="b", message_id=7)
    assert (row(store, d).status, row(store, d).message_id) == (DeliveryStatus.SENT, 7)
    store.outbox.finish(d, DeliveryStatus.PENDING, claimant="b", error="again")
    assert row(store, d).status == DeliveryStatus.SENT  # a finished row is finished


async def test_a_pass_whose_claim_fails_still_sees_its_sends_through(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """The database fails a claim while a message is in flight: the pass does not walk away
    from it (nobody renewing its lease, nobody awaiting it at stop); it waits for the send,
    records it, and only then reports the failure."""
    telegram.add_chat(ALICE)
    d = announce(store, ALICE, "edit one")
    telegram.hold_answers()
    sending = asyncio.create_task(Sender(store, bot, concurrency=2).send_pending())
    await telegram.wait_for(ALICE, contains="edit one")
    [send] = [t for t in asyncio.all_tasks() if "_send_one" in repr(t.get_coro())]
    ended: list[str] = []
    send.add_done_callback(lambda _: ended.append("send"))
    sending.add_done_callback(lambda _: ended.append("pass"))
    with DatabaseFaults(store.engine) as faults:
        faults.fail_next(r"^SELECT .*FROM delivery", count=1)  # the pass claims again while it waits
        async with asyncio.timeout(5):
            while not faults.failed:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # room for a pass that gives up to do so before the answer comes
        telegram.release_answers()
        with pytest.raises(Exception, match="database is locked"):
            await asyncio.wait_for(sending, 10)
    await send
    assert ended == ["send", "pass"]
    assert row(store, d).status == DeliveryStatus.SENT


# -- 3. one message per chat in flight, across processes, in the order queued ---------------------


def test_two_senders_never_hold_two_messages_of_one_chat_on_postgres(postgres_server: PostgresServer) -> None:
    """Sender A's claim transaction is still open (its rows locked, nothing committed) when
    sender B claims: B must not take a later message of the same chat out of order."""
    url = postgres_server.create_database(f"order{next(_DBS)}")
    a, b = Storage(make_engine(url)), Storage(make_engine(url))
    try:
        a.upgrade_schema()
        ids = [announce(a, ALICE, f"edit {n}") for n in range(1, 6)]
        with DatabaseFaults(a.engine) as faults:
            hold = faults.hold_after(r"FOR UPDATE")
            claiming = threading.Thread(
                target=lambda: claimed_by_a.extend(a.outbox.claim_pending(utcnow(), 1, claimant="a"))
            )
            claimed_by_a: list[Delivery] = []
            claiming.start()
            assert hold.reached.wait(10)
            taken_by_b = b.outbox.claim_pending(utcnow(), 1, claimant="b")
            hold.release()
            claiming.join(10)
        assert [d.id for d in claimed_by_a] == ids[:1]
        assert taken_by_b == []
        assert b.outbox.claim_pending(utcnow(), 1, claimant="b") == []  # ALICE's first is in flight
    finally:
        a.engine.dispose()
        b.engine.dispose()


async def test_a_message_retried_later_is_not_overtaken(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """The first of two messages to a chat fails (Telegram 500) and waits for its retry: the
    second waits behind it, then both go in the order they were queued."""
    telegram.add_chat(ALICE)
    first = announce(store, ALICE, "edit one")
    second = announce(store, ALICE, "edit two", key="example.com/b")
    telegram.fail_next("sendMessage", 500, "Internal Server Error")
    report = await Sender(store, bot).send_pending()
    assert (report.sent, report.retried) == (0, 1)
    assert telegram.messages_to(ALICE) == []
    assert (row(store, first).status, row(store, second).status) == (DeliveryStatus.PENDING,) * 2
    with Session(store.engine) as s:  # the retry is due
        s.exec(update(Delivery).where(Delivery.id == first).values(not_before=utcnow()))  # type: ignore[call-overload]
        s.commit()
    await Sender(store, bot).send_pending()
    assert [m.text for m in telegram.messages_to(ALICE)] == ["edit one", "edit two"]


def test_waits_that_are_not_failures_do_not_count_as_attempts(store: Storage) -> None:
    """A flood-limit wait, a stop or an expired lease gives the row back without a failure:
    only a failed send counts towards giving up (it used to be every claim, so after about
    eight waits one network error failed the message for good)."""
    d = announce(store, ALICE, "edit one")
    for _ in range(MAX_ATTEMPTS + 2):
        assert [c.id for c in store.outbox.claim_pending(utcnow(), 1, claimant="a")] == [d]
        store.outbox.release([d], "a")
    assert row(store, d).attempts == 0
    assert [c.id for c in store.outbox.claim_pending(utcnow(), 1, claimant="a")] == [d]
    assert store.outbox.finish(d, DeliveryStatus.PENDING, claimant="a", error="network")
    assert row(store, d).attempts == 1


def test_chats_waiting_for_a_retry_do_not_crowd_out_the_others(store: Storage) -> None:
    """Many chats whose first message waits for its retry (and whose second is due) do not
    fill the claim's look-ahead: a chat further down the queue is still served."""
    waiting = list(range(2001, 2011))
    for chat_id in waiting:
        first = announce(store, chat_id, "first")
        announce(store, chat_id, "second", key="example.com/b")
        [claimed] = store.outbox.claim_pending(utcnow(), 1, claimant="a", skip_chats=set(waiting) - {chat_id})
        assert claimed.id == first
        store.outbox.finish(
            first, DeliveryStatus.PENDING, claimant="a", not_before=utcnow() + timedelta(hours=1)
        )
    served = announce(store, 3001, "for a chat further down")
    assert [d.id for d in store.outbox.claim_pending(utcnow(), 1, claimant="b")] == [served]
