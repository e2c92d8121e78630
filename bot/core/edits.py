"""What a new version means given the versions before it: an edit, a revert, or an A/B test.

Pure: it sees version numbers, hashes and headlines, never the database. Publishers test
headlines by serving two of them in turn; announcing every flip would bury the real edits,
so a headline seen alternating A → B → A → B is announced once as an A/B test and its flips
are quiet from then on. A return to an earlier version that is not such a flip is a revert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.diff import Change
from bot.core.extract import Snapshot


class EventKind(StrEnum):
    EDIT = "edit"
    REVERT = "revert"  # the text is back to an earlier version's
    AB_TEST = "ab_test"  # announced once: the headline alternates between two states
    AB_FLIP = "ab_flip"  # a further flip of a known A/B test: stay quiet


@dataclass(frozen=True)
class Event:
    kind: EventKind
    changes: list[Change] = field(default_factory=list)  # what to announce
    reverted_to: int | None = None
    ab_titles: tuple[str, str] | None = None


VersionRow = tuple[int, str, str]  # (number, content_hash, title)


def classify(
    index: Sequence[VersionRow],
    old: Snapshot,
    new: Snapshot,
    changes: list[Change],
    ab_titles: Sequence[str] | None = None,
) -> Event:
    """Classify the step from the last stored version (``old``) to ``new``."""
    headline_only = bool(changes) and all(c.kind == "headline" for c in changes)
    if ab_titles and old.title in ab_titles and new.title in ab_titles and old.title != new.title:
        rest = [c for c in changes if c.kind != "headline"]
        if not rest:
            return Event(EventKind.AB_FLIP)
        return Event(EventKind.EDIT, rest)
    titles = [title for _n, _h, title in index]
    if (
        headline_only
        and len(titles) >= 3
        and titles[-1] == old.title
        and titles[-2] == new.title
        and titles[-3] == old.title
    ):
        # A → B → A seen; now B again: the second alternation makes it a test, not an edit.
        return Event(EventKind.AB_TEST, changes, ab_titles=(new.title, old.title))
    earlier = [n for n, h, _t in index[:-1] if h == new.content_hash]
    if earlier:
        return Event(EventKind.REVERT, changes, reverted_to=earlier[-1])
    return Event(EventKind.EDIT, changes)
