"""/digest's buttons: turn the daily digest on at a time the chat picks, or off."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.core.digest import DIGEST_TIMES
from bot.messages import replies
from bot.service.digest import DigestService
from bot.storage.models import utcnow
from bot.tg.access import ChangeGuard

log = logging.getLogger("redline.commands")

DIGEST_DATA = "digest:"  # + "times" (show the times), a minute of the day, or "off"


def digest_offer() -> InlineKeyboardMarkup:
    """The button under /digest's answer."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(replies.DIGEST_BUTTON, callback_data=f"{DIGEST_DATA}times")]]
    )


def digest_times(current: int | None) -> InlineKeyboardMarkup:
    times = [
        InlineKeyboardButton(replies.digest_button(m, current), callback_data=f"{DIGEST_DATA}{m}")
        for m in DIGEST_TIMES
    ]
    off = InlineKeyboardButton(replies.DIGEST_OFF_BUTTON, callback_data=f"{DIGEST_DATA}off")
    return InlineKeyboardMarkup([times[:3], [*times[3:], off]])


class DigestHandlers:
    def __init__(self, digests: DigestService, guard: ChangeGuard) -> None:
        self.digests = digests
        self.guard = guard

    async def chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press under /digest: show the times, or save the one picked (admins in groups)."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or not await self.guard.may_change(update, context, "digest"):
            return
        choice = (query.data or "").removeprefix(DIGEST_DATA)
        if choice == "times":
            current, _zone = await self.digests.current(chat.id)
            await query.edit_message_reply_markup(digest_times(current))
            await query.answer()
            return
        if choice == "off":
            minute = None
        elif choice.isdigit() and int(choice) in DIGEST_TIMES:
            minute = int(choice)
        else:
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        await self.digests.schedule(chat.id, minute, utcnow())
        _minute, timezone = await self.digests.current(chat.id)
        await query.answer(replies.SAVED)
        await query.edit_message_text(
            replies.DIGEST_OFF if minute is None else replies.digest_on(minute, timezone)
        )
