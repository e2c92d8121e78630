"""What /follow, /unfollow, /list's follows block and a followed article's announcement say.

Pure: plain values in, Telegram HTML out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from bot.messages.replies import words_listed

FOLLOW_USAGE = (
    "Send a feed or a section page after the command, like this:\n"
    "/follow https://example.com/world/rss.xml 7 days\n"
    "(7 days is how long each new article is tracked; /follow URL all also takes what it lists now; "
    "/follow URL words: Putin, sanctions only articles that mention one.)"
)
UNFOLLOW_USAGE = "Say which follow to stop: /unfollow 2 (its number under Follows in /list)."
NO_FOLLOWS_TO_EXPORT = "This chat follows nothing yet: there is nothing to export."
EXPORT_FOLLOWS_CAPTION = "This chat's follows, as OPML: any feed reader imports it."


def _source(title: str, url: str) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(title or url)}</a>'


def _days(days: int) -> str:
    return f"{days} day{'s' if days != 1 else ''}"


def bad_days(maximum: int) -> str:
    return f"A follow keeps each article from 1 to {maximum} days.\n{FOLLOW_USAGE}"


def follow_started(
    number: int,
    title: str,
    url: str,
    listed: int,
    days: int,
    backlog: int | None,
    from_page: bool,
    words: Sequence[str] = (),
) -> str:
    """``backlog``: articles tracked at once (/follow URL all), None when the backlog is skipped;
    ``words``: the follow's watchwords."""
    what = "links to" if from_page else "lists"
    now = (
        f"I track {backlog} of them now, each for {_days(days)}."
        if backlog is not None
        else "Those are skipped; every article that appears from now on is tracked here for "
        f"{_days(days)}, then let go quietly."
    )
    articles = f"{listed} article{'s' if listed != 1 else ''}"
    started = (
        f"📡 Following F{number}: {_source(title, url)} · it {what} {articles} now.\n"
        f"{now} I look at it every few minutes. /list shows follows, /unfollow {number} stops it."
    )
    return f"{started}\n{watching_follow(words)}" if words else started


def watching_follow(words: Sequence[str]) -> str:
    """The line under a /follow reply when the follow has watchwords."""
    return (
        f"🔎 Watchwords: {words_listed(words)}. I track only its articles whose headline or text "
        "contains one, and post only edits whose changed words contain one; the others stay in /history."
    )


def already_following(number: int, title: str, url: str) -> str:
    return f"This chat already follows that as F{number}: {_source(title, url)}"


def too_many_follows(count: int) -> str:
    return f"This chat already follows {count} sources, the most I allow. /unfollow one first."


def nothing_to_follow(reason: str) -> str:
    return f"I can't follow that: {reason}"


NO_FEED = "it is not a feed, names no feed, and links to no articles I recognise."


def unfollowed(number: int, title: str, url: str, released: int) -> str:
    gone = (
        f" and stopped tracking the {released} article{'s' if released != 1 else ''} it brought"
        if released
        else ""
    )
    return f"Stopped following F{number}: {_source(title, url)}{gone}."


def no_such_follow(number: int) -> str:
    return f"There is no follow F{number} in /list."


def brought_by(number: int, title: str) -> str:
    """The one line under an announcement of an article a follow brought."""
    return f"📡 via follow F{number}: {escape(title)}"


def brought_by_plain(number: int, title: str) -> str:
    return f"via follow F{number}: {title}"


def follow_full(number: int, title: str, url: str, count: int) -> tuple[str, str]:
    """(HTML, plain): the follow's new articles are skipped at the chat's cap (told once)."""
    tail = (
        f"has new articles, but this chat already tracks {count} articles, the most I allow, so they "
        "are skipped. /untrack or /unfollow to make room."
    )
    return (
        f"📡 Follow F{number}, {_source(title, url)}, {tail}",
        f"📡 Follow F{number}, {title or url} ({url}), {tail}",
    )


def feed_failing(number: int, title: str, url: str, reason: str) -> tuple[str, str]:
    """(HTML, plain): the follow's source failed several fetches in a row (told once)."""
    tail = "I'll keep trying, less often; the articles it brought are still tracked."
    return (
        f"⚠️ I can't read follow F{number}, {_source(title, url)}: {escape(reason)} {tail}",
        f"⚠️ I can't read follow F{number}, {title or url} ({url}): {reason} {tail}",
    )


def follows_block(
    rows: Sequence[tuple[int, str, str, int, int, datetime | None, Sequence[str]]], now: datetime
) -> list[str]:
    """/list's follows, apart from single articles: (number, title, url, days, held, ends, words)."""
    if not rows:
        return []
    lines = ["<b>Follows</b>"]
    for number, title, url, days, held, ends, words in rows:
        until = f", the last until {ends:%b %d %H:%M} UTC" if ends is not None and held else ""
        only = f" · words: {words_listed(words)}" if words else ""
        lines.append(
            f"F{number}. {_source(title, url)} · {held} article{'s' if held != 1 else ''} held{until} "
            f"· each for {_days(days)}{only}"
        )
    return lines
