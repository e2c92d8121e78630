"""The outbox sender: pending ``Delivery`` rows → Telegram, with Telegram's errors handled.

It runs as its own loop beside the checks (``start``/``stop``; the monitor calls ``wake`` when
it stored something), sends to several chats at once (one message at a time per chat, so a
chat's messages keep their order and a slow group never holds up a private chat), and owns
the rows it claims through a lease it renews while they are in flight: a process that dies
loses its rows to the next sender only when the lease runs out.

Guarantee (the README's, word for word there): nothing is lost; a crash repeats at most the
messages that were in flight (sent, but not yet recorded as sent). A message Telegram accepted
is never queued again (``_record_sent`` retries the write); a read timeout counts as sent, so
one that never arrived is the one loss we accept rather than risk a duplicate.

Order of the ``except`` clauses matters: ``BadRequest`` and ``TimedOut`` are subclasses of
``NetworkError``, so a generic network retry placed first would loop forever on a message
Telegram will never accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.messages.buttons import Keyboard, coalesced_keyboard
from bot.messages.limits import fits
from bot.messages.notices import EARLIER, EARLIER_PLAIN
from bot.ops.logs import redact
from bot.storage.models import Chat, Delivery, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.store import Storage
from bot.tg.keyboards import markup

log = logging.getLogger("redline.deliver")

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class Refusal(StrEnum):
    """What a refused request means for the outbox."""

    PAUSE = "pause"  # the chat is out of reach: removed, blocked, unknown or muted for the bot
    TOPIC_GONE = "topic_gone"  # the forum topic was deleted
    BAD_HTML = "bad_html"  # our markup was refused: send the plain text
    NOT_EDITABLE = "not_editable"  # the message to update is gone: post a new one
    UNCHANGED = "unchanged"  # the message to update already says this: an earlier try landed
    REFUSED = "refused"  # this message will never be accepted


_PAUSE = ("chat not found", "not enough rights", "have no rights to send", "chat_write_forbidden")
_NOT_EDITABLE = ("message to edit not found", "message can't be edited")


def refusal(exc: TelegramError) -> Refusal:
    """Classify a ``Forbidden``/``BadRequest`` by Telegram's description (it has no codes)."""
    text = exc.message.lower()
    if isinstance(exc, Forbidden) or any(p in text for p in _PAUSE):
        return Refusal.PAUSE
    if "thread not found" in text or "topic_deleted" in text or "topic was deleted" in text:
        return Refusal.TOPIC_GONE
    if "can't parse entities" in text:
        return Refusal.BAD_HTML
    if any(p in text for p in _NOT_EDITABLE):
        return Refusal.NOT_EDITABLE
    if "message is not modified" in text:
        return Refusal.UNCHANGED
    return Refusal.REFUSED


def coalesces(
    previous: Delivery | None, chat: Chat | None, kind: str, now: datetime, window: timedelta
) -> bool:
    """An edit that follows the last announcement of the same article soon enough updates it,
    while that message is still the newest this bot has seen in the chat (nobody replied to it
    or wrote after it, as far as a bot can see)."""
    if previous is None or chat is None or previous.message_id is None or previous.sent_at is None:
        return False
    if kind != DeliveryKind.EDIT or previous.kind != DeliveryKind.EDIT or window <= timedelta(0):
        return False
    sent_at = previous.sent_at if previous.sent_at.tzinfo else previous.sent_at.replace(tzinfo=now.tzinfo)
    return now - sent_at <= window and chat.last_message_id == previous.message_id


def _keyboard(stored: list[list[list[str]]] | None) -> Keyboard | None:
    """A row's stored buttons (JSON lists) as a keyboard."""
    return [[(label, data) for label, data in row] for row in stored] if stored else None


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _never_sent(exc: TimedOut) -> bool:
    """A connect or pool timeout: the request never left this machine, so retrying is safe."""
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


