"""What the bot says on its own, outside a command reply: the lead of an announcement (a revert,
an A/B test, a withdrawal), an article that is gone or cannot be read, a coalesced update's
"Earlier:" line, the apology after a failure.

Pure: plain values in, Telegram HTML (and its plain-text fallback) out.
"""

from __future__ import annotations

from html import escape

from bot.core.edits import Event, EventKind

__all__ = [
    "CARRIER_NOTES",
    "EARLIER",
    "EARLIER_PLAIN",
    "SOMETHING_WENT_WRONG",
    "article_failing",
    "article_gone",
    "describe",
]

EARLIER = "\n\n<i>Earlier:</i>\n"  # between a coalesced announcement and the one it updates
EARLIER_PLAIN = "\n\nEarlier:\n"
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a minute."


def describe(event: Event, withdrawn: bool, summary: str) -> tuple[str, str]:
    """The message's lead (empty for a plain edit) and the /history line for this version."""
    if withdrawn:
        return "🗑 The article was withdrawn or replaced", f"withdrawn or replaced: {summary}"
    if event.kind == EventKind.AB_TEST and event.ab_titles:
        a, b = event.ab_titles
        return (
            f"🔀 Headline A/B test: “{a}” ⇄ “{b}” — I'll stay quiet while it alternates",
            "headline A/B test",
        )
    if event.kind == EventKind.REVERT:
        return f"↩️ Reverted to v{event.reverted_to}", f"reverted to v{event.reverted_to}: {summary}"
    return "", summary


# /history's line for a version stored because the headline's element changed, not the text.
CARRIER_NOTES = {
    "redesign": "headline element changed after a redesign; not announced",
    "adopted": "headline and search/social title now followed apart; not announced",
}


def _notice(
    emoji: str, head: str, title: str, url: str, site: str, reason: str, tail: str
) -> tuple[str, str]:
    """(HTML, plain) of a notice about one article; ``title`` may be empty."""
    shown = title or url
    link = f'<a href="{escape(url, quote=True)}">{escape(shown)}</a>'
    html = f"{emoji} {head} · {escape(site)}\n{link}\n{escape(reason)}\n{tail}"
    plain = f"{head} · {site}\n{shown}\n{url}\n{reason}\n{tail}"
    return html, plain


def article_gone(number: int, title: str, url: str, site: str, reason: str) -> tuple[str, str]:
    """The article went away for good (404, 410...): checks stop."""
    tail = f"I've stopped checking it. /untrack_{number} removes it."
    return _notice("🚫", f"Article #{number} is gone", title, url, site, reason, tail)


def article_failing(number: int, title: str, url: str, site: str, reason: str) -> tuple[str, str]:
    """Several checks in a row failed: checks go on, less often."""
    tail = "I'll keep trying and tell you when it changes."
    return _notice("⚠️", f"Article #{number} can't be read right now", title, url, site, reason, tail)
