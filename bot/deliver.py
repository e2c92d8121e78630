"""The outbox sender: pending ``Delivery`` rows → Telegram, with Telegram's errors handled.

Order of the ``except`` clauses matters: ``BadRequest`` and ``TimedOut`` are subclasses of
``NetworkError``, so a generic network retry placed first would loop forever on a message
Telegram will never accept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram import Bot, LinkPreviewOptions
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

from bot.logs import redact
from bot.models import Delivery, DeliveryStatus, utcnow
from bot.store import Store

log = logging.getLogger("redline.deliver")

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _never_sent(exc: TimedOut) -> bool:
    """A connect or pool timeout: the request never left this machine, so retrying is safe."""
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


class Sender:
    def __init__(self, store: Store, bot: Bot) -> None:
        self.store = store
        self.bot = bot
        self._lock = asyncio.Lock()

    async def send_pending(self, limit: int = 100) -> SendReport:
        """Send what is due, oldest first; one sender at a time so nothing goes out twice."""
        async with self._lock:
            rows = await asyncio.to_thread(self.store.claim_pending, utcnow(), limit)
            sent = retried = failed = 0
            for delivery in rows:
                status = await self._send_one(delivery)
                sent += status == DeliveryStatus.SENT
                retried += status == DeliveryStatus.PENDING
                failed += status == DeliveryStatus.FAILED
            return SendReport(sent, retried, failed)

    async def _send(self, chat_id: int, text: str, html: bool) -> None:
        await self.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML if html else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _send_one(self, d: Delivery) -> DeliveryStatus:
        assert d.id is not None
        chat_id = d.chat_id
        for _hop in range(3):  # a migrated chat is retried at once under its new id
            try:
                try:
                    await self._send(chat_id, d.text, html=True)
                except BadRequest as exc:
                    if "migrate" in exc.message.lower() or "not found" in exc.message.lower():
                        raise
                    # Our HTML was refused (a bug we must not let cost the announcement).
                    log.warning("send_html_refused delivery=%s error=%r", d.id, exc.message)
                    await self._send(chat_id, d.plain or d.text, html=False)
            except ChatMigrated as exc:
                log.info("chat_migrated old=%s new=%s", chat_id, exc.new_chat_id)
                await asyncio.to_thread(self.store.migrate_chat, chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except Forbidden as exc:
                log.info("chat_blocked chat=%s error=%r", chat_id, exc.message)
                await asyncio.to_thread(self.store.block_chat, chat_id)
                return await self._finish(d, DeliveryStatus.FAILED, exc.message)
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.info("send_rate_limited delivery=%s retry_after=%s", d.id, wait)
                return await self._finish(
                    d, DeliveryStatus.PENDING, exc.message, utcnow() + timedelta(seconds=wait)
                )
            except BadRequest as exc:
                log.warning("send_refused delivery=%s chat=%s error=%r", d.id, chat_id, exc.message)
                return await self._finish(d, DeliveryStatus.FAILED, exc.message)
            except TimedOut as exc:
                if _never_sent(exc):
                    return await self._retry_later(d, exc)
                # The request reached Telegram and the message may well have arrived; sending
                # again risks a duplicate, the worse failure for an edit bot.
                log.warning("send_timed_out delivery=%s chat=%s", d.id, chat_id)
                return await self._finish(d, DeliveryStatus.SENT, f"timed out: {exc.message}")
            except (NetworkError, TelegramError) as exc:
                return await self._retry_later(d, exc)
            log.info("sent delivery=%s chat=%s kind=%s", d.id, chat_id, d.kind)
            return await self._finish(d, DeliveryStatus.SENT, chat_id=chat_id)
        return await self._finish(d, DeliveryStatus.FAILED, "chat migrated too many times")

    async def _retry_later(self, d: Delivery, exc: TelegramError) -> DeliveryStatus:
        """Back off exponentially; give up after ``MAX_ATTEMPTS``."""
        if d.attempts >= MAX_ATTEMPTS:
            log.warning("send_gave_up delivery=%s error=%r", d.id, exc.message)
            return await self._finish(d, DeliveryStatus.FAILED, exc.message)
        delay = min(3600, 5 * 2**d.attempts)
        log.info("send_retry delivery=%s in=%ss error=%r", d.id, delay, exc.message)
        return await self._finish(d, DeliveryStatus.PENDING, exc.message, utcnow() + timedelta(seconds=delay))

    async def _finish(
        self,
        d: Delivery,
        status: DeliveryStatus,
        error: str = "",
        not_before: object = None,
        chat_id: int | None = None,
    ) -> DeliveryStatus:
        assert d.id is not None
        await asyncio.to_thread(
            self.store.finish_delivery,
            d.id,
            status,
            error=redact(error, self.bot.token),
            not_before=not_before,  # type: ignore[arg-type]
            chat_id=chat_id,
        )
        return status
