"""The day's edits at a glance: which of a chat's changed articles to name first.

Pure: each article's first and last version of the day in, an ordered list out. Most
significant first, in the order bot.core.significance weighs one edit (a headline change, then
changed numbers, removed quotes and names), so a skim of the top lines finds what matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.core.diff import diff_snapshots, summarize
from bot.core.extract import Snapshot
from bot.core.significance import assess, weight

__all__ = ["DIGEST_TIMES", "DayChange", "DayEdit", "next_digest_at", "rank_day"]

# The times a chat may pick for its daily digest, minutes after midnight on its clock: before the
# morning meeting, midday, the evening edition.
DIGEST_TIMES: tuple[int, ...] = (6 * 60, 8 * 60, 12 * 60, 18 * 60, 21 * 60)


@dataclass(frozen=True)
class DayChange:
    """One article of the chat (its #``number``) read as version ``old`` before the day's
    first edit and as version ``new`` now."""

    number: int
    article_id: int
    title: str
    old: int
    new: int
    before: Snapshot
    after: Snapshot


@dataclass(frozen=True)
class DayEdit:
    number: int
    article_id: int
    title: str
    old: int
    new: int
    tags: tuple[str, ...]  # bot.core.significance: "headline changed", "a number changed", …
    summary: str  # "2 paragraphs edited, 1 added"


def rank_day(changes: Iterable[DayChange]) -> list[DayEdit]:
    """The day's edits, most significant first: a headline change, then the weight of the
    changes (a changed number outweighs any number of altered quotes), then how many; the
    chat's own numbering breaks ties. An article back where it started the day is left out."""
    scored: list[tuple[tuple[int, int, int, int], DayEdit]] = []
    for c in changes:
        found = diff_snapshots(c.before, c.after)
        if not found:
            continue
        sig = assess(found)
        headline = any(f.kind == "headline" for f in found)
        score = (-int(headline), -sum(weight(f) for f in found), -len(found), c.number)
        scored.append(
            (score, DayEdit(c.number, c.article_id, c.title, c.old, c.new, sig.tags, summarize(found)))
        )
    return [edit for _, edit in sorted(scored, key=lambda pair: pair[0])]


def next_digest_at(now: datetime, minute: int, zone: tzinfo = UTC) -> datetime:
    """The first time after ``now`` (aware) that reads ``minute`` minutes after midnight on
    the chat's clock (``zone``), in UTC."""
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    for days in (0, 1, 2):  # wall-clock arithmetic: 08:00 stays 08:00 across a DST change
        due = (midnight + timedelta(days=days, minutes=minute)).astimezone(UTC)
        if due > now:
            return due
    raise AssertionError("a minute of the day comes within two days")
