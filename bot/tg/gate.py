"""Limits that apply to every command: its length, and how many a chat may send per minute."""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict, deque

from telegram import Update
from telegram.constants import ChatType
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


TAPPABLE = re.compile(r"^/(diff|history|untrack)((?:_\d+)+)(?:@\w+)?(?=\s|$)", re.IGNORECASE)
"""A command with its arguments joined by "_" ("/diff_1_2_3"): a tap on it in a message sends
it whole, where "/diff 1" sends only "/diff" (a command entity stops at the first space)."""


def tapped_command(text: str) -> tuple[str, list[str]] | None:
    """("diff", ["1", "2", "3"]) for "/diff_1_2_3"; words after it are arguments too."""
    found = TAPPABLE.match(text)
    if found is None:
        return None
    return found[1].lower(), [a for a in found[2].split("_") if a] + text[found.end() :].split()


def for_this_bot(
    text: str, chat_type: str, bot_username: str, known: frozenset[str], tappable: frozenset[str]
) -> bool:
    """Whether a command is ours to answer. In a group, other bots' commands pass by: one
    addressed to another bot (/list@other_bot), or one this bot does not know (/ban,
    /warn@modbot) — a group's members talk to several bots. In a private chat every
    unaddressed command is for us (an unknown one is answered with /help)."""
    words = text.split()
    name, _, target = (words[0][1:] if words else "").partition("@")
    if target:
        return target.lower() == bot_username.lower()
    if chat_type == ChatType.PRIVATE:
        return True
    tapped = tapped_command(text)
    return name.lower() in known or (tapped is not None and tapped[0] in tappable)


class Gate:
    """Runs before every command handler; stops the command when a limit is hit, and stops,
    without a word or a charge, a command that is not for this bot."""

    def __init__(self, limits: LimitsSettings) -> None:
        self.limits = limits
        self.limiter = CommandRateLimiter(limits.commands_per_minute)
        self.known: frozenset[str] = frozenset()  # set by Commands.register
        self.tappable: frozenset[str] = frozenset()

    def addressed(self, text: str, chat_type: str, bot_username: str) -> bool:
        """Whether a command is ours, by the commands registered (for the allowlist too)."""
        return for_this_bot(text, chat_type, bot_username, self.known, self.tappable)

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        text = message.text or ""
        if not self.addressed(text, chat.type, context.bot.username):
            raise ApplicationHandlerStop
        if len(text) > self.limits.max_message_chars:
            log.info("command_refused chat=%s reason=too_long chars=%d", chat.id, len(text))
            await reply(update, replies.TOO_LONG)
            raise ApplicationHandlerStop
        if not self.limiter.allow(chat.id):
            log.info("command_refused chat=%s reason=rate_limited", chat.id)
            await reply(update, replies.RATE_LIMITED)
            raise ApplicationHandlerStop
        log.info("command chat=%s type=%s command=%s", chat.id, chat.type, text.split()[0][:40])

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press is a command by other means: it counts towards the same limit."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or self.limiter.allow(chat.id):
            return
        log.info("button_refused chat=%s reason=rate_limited", chat.id)
        await query.answer(replies.RATE_LIMITED, show_alert=True)
        raise ApplicationHandlerStop
