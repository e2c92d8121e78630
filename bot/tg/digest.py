"""/digest's buttons: turn the daily digest on at a time the chat picks, or off; with it on,
whether articles the chat's follows bring are announced one by one or only listed in it."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.core.digest import DIGEST_TIMES
from bot.messages import replies
from bot.messages.buttons import Keyboard
from bot.service.digest import DigestService
from bot.storage.models import utcnow
from bot.tg.access import ChangeGuard
from bot.tg.keyboards import markup, show_in_place

log = logging.getLogger("redline.commands")

DIGEST_DATA = "digest:"  # + "times" (show the times), a minute of the day, "off", or "only:0|1"
ONLY = "only:"  # followed articles: digest only (1) or one by one (0)


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


def digest_only_keyboard(digest_only: bool) -> Keyboard:
    """The button under "Daily digest on": followed articles only in the digest, or not."""
    return [[(replies.digest_only_button(digest_only), f"{DIGEST_DATA}{ONLY}{'0' if digest_only else '1'}")]]


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
            current, _zone, _only = await self.digests.current(chat.id)
            await query.edit_message_reply_markup(digest_times(current))
            await query.answer()
            return
        if choice.startswith(ONLY) and choice[len(ONLY) :] in ("0", "1"):
            await self._digest_only(query, chat.id, choice.endswith("1"))
            return
        if choice == "off":
            minute = None
        elif choice.isdigit() and int(choice) in DIGEST_TIMES:
            minute = int(choice)
        else:
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        await self.digests.schedule(chat.id, minute, utcnow())
        _minute, timezone, digest_only = await self.digests.current(chat.id)
        await query.answer(replies.SAVED)
        if minute is None:
            await query.edit_message_text(replies.DIGEST_OFF)
            return
        await query.edit_message_text(
            replies.digest_on(minute, timezone), reply_markup=markup(digest_only_keyboard(digest_only))
        )

    async def _digest_only(self, query: CallbackQuery, chat_id: int, on: bool) -> None:
        minute, timezone, _was = await self.digests.current(chat_id)
        if minute is None:
            await query.answer(replies.DIGEST_ONLY_NEEDS_DIGEST, show_alert=True)
            return
        await self.digests.set_digest_only(chat_id, on)
        await query.answer(replies.SAVED)
        await show_in_place(
            query,
            f"{replies.digest_on(minute, timezone)}\n{replies.followed_articles(on)}",
            digest_only_keyboard(on),
        )
