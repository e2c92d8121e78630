"""What a chat shows before anyone types: the command menus and the bot's descriptions.

Telegram picks a menu by scope: group members see the commands anyone may use there, group
admins all of them, private chats all of them. The description fills an empty private chat
("What can this bot do?"); the short one is the bot's profile line and share preview.
"""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
)

from bot.messages import replies

__all__ = ["bot_commands", "publish_menus"]

log = logging.getLogger("redline.app")


def bot_commands(only: frozenset[str] | None = None) -> list[BotCommand]:
    return [
        BotCommand(name, text[:256]) for name, text, _ in replies.COMMANDS if only is None or name in only
    ]


async def publish_menus(bot: Bot) -> None:
    await bot.set_my_commands(bot_commands(), scope=BotCommandScopeDefault())
    await bot.set_my_commands(bot_commands(replies.READ_ONLY), scope=BotCommandScopeAllGroupChats())
    in_groups = frozenset(name for name, _, _ in replies.COMMANDS) - replies.PRIVATE_ONLY
    await bot.set_my_commands(bot_commands(in_groups), scope=BotCommandScopeAllChatAdministrators())
    await bot.set_my_description(replies.BOT_DESCRIPTION)
    await bot.set_my_short_description(replies.BOT_SHORT_DESCRIPTION)
    log.info("menus_published commands=%d", len(replies.COMMANDS))
