"""/track, a link sent without a command, and the "Track this article" button under it.

Each handler reads the update, asks the track service (bot.service.track), and replies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.messages import replies
from bot.messages.channels import too_many_for_user
from bot.net.urls import URLError, parse_user_url
from bot.service.track import Refusal, Refused, TrackService
from bot.storage.articles import TrackResult
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk
from bot.tg.updates import acting_user, article_arg, first_link, reply, topic_of

TRACK_DATA = "track"


def track_reply(result: TrackResult | Refused, channel: str | None = None) -> str:
    """What the chat is told after /track or the button (``channel``: tracked for it)."""
    if isinstance(result, TrackResult):
        if result.already:
            return replies.already_tracking(result.number, result.article)
        return replies.tracking_started(result.number, result.article, channel)
    if result.reason == Refusal.NO_URL:
        return replies.USAGE["track"]
    if result.reason == Refusal.FULL:
        return replies.too_many_articles(result.count)
    if result.reason == Refusal.USER_FULL:
        return too_many_for_user(result.count)
    return result.detail


class TrackHandlers:
    def __init__(
        self,
        store: Storage,
        tracker: TrackService,
        settings: Settings,
        guard: ChangeGuard,
        desk: ChannelDesk,
        on_chat_changed: Callable[[int], None] = lambda _chat: None,
    ) -> None:
        self.store = store
        self.tracker = tracker
        self.settings = settings
        self.guard = guard
        self.desk = desk
        self.on_chat_changed = on_chat_changed  # a new article in its list: the web's pages for it

    async def track(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if await self.guard.may_change(update, context, "track"):
            await self._track(update, context, article_arg(update.effective_message, context.args or []))

    async def _track(self, update: Update, context: ContextTypes.DEFAULT_TYPE, url: str | None) -> None:
        """/track and the "Track this article" button: the same service, the same replies,
        for this chat or the channel it manages."""
        target = await self.desk.target(update, context)
        if target is None:
            return
        topic = None if target.is_channel else topic_of(update.effective_message)
        result = await self.tracker.track(target.chat_id, url, topic, user_id=acting_user(update))
        if isinstance(result, TrackResult) and not result.already:
            self.on_chat_changed(target.chat_id)
        await reply(update, target.say(track_reply(result, target.channel_title)))

    async def plain_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A link sent or forwarded without a command: offer to track it with one tap."""
        link = first_link(update.effective_message)
        if link is None:
            await reply(update, replies.NO_LINK)
            return
        try:
            parse_user_url(link, max_chars=self.settings.limits.max_url_chars)
        except URLError as exc:
            await reply(update, exc.args[0])
            return
        button = InlineKeyboardButton(replies.TRACK_BUTTON, callback_data=TRACK_DATA)
        await reply(update, replies.offer_to_track(link), reply_markup=InlineKeyboardMarkup([[button]]))

    async def track_chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The "Track this article" button: /track of the link in the message it sits under."""
        query = update.callback_query
        if query is None or not await self.guard.may_change(update, context, "track"):
            return
        await query.answer(replies.TRACK_BUTTON_PRESSED)
        offer = query.message if isinstance(query.message, Message) else None
        if offer is not None:
            with contextlib.suppress(BadRequest):  # a second press already removed it
                await offer.edit_reply_markup(None)
        await self._track(update, context, first_link(offer))
