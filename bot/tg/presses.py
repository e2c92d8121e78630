"""The buttons under an announcement: Full diff, History, Stop tracking.

Their callback data names the article by its database id and the versions by number
(bot.messages.buttons), so a press works after a restart and after a group became a
supergroup; each press looks the article up in the chat afresh and says so when the chat no
longer tracks it. Who pressed decides (bot.tg.access): Stop tracking in a group takes an
admin, and in a channel, where every subscriber can press, every button does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.messages import replies
from bot.messages.buttons import ArticleAction, parse_article
from bot.storage.articles import Tracked
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import Target
from bot.tg.updates import reply

log = logging.getLogger("redline.commands")

SendDiff = Callable[[Update, Tracked, Sequence[str]], Awaitable[None]]
SendHistory = Callable[[Update, Target, Tracked], Awaitable[None]]


class ArticleButtons:
    def __init__(
        self, store: Storage, guard: ChangeGuard, send_diff: SendDiff, send_history: SendHistory
    ) -> None:
        self.store = store
        self.guard = guard
        self.send_diff = send_diff
        self.send_history = send_history

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        pattern = "^(" + "|".join(a.value for a in ArticleAction) + "):"
        app.add_handler(CallbackQueryHandler(self.pressed, pattern=pattern))

    async def pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, chat = update.callback_query, update.effective_chat
        press = parse_article(query.data or "") if query is not None else None
        if query is None or chat is None or press is None:
            if query is not None:
                await query.answer(replies.UNKNOWN_CHOICE)
            return
        if press.action == ArticleAction.UNTRACK:
            allowed = await self.guard.may_change(update, context, "untrack")
        else:
            allowed = await self.guard.may_press(update, context, press.action.name.lower())
        if not allowed:
            return
        row = await asyncio.to_thread(self.store.articles.subscribed, chat.id, press.article_id)
        if row is None:
            await query.answer(replies.NO_LONGER_TRACKED, show_alert=True)
            return
        log.info("button chat=%s action=%s article=%s", chat.id, press.action, press.article_id)
        await query.answer()
        if press.action == ArticleAction.DIFF:
            await self.send_diff(update, row, [str(row.number), str(press.old), str(press.new)])
        elif press.action == ArticleAction.HISTORY:
            await self.send_history(update, Target(chat.id), row)
        else:
            await asyncio.to_thread(self.store.articles.untrack, chat.id, row.number)
            await reply(update, replies.untracked(row.number, row.article))
