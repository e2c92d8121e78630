"""Managing a channel from a private chat: /channel picks it with Telegram's chat-request
button, then the usual commands act on it until /channel off.

In a channel every subscriber sees the commands typed there and the bot's replies; from a
private chat the channel sees only announcements. Whether the user is still an admin of the
channel is asked of Telegram at every command that acts on it (never cached: a demoted admin
loses the remote control at once).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import (
    ChatAdministratorRights,
    ChatMember,
    ChatMemberAdministrator,
    KeyboardButton,
    KeyboardButtonRequestChat,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.messages import channels as words
from bot.storage.store import Storage
from bot.tg.updates import register_chat, reply

log = logging.getLogger("redline.channels")

PICK_REQUEST_ID = 1
"""The ``request_id`` of the "Pick a channel" button; a ``chat_shared`` with another is not ours."""

_ADMINS = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def pick_keyboard() -> ReplyKeyboardMarkup:
    """Telegram's client lists only channels where the user is an admin who can post and the
    bot is an admin that can post: the choice is right before the bot checks it again."""
    rights = ChatAdministratorRights(
        is_anonymous=False,
        can_manage_chat=False,
        can_delete_messages=False,
        can_manage_video_chats=False,
        can_restrict_members=False,
        can_promote_members=False,
        can_change_info=False,
        can_invite_users=False,
        can_post_stories=False,
        can_edit_stories=False,
        can_delete_stories=False,
        can_post_messages=True,
    )
    request = KeyboardButtonRequestChat(
        request_id=PICK_REQUEST_ID,
        chat_is_channel=True,
        bot_is_member=True,
        user_administrator_rights=rights,
        bot_administrator_rights=rights,
        request_title=True,
    )
    button = KeyboardButton(words.PICK_BUTTON, request_chat=request)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


@dataclass(frozen=True)
class Target:
    """The chat a command acts on: the one it was sent in, or the channel it manages."""

    chat_id: int
    channel_title: str | None = None  # None: the chat the command came from

    @property
    def is_channel(self) -> bool:
        return self.channel_title is not None

    def say(self, text: str) -> str:
        """Every reply about a managed channel names it."""
        return text if self.channel_title is None else words.for_channel(self.channel_title, text)


class AdminCheckFailed(Exception):
    """Telegram did not say whether the user is an admin; nothing is changed."""


async def is_channel_admin(context: ContextTypes.DEFAULT_TYPE, channel_id: int, user_id: int) -> bool:
    """Asked of Telegram every time (getChatMember), never cached."""
    try:
        member = await context.bot.get_chat_member(channel_id, user_id)
    except TelegramError as exc:
        raise AdminCheckFailed(repr(exc)) from exc
    return member.status in _ADMINS


class ChannelDesk:
    """/channel, the chosen channel (a ``chat_shared`` message), and which chat a command acts on."""

    def __init__(self, store: Storage) -> None:
        self.store = store

    async def target(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Target | None:
        """The managed channel when a private chat picked one and its user is still an admin of
        it; the chat itself otherwise. None (after telling the user why) when the user lost it."""
        chat_id = await register_chat(self.store, update)
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            return Target(chat_id)
        row = await asyncio.to_thread(self.store.chats.get, chat_id)
        if row is None or row.managing is None:
            return Target(chat_id)
        channel = await asyncio.to_thread(self.store.chats.get, row.managing)
        title = channel.title if channel is not None else ""
        denial = await self.admin_denial(context, row.managing, chat_id, title)
        if denial is not None:
            await self._deny(update, denial)
            return None
        return Target(row.managing, title)

    async def admin_denial(
        self, context: ContextTypes.DEFAULT_TYPE, channel_id: int, user_id: int, title: str
    ) -> str | None:
        """Why ``user_id`` may not act on the channel now, or None when they may."""
        try:
            if await is_channel_admin(context, channel_id, user_id):
                return None
        except AdminCheckFailed as exc:
            log.warning("channel_admin_check_failed channel=%s user=%s error=%s", channel_id, user_id, exc)
            return words.ADMIN_CHECK_FAILED
        log.info("channel_refused channel=%s user=%s reason=not_admin", channel_id, user_id)
        return words.user_not_admin(title)

    @staticmethod
    async def _deny(update: Update, text: str) -> None:
        query = update.callback_query
        if query is not None:
            await query.answer(words.as_alert(text), show_alert=True)
        else:
            await reply(update, text)

    async def channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/channel shows the pick button; /channel off stops managing."""
        chat_id = await register_chat(self.store, update)
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            await reply(update, words.CHANNEL_ONLY_IN_PRIVATE)
            return
        row = await asyncio.to_thread(self.store.chats.get, chat_id)
        managing = row.managing if row is not None else None
        channel = await asyncio.to_thread(self.store.chats.get, managing) if managing is not None else None
        title = channel.title if channel is not None else ""
        if [a.lower() for a in context.args or []] == ["off"]:
            if managing is None:
                await reply(update, words.NOT_MANAGING, reply_markup=ReplyKeyboardRemove())
                return
            await asyncio.to_thread(self.store.chats.set_managing, chat_id, None)
            log.info("channel_released chat=%s channel=%s", chat_id, managing)
            await reply(update, words.stopped_managing(title), reply_markup=ReplyKeyboardRemove())
            return
        text = words.PICK if managing is None else words.still_managing(title)
        await reply(update, text, reply_markup=pick_keyboard())

    async def chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The user picked a channel with the button: check both are admins, then remember it."""
        message, user = update.effective_message, update.effective_user
        shared = message.chat_shared if message is not None else None
        if shared is None or user is None or shared.request_id != PICK_REQUEST_ID:
            return
        chat_id = await register_chat(self.store, update)
        channel_id, title = shared.chat_id, shared.title or ""
        if channel_id > 0:
            await reply(update, words.NOT_A_CHANNEL)
            return
        try:
            bot = await context.bot.get_chat_member(channel_id, context.bot.id)
        except TelegramError as exc:
            log.info("channel_refused channel=%s reason=bot_lookup error=%r", channel_id, exc)
            await reply(update, words.bot_cannot_post(title))
            return
        if not (isinstance(bot, ChatMemberAdministrator) and bot.can_post_messages):
            log.info("channel_refused channel=%s user=%s reason=bot_cannot_post", channel_id, user.id)
            await reply(update, words.bot_cannot_post(title))
            return
        denial = await self.admin_denial(context, channel_id, user.id, title)
        if denial is not None:
            await reply(update, denial)
            return
        await asyncio.to_thread(self.store.chats.ensure, channel_id, ChatType.CHANNEL, title)
        await asyncio.to_thread(self.store.chats.set_managing, chat_id, channel_id)
        log.info("channel_managed chat=%s channel=%s", chat_id, channel_id)
        await reply(update, words.managing_now(title), reply_markup=ReplyKeyboardRemove())
