"""Limits that apply to every command: its length, and how many a chat may send per minute."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.config import LimitsSettings
from bot.messages import replies
from bot.tg.updates import reply

log = logging.getLogger("redline.commands")


class CommandRateLimiter:
    """At most ``per_minute`` commands per chat in any 60 seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, chat_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self._seen[chat_id]
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


class Gate:
    """Runs before every command handler; stops the command when a limit is hit."""

    def __init__(self, limits: LimitsSettings) -> None:
        self.limits = limits
        self.limiter = CommandRateLimiter(limits.commands_per_minute)

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        text = message.text or ""
        if len(text) > self.limits.max_message_chars:
            log.info("command_refused chat=%s reason=too_long chars=%d", chat.id, len(text))
            await reply(update, replies.TOO_LONG)
            raise ApplicationHandlerStop
        if not self.limiter.allow(chat.id):
            log.info("command_refused chat=%s reason=rate_limited", chat.id)
            await reply(update, replies.RATE_LIMITED)
            raise ApplicationHandlerStop
        log.info("command chat=%s type=%s command=%s", chat.id, chat.type, text.split()[0][:40])
