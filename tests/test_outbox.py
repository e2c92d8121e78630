"""The outbox sender over the fake Bot API, in this process: rows that fail alone, a flood
limit that holds every chat, chats sent to side by side."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.core.diff import Change, word_diff
from bot.messages.announcement import MessageContext, render_announcement, render_plain
from bot.messages.notices import EARLIER
from bot.storage.models import DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from bot.tg.sender import Sender
from tests.fakes.telegram_api import FakeTelegram, utf16_len
from tests.storage_rows import track_article

ALICE = 1001


def queue(store: Storage, telegram: FakeTelegram, chats: list[int], text: str = "edit") -> None:
    """One announcement of one article to each chat, in this order."""
    article = None
    for chat_id in chats:
        telegram.add_chat(chat_id)
        article = track_article(store, chat_id).article
    assert article is not None and article.id is not None
    notices = [NewDelivery(c, DeliveryKind.EDIT, f"{text} for {c}", "plain") for c in chats]
    store.outbox.add_notices(article.id, notices, {}, utcnow())


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(telegram.token, base_url=telegram.base_url) as b:
        yield b


def sends_per_chat(telegram: FakeTelegram) -> Counter[int]:
    return Counter(m.chat_id for m in telegram.sent)


async def test_one_bad_row_fails_alone(telegram: FakeTelegram, store: Storage, bot: Bot) -> None:
    """An answer the client cannot read (any exception, not a Telegram error) costs that row
    a retry later; the rows claimed with it are sent, and none is left 'sending'."""
    queue(store, telegram, [1, 2, 3])
    telegram.malformed_next("sendMessage")
    report = await Sender(store, bot).send_pending()
    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    rows = {d.chat_id: d for d in store.outbox.deliveries()}
    assert {d.status for d in rows.values()} == {DeliveryStatus.SENT, DeliveryStatus.PENDING}
    [bad] = [d for d in rows.values() if d.status == DeliveryStatus.PENDING]
    assert "KeyError" in bad.error or "TypeError" in bad.error, bad.error
    assert bad.not_before > utcnow()


async def test_retry_after_holds_every_chat_until_the_time_given(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """Without PTB's retries (a bare Bot): the first 429 stops all sending until its
    retry_after has passed, then the queue resumes where it stopped; each chat gets one."""
    chats = list(range(101, 113))
    queue(store, telegram, chats)
    telegram.flood(0.5, after_sends=3)
    sender = Sender(store, bot, concurrency=4)
    reports = []
    while len(telegram.sent) < len(chats):
        async with asyncio.timeout(10):
            reports.append(await sender.send_pending())
    first_429, retry_after = telegram.flood_answers[0]
    in_window = [
        params["chat_id"]
        for (_method, params), t in zip(telegram.requests, telegram.request_times, strict=True)
        if first_429 <= t < first_429 + retry_after
    ]
    print(f"\n429 without retries: {len(telegram.flood_answers)} refused, {len(in_window)} calls in window")
    # Only the refused request and those already in flight beside it (concurrency 4: at most
    # 3 more) reach Telegram before retry_after has passed, and none of them is a retry: the
    # window is counted by what the fake received, not by how fast a loaded machine sent it.
    assert len(in_window) <= 4 and len(set(in_window)) == len(in_window)
    assert len(telegram.flood_answers) <= 4
    assert sends_per_chat(telegram) == Counter({c: 1 for c in chats})
    assert {d.status for d in store.outbox.deliveries()} == {DeliveryStatus.SENT}


async def test_a_slow_group_does_not_delay_a_private_chat(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    group, alice = -2002, 1001
    queue(store, telegram, [group])
    telegram.answer_late("sendMessage", 1.5)
    task = asyncio.create_task(Sender(store, bot).send_pending())
    await telegram.wait_for(group, timeout=5)  # accepted; its answer is 1.5 s away
    queue(store, telegram, [alice])
    await telegram.wait_for(alice, timeout=1.0)
    assert not task.done()  # the group's answer is still on its way
    assert (await task).sent == 2


def busy_edit(round_: int) -> list[Change]:
    """An edit of many paragraphs, each with many changed words: many entities per message."""
    changes = []
    for k in range(8):
        old = " ".join(f"w{k}x{i}" for i in range(60))
        new = " ".join(f"w{k}x{i}" if i % 4 else f"R{round_}y{i}" for i in range(60))
        changes.append(Change("edited", k, k, old, new, word_diff(old, new)))
    return changes


async def test_a_coalesced_burst_stays_within_telegrams_limits(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """A burst of busy edits, each announced as the monitor renders it, updates one message
    in place only while the whole ("Earlier:" included) stays within 4096 UTF-16 units and
    100 entities; past that the next edit is a new message."""
    telegram.add_chat(ALICE)
    article = track_article(store, ALICE).article
    assert article.id is not None
    sender = Sender(store, bot)
    for round_ in range(1, 7):
        ctx = MessageContext("example.com", "https://example.com/a", "Title", round_, round_ + 1)
        changes = busy_edit(round_)
        html, plain = render_announcement(changes, ctx), render_plain(changes, ctx)
        store.outbox.add_notices(
            article.id, [NewDelivery(ALICE, DeliveryKind.EDIT, html, plain)], {}, utcnow()
        )
        assert (await sender.send_pending()).sent == 1
    edits = [m for m in telegram.messages_to(ALICE) if m.method == "editMessageText"]
    assert edits, "the burst was never coalesced"
    for m in telegram.messages_to(ALICE):
        assert m.entities_count <= 100 and utf16_len(m.plain_text) <= 4096, (m.entities_count, m)
    assert telegram.failures == []


async def test_a_coalesced_update_too_long_in_utf16_is_posted_separately(
    telegram: FakeTelegram, store: Storage, bot: Bot
) -> None:
    """Two announcements of emoji-heavy text: together they fit 4096 code points but not
    4096 UTF-16 units, so the second is posted as its own message, not refused."""
    telegram.add_chat(ALICE)
    article = track_article(store, ALICE).article
    assert article.id is not None
    sender = Sender(store, bot)
    texts = [f"✏️ v{k} → v{k + 1} <b>{'🎉' * 1500}</b>" for k in (1, 2)]
    for text in texts:
        store.outbox.add_notices(
            article.id, [NewDelivery(ALICE, DeliveryKind.EDIT, text, "plain")], {}, utcnow()
        )
        assert (await sender.send_pending()).sent == 1
    assert len(text + EARLIER + text) <= 4096 < utf16_len(text + EARLIER + text)
    sent = telegram.messages_to(ALICE)
    assert [(m.method, m.text) for m in sent] == [("sendMessage", texts[0]), ("sendMessage", texts[1])]
    assert sent[1].params["reply_parameters"]["message_id"] == sent[0].message_id
    assert telegram.failures == []