class Sender:
    def __init__(
        self,
        store: Storage,
        bot: Bot,
        *,
        concurrency: int = 8,
        lease: float = 30.0,
        coalesce_minutes: float = 10.0,
        tick: float = 5.0,
        grace: float = 1.0,
    ) -> None:
        self.store = store
        self.bot = bot
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease)
        self.coalesce = timedelta(minutes=coalesce_minutes)
        self.tick = tick
        self.grace = grace  # how long a stop waits for messages in flight
        self.claimant = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._resume_at = 0.0  # loop time before which nothing is sent (Telegram's retry_after)
        self._pass = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- the loop ------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was queued: send it now instead of at the next tick."""
        self._wakeup.set()

    def start(self) -> None:
        self._stopping = False
        self._stopped.clear()
        self._task = asyncio.create_task(self._run(), name="redline-sender")

    def request_stop(self) -> None:
        """Start no new message (safe to call from a signal handler)."""
        if not self._stopping:
            log.info("sender_stopping claimant=%s", self.claimant)
        self._stopping = True
        self._stopped.set()
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop between two messages: nothing new is started, messages in flight get
        ``grace`` seconds, and any still unanswered then go back to the queue."""
        self.request_stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        log.info("sender_started claimant=%s concurrency=%d", self.claimant, self.concurrency)
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self.send_pending()
            except Exception as exc:  # the database is away: try again at the next tick
                log.error("send_pass_failed error=%r", exc)
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.tick)
        log.info("sender_stopped claimant=%s", self.claimant)

    async def send_pending(self) -> SendReport:
        """Send everything due, a message per chat at a time, up to ``concurrency`` chats at
        once; return when nothing is due or when stopping."""
        async with self._pass:
            loop = asyncio.get_running_loop()
            in_flight: dict[asyncio.Task[DeliveryStatus], Delivery] = {}
            counts = {status: 0 for status in DeliveryStatus}
            renewed = loop.time()
            failure: Exception | None = None  # a claim failed: see the sends in flight through
            while not self._stopping:
                paused = loop.time() < self._resume_at  # Telegram said to wait: claim nothing
                free = self.concurrency - len(in_flight)
                if free > 0 and not paused and failure is None:
                    busy = {d.chat_id for d in in_flight.values()}
                    try:
                        rows = await asyncio.to_thread(
                            self.store.outbox.claim_pending,
                            utcnow(),
                            free,
                            claimant=self.claimant,
                            lease=self.lease,
                            skip_chats=busy,
                        )
                    except Exception as exc:
                        failure, rows = exc, []
                    for d in rows:
                        in_flight[asyncio.create_task(self._send_one(d))] = d
                if not in_flight:
                    if failure is not None:
                        raise failure
                    if paused:
                        await self._sleep(self._resume_at - loop.time())
                        continue
                    break
                done, _ = await asyncio.wait(in_flight, timeout=0.2, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    del in_flight[task]
                    counts[task.result()] += 1
                if loop.time() - renewed > self.lease.total_seconds() / 3:
                    renewed = loop.time()
                    until = utcnow() + self.lease
                    ids = [d.id for d in in_flight.values() if d.id is not None]
                    try:
                        await asyncio.to_thread(self.store.outbox.renew_leases, ids, self.claimant, until)
                    except Exception as exc:  # the next renewal may land before the lease ends
                        log.error("lease_renewal_failed deliveries=%d error=%r", len(ids), exc)
            if in_flight:  # stopping: let the messages in flight finish, briefly
                done, late = await asyncio.wait(in_flight, timeout=self.grace)
                for task in done:
                    counts[task.result()] += 1
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                ids = [in_flight[t].id for t in late if in_flight[t].id is not None]
                await asyncio.to_thread(self.store.outbox.release, ids, self.claimant)  # type: ignore[arg-type]
                if late:
                    log.info("send_released deliveries=%d", len(late))
            if failure is not None:
                raise failure
            return SendReport(
                counts[DeliveryStatus.SENT], counts[DeliveryStatus.PENDING], counts[DeliveryStatus.FAILED]
            )

    async def _sleep(self, seconds: float) -> None:
        """Wait out a flood limit, but wake up for a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), max(seconds, 0))

    # -- one message -----------------------------------------------------------------------

    async def _send_one(self, d: Delivery) -> DeliveryStatus:
        """One row, whatever goes wrong with it: a bug or a broken row fails alone."""
        try:
            return await self._deliver(d)
        except Exception as exc:
            log.error("send_crashed delivery=%s chat=%s error=%r", d.id, d.chat_id, exc, exc_info=exc)
            try:
                return await self._retry_later(d, repr(exc))
            except Exception:  # not even that: the lease runs out and another pass retries it
                return DeliveryStatus.PENDING

    async def _deliver(self, d: Delivery) -> DeliveryStatus:
        assert d.id is not None
        chat_id, html = d.chat_id, True
        thread = await asyncio.to_thread(self.store.chats.topic, chat_id, d.article_id, d.follow_id)
        previous = None
        if d.kind != DeliveryKind.DIGEST:
            previous = await asyncio.to_thread(self.store.outbox.last_announcement, chat_id, d.article_id)
        chat = await asyncio.to_thread(self.store.chats.get, chat_id)
        update = coalesces(previous, chat, d.kind, utcnow(), self.coalesce)
        quiet = chat is not None and chat.quiet
        for _hop in range(6):
            text = d.text if html else (d.plain or d.text)
            buttons = _keyboard(d.buttons)
            if update and previous is not None:
                combined = text + (EARLIER if html else EARLIER_PLAIN) + previous.text
                if not fits(combined, html):
                    update = False
                    continue
                text = combined
                buttons = coalesced_keyboard(_keyboard(previous.buttons), buttons)
            try:
                if update and previous is not None and previous.message_id is not None:
                    sent = await self._edit(chat_id, previous.message_id, text, html, buttons)
                else:
                    reply_to = previous.message_id if previous is not None else None
                    sent = await self._post(chat_id, text, html, thread, reply_to, buttons, quiet)
            except ChatMigrated as exc:
                log.info("chat_migrated old=%s new=%s", chat_id, exc.new_chat_id)
                await asyncio.to_thread(self.store.chats.migrate, chat_id, exc.new_chat_id)
                moved = await asyncio.to_thread(self.store.outbox.get, d.id)
                if moved is None:  # the supergroup already had this very message queued
                    return DeliveryStatus.FAILED
                d, chat_id, previous, update = moved, exc.new_chat_id, None, False
                continue
            except RetryAfter as exc:
                return await self._flood(d, _seconds(exc.retry_after))
            except (Forbidden, BadRequest) as exc:
                kind = refusal(exc)
                if kind == Refusal.PAUSE:
                    log.info("chat_paused chat=%s error=%r", chat_id, exc.message)
                    await asyncio.to_thread(self.store.chats.pause, chat_id, exc.message)
                    return DeliveryStatus.FAILED  # chats.pause dropped the row with its reason
                if kind == Refusal.TOPIC_GONE and thread is not None:
                    log.info("topic_gone chat=%s thread=%s", chat_id, thread)
                    await asyncio.to_thread(self.store.chats.move_to_general, chat_id, thread)
                    thread = None
                    continue
                if kind == Refusal.BAD_HTML and html:
                    # Our HTML was refused (a bug we must not let cost the announcement).
                    log.warning("send_html_refused delivery=%s error=%r", d.id, exc.message)
                    html = False
                    continue
                if kind == Refusal.NOT_EDITABLE and update:
                    update = False
                    continue
                if kind == Refusal.UNCHANGED and update and previous is not None:
                    # An earlier try updated the message and died before recording it.
                    log.info("sent delivery=%s chat=%s kind=%s already=1", d.id, chat_id, d.kind)
                    return await self._record_sent(d, chat_id, previous.message_id, text, buttons=buttons)
                log.warning("send_refused delivery=%s chat=%s error=%r", d.id, chat_id, exc.message)
                return await self._finish(d, DeliveryStatus.FAILED, exc.message)
            except TimedOut as exc:
                if _never_sent(exc):
                    return await self._retry_later(d, exc.message)
                # The request reached Telegram and the message may well have arrived; sending
                # again risks a duplicate, the worse failure for an edit bot.
                log.warning("send_timed_out delivery=%s chat=%s", d.id, chat_id)
                return await self._record_sent(d, chat_id, None, None, f"timed out: {exc.message}")
            except (NetworkError, TelegramError) as exc:
                return await self._retry_later(d, exc.message)
            log.info(
                "sent delivery=%s chat=%s kind=%s message=%s%s",
                d.id,
                chat_id,
                d.kind,
                sent.message_id,
                " edited=1" if update else "",
            )
            return await self._record_sent(
                d, chat_id, sent.message_id, text if update else None, buttons=buttons if update else None
            )
        return await self._finish(d, DeliveryStatus.FAILED, "refused too many times")

    async def _post(
        self,
        chat_id: int,
        text: str,
        html: bool,
        thread: int | None,
        reply_to: int | None,
        buttons: Keyboard | None,
        quiet: bool,
    ) -> Message:
        return await self.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML if html else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            message_thread_id=thread,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
            ),
            reply_markup=markup(buttons),
            disable_notification=quiet,  # the chat's /settings: announcements without sound
        )

    async def _edit(
        self, chat_id: int, message_id: int, text: str, html: bool, buttons: Keyboard | None
    ) -> Message:
        # Telegram drops a message's buttons on an edit that does not send them again.
        edited = await self.bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML if html else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=markup(buttons),
        )
        assert isinstance(edited, Message)  # not an inline message
        return edited

    async def _flood(self, d: Delivery, wait: float) -> DeliveryStatus:
        """Telegram said to wait: nothing goes out from this sender until then, and this
        message goes back to the head of the queue."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + wait)
        log.info("send_rate_limited delivery=%s retry_after=%s", d.id, wait)
        assert d.id is not None
        until = utcnow() + timedelta(seconds=wait)
        await asyncio.to_thread(self.store.outbox.release, [d.id], self.claimant, until)
        return DeliveryStatus.PENDING

    async def _retry_later(self, d: Delivery, error: str) -> DeliveryStatus:
        """Back off exponentially; give up after ``MAX_ATTEMPTS`` failures (``d.attempts``
        counts the earlier ones: a flood-limit wait, an expired lease or a stop is none)."""
        if d.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("send_gave_up delivery=%s error=%r", d.id, error)
            return await self._finish(d, DeliveryStatus.FAILED, error)
        delay = min(3600, 5 * 2 ** (d.attempts + 1))
        log.info("send_retry delivery=%s in=%ss error=%r", d.id, delay, error)
        return await self._finish(d, DeliveryStatus.PENDING, error, utcnow() + timedelta(seconds=delay))

    async def _finish(
        self,
        d: Delivery,
        status: DeliveryStatus,
        error: str = "",
        not_before: datetime | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
        text: str | None = None,
        buttons: Keyboard | None = None,
    ) -> DeliveryStatus:
        assert d.id is not None
        held = await asyncio.to_thread(
            self.store.outbox.finish,
            d.id,
            status,
            claimant=self.claimant,
            error=redact(error, self.bot.token),
            not_before=not_before,
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            buttons=buttons,
        )
        if not held:  # a pause dropped it, or its lease ran out and another sender took it
            log.warning("send_outcome_dropped delivery=%s status=%s row_not_ours=1", d.id, status)
        return status

    async def _record_sent(
        self,
        d: Delivery,
        chat_id: int,
        message_id: int | None,
        text: str | None,
        note: str = "",
        buttons: Keyboard | None = None,
    ) -> DeliveryStatus:
        """Telegram has the message: record it, however long the database takes to answer.
        A failed write never puts the row back in the queue (that would send it twice); the
        pass keeps renewing the lease meanwhile, and only a stop gives up on the write."""
        delay = 0.05
        while True:
            try:
                return await self._finish(
                    d,
                    DeliveryStatus.SENT,
                    note,
                    chat_id=chat_id,
                    message_id=message_id,
                    text=text,
                    buttons=buttons,
                )
            except Exception as exc:
                log.error("send_record_failed delivery=%s retry_in=%.2fs error=%r", d.id, delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
