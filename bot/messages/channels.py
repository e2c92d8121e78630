"""What a channel's admin reads while managing the channel from a private chat (/channel), and
what a person the operator has not let in reads (pure: data in, Telegram HTML out)."""

from __future__ import annotations

import re
from html import escape, unescape

from bot.messages.replies import fit

PICK_BUTTON = "📣 Pick a channel"
CHANNEL_ONLY_IN_PRIVATE = (
    "Manage a channel from a private chat with me: open it and send /channel. "
    "The channel then sees only my announcements."
)
PICK = (
    "Tap <b>📣 Pick a channel</b> below and choose a channel where you and I are both admins "
    "(I need to post messages there). Then /track, /list, /untrack and /sensitivity here act on "
    "that channel; /channel off brings them back to this chat."
)
NOT_MANAGING = "You're not managing a channel: /track, /list and the rest act on this chat."
NOT_ALLOWED = "Sorry, this bot is private: its operator hasn't given you access."


def _name(title: str) -> str:
    return f"<b>{escape(title or 'the channel')}</b>"


def managing_now(title: str) -> str:
    """The selection is stored; every reply from now says which channel it acted on."""
    return (
        f"📣 Now managing {_name(title)}. /track, /list, /untrack and /sensitivity here act on it; "
        "it sees only my announcements. /channel off brings them back to this chat."
    )


def still_managing(title: str) -> str:
    return f"📣 You're managing {_name(title)}. Tap the button to pick another, or /channel off."


def stopped_managing(title: str) -> str:
    return f"Stopped managing {_name(title)}. /track, /list and the rest act on this chat again."


def for_channel(title: str, text: str) -> str:
    """A reply about the managed channel, said to be about it (still within Telegram's limits)."""
    return fit([f"📣 For {_name(title)}:", *text.split("\n")], "…", keep_head=2)


def user_not_admin(title: str) -> str:
    """Checked at every change: an admin who lost the role loses the remote control with it."""
    return (
        f"You're not an admin of {_name(title)} any more, so I can't change it for you. "
        "/channel off brings /track and the rest back to this chat."
    )


def bot_cannot_post(title: str) -> str:
    return (
        f"I'm not an admin who can post in {_name(title)}. Add me as an admin with "
        "“Post messages”, then pick it again with /channel."
    )


ADMIN_CHECK_FAILED = "I couldn't check your admin rights in that channel. Please try again in a minute."
NOT_A_CHANNEL = "That isn't a channel. Send /channel and pick a channel."


def too_many_for_user(count: int) -> str:
    """The per-user cap (limits.max_articles_per_user), across every chat."""
    return (
        f"You already track {count} articles across your chats, the most I allow one person. "
        "/untrack some first."
    )


def as_alert(text: str) -> str:
    """An HTML reply as the plain text of a button's pop-up answer (at most 200 characters)."""
    plain = unescape(re.sub(r"<[^>]+>", "", text))
    return plain if len(plain) <= 200 else plain[:199] + "…"
