"""/feed: the chat's Atom feed address; /feed revoke: a new one, the old one dead at once.
In a private chat that manages a channel (/channel), both act on the channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.messages import replies
from bot.service.history import PageLinks
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk
from bot.tg.updates import register_chat, reply

log = logging.getLogger("redline.commands")


class FeedHandlers:
    def __init__(
        self,
        store: Storage,
        links: PageLinks,
        guard: ChangeGuard,
        desk: ChannelDesk,
        on_chat_changed: Callable[[int], None],
    ) -> None:
        self.store = store
        self.links = links
        self.guard = guard
        self.desk = desk
        self.on_chat_changed = on_chat_changed  # the web server forgets the old token's pages

    async def feed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await register_chat(self.store, update)
        args = [a.lower() for a in context.args or []]
        if args not in ([], ["revoke"]):
            await reply(update, replies.USAGE["feed"])
            return
        if not self.links.enabled:
            await reply(update, replies.WEB_OFF)
            return
        revoke = args == ["revoke"]
        if revoke and not await self.guard.may_change(update, context, "feed revoke"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        url = await asyncio.to_thread(self.links.feed, target.chat_id, revoke=revoke)
        assert url is not None
        if revoke:
            self.on_chat_changed(target.chat_id)
            log.info("feed_revoked chat=%s", target.chat_id)
        await reply(update, target.say(replies.feed_revoked(url) if revoke else replies.feed_address(url)))
