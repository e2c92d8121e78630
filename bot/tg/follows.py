"""/follow, /unfollow, an OPML file sent to the bot, /export follows, and /list's follows block.

Each handler reads the update, asks the follow service (bot.service.follow), and replies.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.messages import follows as wording
from bot.messages.opml import NotOPML, Outline, parse_opml, render_opml
from bot.service.follow import (
    FollowArgs,
    FollowRefusal,
    FollowRefused,
    FollowService,
    FollowStarted,
    parse_follow_args,
)
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk
from bot.tg.updates import acting_user, reply, topic_of


def follow_reply(result: FollowStarted | FollowRefused) -> str:
    if isinstance(result, FollowStarted):
        if result.already:
            said = wording.already_following(result.number, result.title, result.url)
            return f"{said}\n{wording.watching_follow(result.words)}" if result.words else said
        return wording.follow_started(
            result.number,
            result.title,
            result.url,
            result.listed,
            result.days,
            result.backlog,
            result.from_page,
            result.words,
        )
    if result.reason == FollowRefusal.USAGE:
        return wording.FOLLOW_USAGE
    if result.reason == FollowRefusal.BAD_DAYS:
        return wording.bad_days(result.count)
    if result.reason == FollowRefusal.FULL:
        return wording.too_many_follows(result.count)
    if result.reason == FollowRefusal.BAD_WORDS:
        return result.detail
    return wording.nothing_to_follow(result.detail)


class FollowHandlers:
    def __init__(
        self, store: Storage, follower: FollowService, guard: ChangeGuard, desk: ChannelDesk
    ) -> None:
        self.store = store
        self.follower = follower
        self.guard = guard
        self.desk = desk

    async def _follow(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, args: FollowArgs
    ) -> str | None:
        target = await self.desk.target(update, context)
        if target is None:
            return None
        topic = None if target.is_channel else topic_of(update.effective_message)
        result = await self.follower.follow(target.chat_id, args, topic, user_id=acting_user(update))
        return target.say(follow_reply(result))

    async def follow(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "follow"):
            return
        text = await self._follow(update, context, parse_follow_args(list(context.args or [])))
        if text is not None:
            await reply(update, text)

    async def opml(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An OPML file sent to the bot: follow every feed in it, one reply line each."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        if not await self.guard.may_change(update, context, "follow"):
            return
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
        try:
            outlines = await asyncio.to_thread(parse_opml, data)
        except NotOPML as exc:
            await reply(update, str(exc))
            return
        lines = []
        for outline in outlines:
            text = await self._follow(update, context, FollowArgs(outline.url))
            if text is None:
                return
            lines.append(text)
        await reply(update, "\n\n".join(lines))

    async def unfollow(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "unfollow"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        args = context.args or []
        ref = args[0].lstrip("#").upper().removeprefix("F") if len(args) == 1 else ""
        if not ref.isdigit():
            await reply(update, target.say(wording.UNFOLLOW_USAGE))
            return
        done = await self.follower.unfollow(target.chat_id, int(ref))
        if done is None:
            await reply(update, target.say(wording.no_such_follow(int(ref))))
            return
        _follow, feed, released = done
        await reply(update, target.say(wording.unfollowed(int(ref), feed.title, feed.url, released)))

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/export follows: the chat's follows as an OPML file."""
        target = await self.desk.target(update, context)
        message = update.effective_message
        if target is None or message is None:
            return
        feeds = await asyncio.to_thread(self.store.follows.feeds_of, target.chat_id)
        if not feeds:
            await reply(update, target.say(wording.NO_FOLLOWS_TO_EXPORT))
            return
        data = render_opml([Outline(f.url, f.title or f.url) for f in feeds], "Redline follows")
        await message.reply_document(
            data, filename="redline-follows.opml", caption=wording.EXPORT_FOLLOWS_CAPTION
        )

    async def list_block(self, chat_id: int, now: datetime) -> list[str]:
        """/list's follows, in a block of their own (paging keeps it apart from articles)."""
        rows = await asyncio.to_thread(self.store.follows.listing, chat_id)
        return wording.follows_block(
            [(r.number, r.title, r.url, r.days, r.articles, r.ends, r.watchwords) for r in rows], now
        )
