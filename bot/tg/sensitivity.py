"""/sensitivity and its buttons: what counts as an edit in this chat."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.core.sensitivity import DEFAULT_SENSITIVITY, Sensitivity
from bot.messages import replies
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.updates import register_chat, reply

log = logging.getLogger("redline.commands")

SENSITIVITY_DATA = "sens:"  # a button's callback data: the prefix and the key


class SensitivityHandlers:
    def __init__(self, store: Storage, guard: ChangeGuard) -> None:
        self.store = store
        self.guard = guard

    async def sensitivity(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "sensitivity"):
            return
        chat_id = await register_chat(self.store, update)
        chat = await asyncio.to_thread(self.store.chats.get, chat_id)
        current = chat.sensitivity if chat else DEFAULT_SENSITIVITY
        buttons = [
            [
                InlineKeyboardButton(
                    replies.sensitivity_button(key, current), callback_data=f"{SENSITIVITY_DATA}{key}"
                )
            ]
            for key in Sensitivity
        ]
        question = replies.sensitivity_question(current)
        await reply(update, question, reply_markup=InlineKeyboardMarkup(buttons))

    async def sensitivity_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None or not await self.guard.may_change(update, context, "sensitivity"):
            return
        choice = (query.data or "").removeprefix(SENSITIVITY_DATA)
        if choice not in list(Sensitivity):
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        await asyncio.to_thread(self.store.chats.set_sensitivity, chat.id, choice)
        log.info("sensitivity chat=%s value=%s", chat.id, choice)
        await query.answer(replies.SAVED)
        await query.edit_message_text(replies.sensitivity_saved(choice))
