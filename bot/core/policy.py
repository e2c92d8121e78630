"""What a check's result means for an article's schedule: pure rules, data in and data out.

The check service (bot.service.check) asks these questions and acts on the answers; nothing
here reads a clock (``now`` is passed in), the database or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.edits import Event, EventKind
from bot.core.extract import Snapshot

# A new text shorter than this share of the last version's is treated as a possible
# paywall/error page served once, and must persist before it is announced.
SHRINK_RATIO = 0.4
SHRINK_MIN_CHARS = 400


class Outcome(StrEnum):
    """What one check found; the cheap paths come first, in the order they are tried."""

    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET: one request, nothing read
    BODY_SAME = "body_same"  # the same bytes as the last page read: not parsed
    FINGERPRINT_SAME = "fingerprint_same"  # new bytes, same bot.core.fingerprint: not extracted
    SAME = "same"  # extracted; content hash unchanged
    NOISE = "noise"  # extraction differed only in what diff ignores
    CHANGED = "changed"
    SHRUNK = "shrunk"  # most of the text vanished; waiting to see if it persists
    FAILED = "failed"
    GONE = "gone"
    DORMANT = "dormant"


@dataclass(frozen=True)
class Intervals:
    """The bounds an article's check interval moves between (``monitor.*`` settings)."""

    min_interval: int
    max_interval: int

    def slower(self, interval: int) -> int:
        """Nothing to announce: look less often (pages settle down)."""
        return min(self.max_interval, max(self.min_interval, int(interval * 1.25)))

    def faster(self, interval: int) -> int:
        """An edit: look again sooner (edits come in runs)."""
        return max(self.min_interval, min(self.max_interval, interval // 2))

    def backoff(self, interval: int, failures: int) -> int:
        """After ``failures`` failed reads in a row: wait twice as long each time."""
        return min(self.max_interval, interval * 2 ** min(failures, 16))


def next_check(interval: int, now: datetime) -> datetime:
    return now + timedelta(seconds=interval)


def is_dormant(
    now: datetime,
    *,
    created_at: datetime,
    last_changed_at: datetime | None,
    woken_at: datetime | None,
    stop_after_days: int,
) -> bool:
    """Quiet for longer than ``stop_after_days`` since its last change, or since /track last
    woke it, whichever is later."""
    quiet_since = max(last_changed_at or created_at, woken_at or created_at)
    return now - quiet_since > timedelta(days=stop_after_days)


def text_size(snapshot: Snapshot) -> int:
    return len(snapshot.title) + sum(len(p) for p in snapshot.paragraphs)


def shrank(old: Snapshot, new: Snapshot) -> bool:
    """Whether most of a long text vanished (a paywall, an error page, or a withdrawal)."""
    return text_size(old) >= SHRINK_MIN_CHARS and text_size(new) < SHRINK_RATIO * text_size(old)


@dataclass(frozen=True)
class Shrink:
    """How many checks in a row saw the same shrunk text, and whether that is enough."""

    count: int
    withdrawn: bool


def shrink_seen(new_hash: str, last_hash: str | None, last_count: int, withdrawal_checks: int) -> Shrink:
    """The same shrunk text seen ``withdrawal_checks`` times in a row is a withdrawal; before
    that it is probably a page served once, and the check stays quiet."""
    count = last_count + 1 if last_hash == new_hash else 1
    return Shrink(count, withdrawn=count >= withdrawal_checks)


def announces(event: Event) -> bool:
    """Whether an edit event is told to the chats (a headline A/B flip back is not)."""
    return event.kind != EventKind.AB_FLIP


def notice_due(failures: int, failures_before_notice: int) -> bool:
    """A temporary failure is told once: when it has lasted ``failures_before_notice`` checks."""
    return failures == failures_before_notice
