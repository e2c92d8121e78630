"""Who may use the bot at all: ``telegram.allowed_users`` and ``telegram.allowed_chats``.

A public bot fetches whatever URLs anyone sends it, from the operator's address; an operator who
does not want that names the people (and the groups or channels, all of whose members are let
in) it serves. Everyone else gets one polite line and costs nothing more: no fetch, no row.
Both lists empty: everyone is welcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.messages.channels import NOT_ALLOWED

log = logging.getLogger("redline.access")


def admitted(
    user_id: int | None, chat_id: int | None, allowed_users: frozenset[int], allowed_chats: frozenset[int]
) -> bool:
    """Everyone when both lists are empty; else a listed user anywhere, or anyone in a listed chat."""
    if not allowed_users and not allowed_chats:
        return True
    return (user_id is not None and user_id in allowed_users) or (
        chat_id is not None and chat_id in allowed_chats
    )


Addressed = Callable[[str, str, str], bool]  # (text, chat type, bot username): a command for us?


class Allowlist:
    def __init__(
        self,
        allowed_users: tuple[int, ...],
        allowed_chats: tuple[int, ...],
        addressed: Addressed = lambda text, _chat_type, _bot: text.startswith("/"),
    ) -> None:
        self.users = frozenset(allowed_users)
        self.chats = frozenset(allowed_chats)
        # In a group, another bot's command (/warn@modbot, /ban) is not somebody asking us.
        self.addressed = addressed

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """After the chat bookkeeping (groups -4, -3), before every command (-1 and up)."""
        if self.users or self.chats:
            app.add_handler(TypeHandler(Update, self.check), group=-2)

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None or update.chat_member is not None:
            return  # Telegram telling the bot about itself, not somebody asking for something
        user, chat = update.effective_user, update.effective_chat
        user_id = None if user is None or user.is_bot else user.id
        if admitted(user_id, chat.id if chat else None, self.users, self.chats):
            return
        log.info("access_refused chat=%s user=%s", chat and chat.id, user_id)
        query, message = update.callback_query, update.effective_message
        if query is not None:
            await query.answer(NOT_ALLOWED, show_alert=True)
        elif message is not None and (
            (chat is not None and chat.type == ChatType.PRIVATE)
            or (chat is not None and self.addressed(message.text or "", chat.type, context.bot.username))
        ):
            await message.reply_text(NOT_ALLOWED)
        raise ApplicationHandlerStop
