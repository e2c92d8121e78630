"""A chat's life with the bot: added, removed, blocked, unblocked, upgraded to a supergroup.

Small pure functions decide (as in python-telegram-bot's ``examples/chatmemberbot.py``); the
handlers act on the answer. Telegram tells the bot about itself with ``my_chat_member``
updates (a private chat blocking or unblocking it, a group adding or removing it), so a chat
is paused and resumed without anyone typing a command.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Chat, ChatMember, ChatMemberRestricted, ChatMemberUpdated, Message, Update
from telegram.ext import Application, ChatMemberHandler, ContextTypes, MessageHandler, TypeHandler, filters

from bot.messages import replies
from bot.storage.store import Storage
from bot.tg.updates import chat_title

log = logging.getLogger("redline.chats")

_PRESENT = {ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER}


def can_post(member: ChatMember) -> bool:
    """Whether the bot, with this membership, can post in the chat."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member and member.can_send_messages
    return member.status in _PRESENT


def reach_change(change: ChatMemberUpdated) -> bool | None:
    """True: the bot can post here again; False: it no longer can; None: no difference."""
    before, after = can_post(change.old_chat_member), can_post(change.new_chat_member)
    return None if before == after else after


def migration(message: Message) -> tuple[int, int] | None:
    """(old id, new id) from either service message of a group's upgrade to a supergroup."""
    if message.migrate_to_chat_id:
        return message.chat.id, message.migrate_to_chat_id
    if message.migrate_from_chat_id:
        return message.migrate_from_chat_id, message.chat.id
    return None


class ChatEvents:
    """Handlers that keep the ``Chat`` rows true to what Telegram says about the bot."""

    def __init__(self, store: Storage, on_resumed: Callable[[], None]) -> None:
        self.store = store
        self.on_resumed = on_resumed  # wakes the sender: a resumed chat may have messages waiting

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """Before the commands (lower groups run first), and never stopping them."""
        app.add_handler(TypeHandler(Update, self.seen), group=-4)
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.migrated), group=-3)
        app.add_handler(ChatMemberHandler(self.membership, ChatMemberHandler.MY_CHAT_MEMBER), group=-3)
        app.add_handler(MessageHandler(filters.COMMAND, self.spoke), group=-3)

    async def seen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The newest message in the chat, as far as the bot sees (an edit in place of the
        last announcement is right only while it is the newest)."""
        message = update.effective_message
        if message is not None and update.edited_message is None and update.edited_channel_post is None:
            await asyncio.to_thread(self.store.chats.saw_message, message.chat.id, message.message_id)

    async def membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None:
            return
        reach = reach_change(change)
        status = change.new_chat_member.status
        if reach is True:
            await self.came_back(change.chat, f"bot {status}")
        elif reach is False:
            log.info("chat_paused chat=%s reason=%s", change.chat.id, status)
            await asyncio.to_thread(self.store.chats.pause, change.chat.id, f"bot {status}")

    async def spoke(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start (or any command) from a paused chat: it is reachable again."""
        chat = update.effective_chat
        if chat is None:
            return
        known = await asyncio.to_thread(self.store.chats.get, chat.id)
        if known is not None and known.paused:
            await self.came_back(chat, "command")

    async def came_back(self, chat: Chat, reason: str) -> None:
        changes = await asyncio.to_thread(
            self.store.chats.resume, chat.id, chat.type, chat_title(chat), replies.welcome_back
        )
        if changes is not None:
            log.info("chat_resumed chat=%s reason=%r changed=%d", chat.id, reason, len(changes))
            self.on_resumed()

    async def migrated(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The service message of an upgrade arrives before any send to the old id fails."""
        message = update.effective_message
        moved = migration(message) if message is not None else None
        if moved is not None:
            log.info("chat_migrated old=%s new=%s via=service_message", *moved)
            await asyncio.to_thread(self.store.chats.migrate, *moved)
