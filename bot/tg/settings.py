"""/settings and /timezone: announcements with or without sound, the chat's time zone, and
(with the daily digest on) whether articles its follows bring are announced one by one.

Changing either is a change to the chat, so in groups it takes an admin (bot.tg.access).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import zoneinfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.messages import replies
from bot.messages.buttons import SETTING_DATA, Keyboard, parse_setting, setting
from bot.storage.store import Storage
from bot.tg.access import ChangeGuard
from bot.tg.channels import ChannelDesk, Target
from bot.tg.keyboards import markup, show_in_place
from bot.tg.updates import reply

log = logging.getLogger("redline.commands")

QUIET, ZONE, FOLLOWED = "quiet", "tz", "followed"


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA name the system knows, by its lower-case spelling."""
    return {name.lower(): name for name in zoneinfo.available_timezones()} | {"utc": "UTC"}


def zone_name(name: str) -> str | None:
    """The IANA spelling of a time zone a user typed ("europe/berlin"), None if unknown."""
    return _zones().get(name.strip().lower())


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    known = zone_name(name)
    return zoneinfo.ZoneInfo(known) if known else None


def settings_keyboard(quiet: bool, timezone: str, digest_only: bool | None = None) -> Keyboard:
    """``digest_only`` None: the daily digest is off, and its choice is not offered."""
    zones = [(replies.zone_button(z, timezone), setting(ZONE, z)) for z in replies.ZONES]
    rows = [
        [(replies.quiet_button(quiet), setting(QUIET, "0" if quiet else "1"))],
        zones[:3],
        zones[3:],
    ]
    if digest_only is not None:
        rows.append(
            [(replies.digest_only_button(digest_only), setting(FOLLOWED, "0" if digest_only else "1"))]
        )
    return rows


class SettingsHandlers:
    """In a private chat that manages a channel (/channel) the settings are the channel's,
    asked afresh at each press: the user must still be one of its admins."""

    def __init__(self, store: Storage, guard: ChangeGuard, desk: ChannelDesk) -> None:
        self.store = store
        self.guard = guard
        self.desk = desk

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        app.add_handler(CallbackQueryHandler(self.chosen, pattern=rf"^{SETTING_DATA}:"))

    async def _menu(self, target: Target) -> tuple[str, Keyboard]:
        chat = await asyncio.to_thread(self.store.chats.get, target.chat_id)
        quiet, timezone = (chat.quiet, chat.timezone) if chat else (False, "UTC")
        only = chat.digest_only if chat is not None and chat.digest_minute is not None else None
        text = replies.settings_text(quiet, timezone, only)
        return target.say(text), settings_keyboard(quiet, timezone, only)

    async def settings(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.guard.may_change(update, context, "settings"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        text, keyboard = await self._menu(target)
        await reply(update, text, reply_markup=markup(keyboard))

    async def timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        args = context.args or []
        if args and not await self.guard.may_change(update, context, "timezone"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        if not args:
            chat = await asyncio.to_thread(self.store.chats.get, target.chat_id)
            await reply(update, target.say(replies.timezone_usage(chat.timezone if chat else "UTC")))
            return
        name = zone_name(args[0])
        if name is None:
            await reply(update, replies.unknown_timezone(args[0]))
            return
        await asyncio.to_thread(self.store.chats.set_timezone, target.chat_id, name)
        log.info("timezone chat=%s value=%s", target.chat_id, name)
        await reply(update, target.say(replies.timezone_saved(name)))

    async def chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        press = parse_setting(query.data or "") if query is not None else None
        if query is None or not await self.guard.may_change(update, context, "settings"):
            return
        target = await self.desk.target(update, context)
        if target is None:
            return
        name = zone_name(press.value) if press is not None and press.key == ZONE else None
        if press is not None and press.key == QUIET and press.value in ("0", "1"):
            await asyncio.to_thread(self.store.chats.set_quiet, target.chat_id, press.value == "1")
            saved = replies.quiet_saved(press.value == "1")
        elif press is not None and press.key == FOLLOWED and press.value in ("0", "1"):
            chat = await asyncio.to_thread(self.store.chats.get, target.chat_id)
            if chat is None or chat.digest_minute is None:
                await query.answer(replies.DIGEST_ONLY_NEEDS_DIGEST, show_alert=True)
                return
            await asyncio.to_thread(self.store.chats.set_digest_only, target.chat_id, press.value == "1")
            saved = replies.followed_articles(press.value == "1")
        elif press is not None and name is not None:
            await asyncio.to_thread(self.store.chats.set_timezone, target.chat_id, name)
            saved = replies.timezone_saved(name)
        else:
            await query.answer(replies.UNKNOWN_CHOICE)
            return
        log.info("setting chat=%s %s=%s", target.chat_id, press.key, press.value)
        await query.answer(saved)
        text, keyboard = await self._menu(target)
        await show_in_place(query, text, keyboard)
