"""Reading what an update names (links, article arguments, forum topics) and answering it."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, MessageEntity, Update

from bot.storage.store import Storage

_LINKS = [MessageEntity.URL, MessageEntity.TEXT_LINK]


def first_link(message: Message | None) -> str | None:
    """The first link Telegram marked in a message or caption, typed or hidden behind text.

    Shared links often arrive as "Headline https://…" or as linked words, and in a group one
    replies /track to somebody's link rather than pasting it again.
    """
    if message is None:
        return None
    found = message.parse_entities(_LINKS) or message.parse_caption_entities(_LINKS)
    for entity in sorted(found, key=lambda e: e.offset):
        return entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else found[entity]
    return None


def article_arg(message: Message | None, args: list[str]) -> str | None:
    """What a command names: a link in it, else its first word, else a link in the message it
    replies to."""
    if message is None:
        return args[0] if args else None
    link = first_link(message)
    if link is not None:
        return link
    if args:
        return args[0]
    return first_link(message.reply_to_message)


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message was written in (announcements about what it tracks go there)."""
    return message.message_thread_id if message is not None and message.is_topic_message else None


def acting_user(update: Update) -> int | None:
    """The person behind a command or button press; None for a channel post or an admin
    writing anonymously as the group (Telegram hides who, and they share one placeholder)."""
    message = update.effective_message if update.callback_query is None else None
    if message is not None and message.sender_chat is not None:
        return None
    user = update.effective_user
    return user.id if user is not None and not user.is_bot else None


def chat_title(chat: Chat) -> str:
    return chat.title or chat.full_name or chat.username or ""


async def reply(update: Update, text: str, **kwargs: object) -> Message | None:
    """Answer in the chat (and topic) the update came from; nothing when it has no message."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, **kwargs)  # type: ignore[arg-type]


async def register_chat(store: Storage, update: Update) -> int:
    """Make sure the chat has a row (every command may be its first word to the bot)."""
    chat = update.effective_chat
    assert chat is not None
    await asyncio.to_thread(store.chats.ensure, chat.id, chat.type, chat_title(chat))
    return chat.id
