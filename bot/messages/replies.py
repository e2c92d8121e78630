"""The texts of command replies (pure: data in, Telegram HTML out).

Handlers in ``commands`` only parse, call the store or the core, and send what these
functions return, so every wording is tested without Telegram.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from bot.storage.chats import AwayChange
from bot.storage.models import Article, ArticleState, Version

MAX_CHARS = 4096

COMMANDS: list[tuple[str, str, str]] = [
    ("track", "Track an article: /track https://example.com/news/story", "URL"),
    ("untrack", "Stop tracking: /untrack 2 (number from /list) or /untrack URL", "N|URL"),
    ("list", "The articles this chat tracks", ""),
    ("history", "Every version seen of an article: /history 2", "N|URL"),
    ("diff", "Word-level diff: /diff 2 (last edit) or /diff 2 1 3 (versions 1 and 3)", "N [A B]"),
    ("export", "History as a file: /export 2 (every version, JSON), /export 2 csv (every change)", "N [csv]"),
    ("sensitivity", "What counts as an edit in this chat: headline only, substantive, everything", ""),
    ("help", "What this bot does and how to use it", ""),
]

USAGE = {
    "track": "Send the article's link after the command, like this:\n/track https://example.com/news/story",
    "untrack": "Say which article to stop tracking: /untrack 2 (its number in /list) or /untrack URL",
    "history": "Say which article: /history 2 (its number in /list) or /history URL",
    "diff": "Say which article: /diff 2 shows its last edit; /diff 2 1 3 compares versions 1 and 3.",
    "export": "Say which article: /export 2 sends its history as JSON; /export 2 csv one row per change.",
}


TRACK_BUTTON = "Track this article"
TRACK_BUTTON_PRESSED = "Reading the article…"
NO_LINK = "Send /track with an article's link. /help explains everything."


def offer_to_track(url: str) -> str:
    """The question under a link someone sent or forwarded; the link rides along in the
    message, so the button works without remembering anything."""
    shown = url.split("://", 1)[-1]
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    return f'Track this article? <a href="{escape(url, quote=True)}">{escape(shown)}</a>'


ADMINS_ONLY_BUTTON = "Only this group's admins can change its settings."
ADMIN_LOOKUP_FAILED = "I couldn't check who this group's admins are. Please try again in a minute."


def admins_only(command: str) -> str:
    """What a plain group member reads instead of a change to the group's list or settings."""
    return f"Only this group's admins can use /{command} here. Everyone can use /list, /history and /diff."


def help_text() -> str:
    lines = [
        "<b>Redline</b> tells you when a news article is edited after publication.",
        "Track an article and I'll re-read it on a schedule; when its headline or a paragraph "
        "changes, I post a word-level before/after here: <s>old words</s> <b>new words</b>.",
        "",
    ]
    lines += [f"/{name} — {escape(text)}" for name, text, _ in COMMANDS]
    lines += [
        "",
        "Reply /track to any message with a link to track it; reply /diff, /history or /untrack "
        "to one of my edit messages to act on that article.",
        "Works in private chats, groups and channels (add me as an admin in a channel). "
        "In groups only admins can /track, /untrack and change /sensitivity.",
    ]
    return "\n".join(lines)


def ago(moment: datetime | None, now: datetime) -> str:
    """ "5 min ago", "3 h ago", "2 days ago": short enough for a /list row."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


STATE_LABEL = {
    ArticleState.ACTIVE: "watching",
    ArticleState.FAILING: "can't read it right now",
    ArticleState.DORMANT: "dormant (unchanged for a long time)",
    ArticleState.GONE: "gone",
}


def _link(article: Article) -> str:
    title = article.title or article.url
    return f'<a href="{escape(article.url, quote=True)}">{escape(title)}</a>'


def tracking_started(number: int, article: Article) -> str:
    return (
        f"👀 Tracking #{number}: {_link(article)} · {escape(article.site)}\n"
        "I'll post here when the headline or a paragraph changes. /list shows what this chat tracks."
    )


def already_tracking(number: int, article: Article) -> str:
    return f"This chat already tracks that article as #{number}: {_link(article)}"


def only_one_version(number: int) -> str:
    return f"#{number} has only one version so far: no edits seen yet."


def no_such_version(number: int, last: int, missing: int) -> str:
    return f"#{number} has versions 1 to {last}; there is no version {missing}."


def same_text(number: int, a: int, b: int) -> str:
    return f"Versions {a} and {b} of #{number} have the same text."


def export_caption(number: int, article: Article, versions: int, fmt: str) -> str:
    what = "every version" if fmt == "json" else "one row per change"
    return (
        f"History of #{number}: {_link(article)} · {versions} version{'s' if versions != 1 else ''} "
        f"({fmt.upper()}, {what})"
    )


def untracked(number: int, article: Article) -> str:
    return f"Stopped tracking #{number}: {_link(article)}"


def list_text(rows: Sequence[tuple[int, Article, int]], now: datetime) -> str:
    if not rows:
        return "This chat tracks no articles yet. Send /track URL to start."
    lines = ["<b>Tracked articles</b>"]
    for number, article, versions in rows:
        changed = "no edits yet" if versions <= 1 else f"last changed {ago(article.last_changed_at, now)}"
        state = STATE_LABEL.get(ArticleState(article.state), article.state)
        lines.append(
            f"{number}. {_link(article)} · {escape(article.site)} · {changed} · "
            f"{versions} version{'s' if versions != 1 else ''} · {state}"
        )
    return fit(lines, "…and more. /untrack articles you no longer need.")


def history_text(number: int, article: Article, versions: Sequence[Version]) -> str:
    lines = [f"<b>History of #{number}</b>: {_link(article)}"]
    for v in versions:
        stamp = v.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"v{v.number} · {stamp} · {escape(v.summary)}")
    if len(versions) > 1:
        lines.append(f"/diff {number} A B compares any two versions.")
    return fit(lines, f"…older versions left out. /diff {number} A B shows any two.", keep_head=1)


def fit(lines: list[str], more: str, keep_head: int = 1) -> str:
    """Join lines, dropping from the middle until the message fits Telegram's limit."""
    text = "\n".join(lines)
    if len(text.encode("utf-16-le")) // 2 <= MAX_CHARS:
        return text
    head, body = lines[:keep_head], lines[keep_head:]
    while body and len("\n".join([*head, more, *body]).encode("utf-16-le")) // 2 > MAX_CHARS:
        body.pop(0)
    return "\n".join([*head, more, *body])


def welcome_back(changes: Sequence[AwayChange]) -> tuple[str, str]:
    """One message for a chat the bot could not write to for a while: what changed meanwhile
    (HTML and plain), instead of replaying every announcement it missed."""
    many = len(changes) != 1
    head = (
        f"👋 Back in touch. While I could not post here, {len(changes)} tracked "
        f"article{'s' if many else ''} changed:"
    )
    rows = [(c, f"v{c.old} → v{c.new} · /diff {c.number} {c.old} {c.new}") for c in changes]
    html = [escape(head)] + [f"#{c.number} <b>{escape(c.title)}</b> — {tail}" for c, tail in rows]
    plain = [head] + [f"#{c.number} {c.title} — {tail}" for c, tail in rows]
    return fit(html, "…"), "\n".join(plain)[:MAX_CHARS]
