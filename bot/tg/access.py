"""Who may change what a chat tracks: in groups, its administrators; elsewhere, whoever writes.

A newsroom group shares one list of articles, so a passing member must not /untrack the desk's
stories or silence its announcements. Reading (/list, /history, /diff) stays open to everyone.
The decision is a pure function; asking Telegram who the administrators are is cached briefly,
so a busy group costs one getChatAdministrators call a minute, not one per command.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from telegram.constants import ChatType
from telegram.error import TelegramError

__all__ = ["ADMIN_CACHE_SECONDS", "AdminCache", "AdminLookupFailed", "decided_without_lookup"]

ADMIN_CACHE_SECONDS = 60.0
"""How long a group's administrator list is trusted; a promotion takes effect within this."""


class AdminLookupFailed(Exception):
    """Telegram did not say who the administrators are; nothing is changed."""


def decided_without_lookup(
    chat_type: str, chat_id: int, sender_chat_id: int | None, *, admins_only: bool
) -> bool:
    """True when the change is allowed without asking Telegram; False means: only if the user
    is an administrator.

    Private chats belong to their user and a channel's posts come from its admins by
    definition. An anonymous administrator writes as the group itself (``sender_chat`` is the
    group), which only administrators can do.
    """
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
