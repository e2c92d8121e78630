"""Spans of time as a reader sees them, worded once: an announcement's "35 min after the last
version", a /list row's "5 min ago", the /stats backlog's "2 h 5 min".

Pure: every function takes the moments it compares (no clock is read here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["ago", "duration", "format_elapsed", "utc_stamp"]


def _seconds(delta: timedelta) -> int:
    """Whole seconds, never negative (clocks of two machines may disagree a little)."""
    return max(0, int(delta.total_seconds()))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def format_elapsed(elapsed: timedelta) -> str:
    """ "35 min", "2 h 5 min", "3 days" — compact, phone-width."""
    secs = _seconds(elapsed)
    if secs < 60:
        return "under a minute"
    mins = secs // 60
    if mins < 60:
        return f"{mins} min"
    hours, mins = divmod(mins, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    day_s = _plural(days, "day")
    return f"{day_s} {hours} h" if hours and days < 7 else day_s


def ago(moment: datetime | None, now: datetime) -> str:
    """ "5 min ago", "3 h ago", "2 days ago": short enough for a /list row."""
    if moment is None:
        return "never"
    seconds = _seconds(now - moment)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{_plural(seconds // 86400, 'day')} ago"


def duration(delta: timedelta) -> str:
    """ "45 s", "12 min", "2 h 5 min", "3 days": how long something has waited (/stats)."""
    seconds = _seconds(delta)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def utc_stamp(moment: datetime) -> str:
    """ "2026-12-07 14:05 UTC": a moment as replies, documents and pages print it (the
    database gives naive UTC times)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
