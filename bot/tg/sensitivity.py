"""/sensitivity and its buttons: what counts as an edit in this chat."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.core.sensitivity import DEFAULT_SENSITIVITY, Sensitivity
from bot.messages import replies
from bot.messages.channels import as_alert, for_channel
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk
from bot.tg.updates import reply

log = logging.getLogger("redline.commands")

SENSITIVITY_DATA = "sens:"  # a button's callback data: the prefix, the key, and @channel id
# when the buttons were offered for a managed channel (pressed in the private chat)


def parse_choice(data: str) -> tuple[str, int | None]:
    """The key and, for a managed channel, its id, from a button's callback data."""
    key, _, channel = data.removeprefix(SENSITIVITY_DATA).partition("@")
    return key, int(channel) if channel.lstrip("-").isdigit() else None


class SensitivityHandlers:
    def __init__(self, store: Storage, guard: ChangeGuard, desk: ChannelDesk) -> None:
        self.store = store
        self.guard = guard
        self.desk = desk

    async def sensitivity(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "sensitivity"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        chat = await asyncio.to_thread(self.store.chats.get, target.chat_id)
        current = chat.sensitivity if chat else DEFAULT_SENSITIVITY
        where = f"@{target.chat_id}" if target.is_channel else ""
        buttons = [
            [
                InlineKeyboardButton(
                    replies.sensitivity_button(key, current), callback_data=f"{SENSITIVITY_DATA}{key}{where}"
                )
            ]
            for key in Sensitivity
        ]
        question = target.say(replies.sensitivity_question(current))
        await reply(update, question, reply_markup=InlineKeyboardMarkup(buttons))

    async def sensitivity_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None or not await self.guard.may_change(update, context, "sensitivity"):
            return
        choice, channel_id = parse_choice(query.data or "")
        if choice not in list(Sensitivity):
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        saved = replies.sensitivity_saved(choice)
        if channel_id is not None and channel_id != chat.id:
            # Offered for a managed channel: the presser must still be one of its admins.
            channel = await asyncio.to_thread(self.store.chats.get, channel_id)
            title = channel.title if channel is not None else ""
            denial = await self.desk.admin_denial(context, channel_id, query.from_user.id, title)
            if denial is not None:
                await query.answer(as_alert(denial), show_alert=True)
                return
            saved = for_channel(title, replies.sensitivity_saved(choice, title))
        where = chat.id if channel_id is None else channel_id
        await asyncio.to_thread(self.store.chats.set_sensitivity, where, choice)
        log.info("sensitivity chat=%s value=%s", where, choice)
        await query.answer(replies.SAVED)
        await query.edit_message_text(saved)
