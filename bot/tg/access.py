"""Who may change what a chat tracks: in groups, its administrators; elsewhere, whoever writes.

A newsroom group shares one list of articles, so a passing member must not /untrack the desk's
stories or silence its announcements. Reading (/list, /history, /diff) stays open to everyone.
The decision is a pure function; asking Telegram who the administrators are is cached briefly,
so a busy group costs one getChatAdministrators call a minute, not one per command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.messages import replies
from bot.tg.updates import reply

__all__ = ["ADMIN_CACHE_SECONDS", "AdminCache", "AdminLookupFailed", "ChangeGuard", "decided_without_lookup"]

log = logging.getLogger("redline.commands")

ADMIN_CACHE_SECONDS = 60.0
"""How long a group's administrator list is trusted; a promotion takes effect within this."""


class AdminLookupFailed(Exception):
    """Telegram did not say who the administrators are; nothing is changed."""


def decided_without_lookup(
    chat_type: str, chat_id: int, sender_chat_id: int | None, *, admins_only: bool, pressed: bool = False
) -> bool:
    """True when the change is allowed without asking Telegram; False means: only if the user
    is an administrator.

    Private chats belong to their user and a channel's posts come from its admins by
    definition, but any subscriber of a channel can press a button under its posts
    (``pressed``): that press counts only from an administrator, whatever ``admins_only``
    says of groups. An anonymous administrator writes as the group itself (``sender_chat`` is
    the group), which only administrators can do.
    """
    if chat_type == ChatType.CHANNEL:
        return not pressed
    if not admins_only or chat_type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return True
    return sender_chat_id == chat_id


class AdminCache:
    """Each group's administrator ids, fetched at most once per ``ttl`` seconds."""

    def __init__(self, ttl: float = ADMIN_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[int, tuple[float, frozenset[int]]] = {}

    async def is_admin(
        self, chat_id: int, user_id: int, fetch: Callable[[int], Awaitable[Iterable[int]]]
    ) -> bool:
        """``fetch`` asks Telegram for the chat's administrator ids. Raises
        ``AdminLookupFailed`` when the list is not cached and cannot be fetched."""
        now = self._clock()
        cached = self._known.get(chat_id)
        if cached is None or now - cached[0] >= self._ttl:
            try:
                admins = frozenset(await fetch(chat_id))
            except TelegramError as exc:  # refused, or the network failed: we cannot tell
                raise AdminLookupFailed(repr(exc)) from exc
            cached = (now, admins)
            self._known[chat_id] = cached
        return user_id in cached[1]


class ChangeGuard:
    """Asks, before a command or button changes a chat's list or settings, whether whoever
    sent it may; tells them when not."""

    def __init__(self, admins_only: bool, admins: AdminCache | None = None) -> None:
        self.admins_only = admins_only  # telegram.group_admins_only
        self.admins = admins or AdminCache()

    async def may_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
        """A reading button (a page turned, a diff posted) acts for everyone who sees the chat:
        open to all in private chats and groups, an admin's call in a channel, where any
        subscriber can press it."""
        chat = update.effective_chat
        if chat is not None and chat.type != ChatType.CHANNEL:
            return True
        return await self.may_change(update, context, command)

    async def may_change(self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
        """For a button press the presser decides, never the message the button sits under."""
        chat, user, query = update.effective_chat, update.effective_user, update.callback_query
        if chat is None:
            return False
        message = None if query is not None else update.effective_message
        sender = message.sender_chat.id if message is not None and message.sender_chat else None
        pressed = query is not None
        if decided_without_lookup(chat.type, chat.id, sender, admins_only=self.admins_only, pressed=pressed):
            return True

        async def admin_ids(chat_id: int) -> list[int]:
            return [member.user.id for member in await context.bot.get_chat_administrators(chat_id)]

        try:
            allowed = user is not None and await self.admins.is_admin(chat.id, user.id, admin_ids)
        except AdminLookupFailed as exc:
            log.warning("admin_lookup_failed chat=%s error=%s", chat.id, exc)
            denial = replies.ADMIN_LOOKUP_FAILED
        else:
            if allowed:
                return True
            log.info("change_refused chat=%s user=%s command=%s", chat.id, user and user.id, command)
            denial = replies.admins_only_button(chat.type) if pressed else replies.admins_only(command)
        if query is not None:
            await query.answer(denial, show_alert=True)
        else:
            await reply(update, denial)
        return False
