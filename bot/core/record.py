"""An article's edits as the web shows them, and an outlet's record: what its edits did.

Pure. An ``Edit`` is one stored version against the one before it. ``outlet_record`` counts,
over the last 7 and 30 days, how many of a site's articles changed and how many edits changed
the headline, removed a quote or a name, changed a number, or carried no correction note —
the figures researchers of stealth edits ask for — with the edits behind each figure, so every
number can be checked. What makes an edit one of these is ``significance``'s reading of its
changes, the same reading that leads an announcement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.diff import Change
from bot.core.significance import assess, reasons

# What an outlet's record counts, in the order it shows them.
FIGURES = ("headline", "quote removed", "name", "number", "undeclared")
WINDOWS = (7, 30)  # days


@dataclass(frozen=True)
class ArticleRef:
    """Which article: enough to name it, link to it and its source."""

    id: int
    url: str
    url_key: str
    site: str
    title: str  # the current headline


@dataclass(frozen=True)
class ArticleFacts:
    """What a history page says about an article besides its edits."""

    ref: ArticleRef
    state: str  # an ArticleState value
    first_seen: datetime
    last_checked: datetime | None
    versions: int


@dataclass(frozen=True)
class Edit:
    """One stored version (``new_number``) against the one before it."""

    article_id: int
    old_number: int
    new_number: int
    old_at: datetime
    new_at: datetime
    title: str  # the headline after the edit
    new_hash: str  # the new version's content hash: with the article, names the edit for good
    changes: tuple[Change, ...]
    old_paragraphs: tuple[str, ...]
    new_paragraphs: tuple[str, ...]


def edit_kinds(changes: Sequence[Change]) -> frozenset[str]:
    """Which of ``FIGURES`` an edit counts towards."""
    found: set[str] = set()
    for c in changes:
        if c.kind == "headline":
            found.add("headline")
        found |= reasons(c) & {"quote removed", "name", "number"}
    if changes and assess(changes).declared is None:
        found.add("undeclared")
    return frozenset(found)


@dataclass(frozen=True)
class Window:
    """One column of an outlet's record: the last ``days`` days."""

    days: int
    articles: int  # the site's articles in view
    changed: tuple[int, ...]  # ids of the articles edited in the window, first edited first
    edits: int  # edits in the window
    figures: dict[str, tuple[Edit, ...]]  # FIGURES key → the edits it counts, oldest first


def outlet_record(
    edits: Sequence[Edit], articles: int, now: datetime, windows: Sequence[int] = WINDOWS
) -> tuple[Window, ...]:
    """Each window's figures from the site's edits (oldest first) and its article count."""
    kinds = [(e, edit_kinds(e.changes)) for e in edits]
    out = []
    for days in windows:
        since = now - timedelta(days=days)
        inside = [(e, k) for e, k in kinds if e.new_at >= since]
        changed = tuple(dict.fromkeys(e.article_id for e, _ in inside))
        figures = {key: tuple(e for e, k in inside if key in k) for key in FIGURES}
        out.append(Window(days, articles, changed, len(inside), figures))
    return tuple(out)


__all__ = [
    "FIGURES",
    "WINDOWS",
    "ArticleFacts",
    "ArticleRef",
    "Edit",
    "Window",
    "edit_kinds",
    "outlet_record",
]
