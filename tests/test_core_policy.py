"""bot.core.policy, table-driven: one row per case, data in and data out (no clock, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.edits import Event, EventKind
from bot.core.extract import Snapshot
from bot.core.policy import (
    Intervals,
    Outcome,
    Shrink,
    announces,
    is_dormant,
    next_check,
    notice_due,
    shrank,
    shrink_seen,
    text_size,
)

BOUNDS = Intervals(min_interval=60, max_interval=21600)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("interval", "slower", "faster"),
    [
        (300, 375, 150),
        (60, 75, 60),  # faster never goes below min_interval
        (100, 125, 60),
        (20000, 21600, 10000),  # slower never goes above max_interval
        (21600, 21600, 10800),
        (30, 60, 60),  # an interval below the bounds (settings changed) comes back inside them
        (50000, 21600, 21600),
    ],
)
def test_intervals_slower_and_faster(interval: int, slower: int, faster: int) -> None:
    assert BOUNDS.slower(interval) == slower
    assert BOUNDS.faster(interval) == faster


@pytest.mark.parametrize(
    ("interval", "failures", "backoff"),
    [
        (300, 1, 600),
        (300, 2, 1200),
        (300, 6, 19200),
        (300, 7, 21600),  # capped at max_interval
        (60, 100, 21600),  # the exponent stops at 16: no huge integers
    ],
)
def test_backoff_doubles_per_failure_up_to_max_interval(interval: int, failures: int, backoff: int) -> None:
    assert BOUNDS.backoff(interval, failures) == backoff


def test_next_check_is_now_plus_the_interval() -> None:
    assert next_check(90, T0) == T0 + timedelta(seconds=90)


@pytest.mark.parametrize(
    ("created", "changed", "woken", "dormant"),
    [
        (timedelta(days=31), None, None, True),
        (timedelta(days=30), None, None, False),  # exactly stop_after_days: still awake
        (timedelta(days=30, seconds=1), None, None, True),
        (timedelta(days=90), timedelta(days=2), None, False),  # changed lately
        (timedelta(days=90), timedelta(days=60), timedelta(days=1), False),  # woken by /track lately
        (timedelta(days=90), timedelta(days=1), timedelta(days=60), False),  # the later of the two counts
        (timedelta(days=90), timedelta(days=45), timedelta(days=31), True),
    ],
)
def test_dormancy(
    created: timedelta, changed: timedelta | None, woken: timedelta | None, dormant: bool
) -> None:
    assert (
        is_dormant(
            T0,
            created_at=T0 - created,
            last_changed_at=None if changed is None else T0 - changed,
            woken_at=None if woken is None else T0 - woken,
            stop_after_days=30,
        )
        is dormant
    )


def snap(title: str, *paragraphs: str) -> Snapshot:
    return Snapshot(title=title, paragraphs=tuple(paragraphs))


@pytest.mark.parametrize(
    ("old", "new", "shrunk"),
    [
        (snap("T" * 10, "a" * 990), snap("T" * 10, "a" * 389), True),  # 399 < 0.4 × 1000
        (snap("T" * 10, "a" * 990), snap("T" * 10, "a" * 390), False),  # 400: not below
        (snap("T" * 10, "a" * 389), snap("T", "a"), False),  # 399: too short to judge
        (snap("T" * 10, "a" * 390), snap("T", "a"), True),  # 400: long enough
        (snap("T" * 10, "a" * 990), snap("T" * 10, "a" * 2000), False),  # grew
    ],
)
def test_shrank(old: Snapshot, new: Snapshot, shrunk: bool) -> None:
    assert shrank(old, new) is shrunk


def test_text_size_counts_headline_and_paragraphs() -> None:
    assert text_size(snap("abc", "de", "f")) == 6


@pytest.mark.parametrize(
    ("new_hash", "last_hash", "last_count", "checks", "expected"),
    [
        ("h1", None, 0, 3, Shrink(1, withdrawn=False)),  # first sighting
        ("h1", "h1", 1, 3, Shrink(2, withdrawn=False)),
        ("h1", "h1", 2, 3, Shrink(3, withdrawn=True)),  # seen withdrawal_checks times in a row
        ("h2", "h1", 2, 3, Shrink(1, withdrawn=False)),  # another shrunk text starts again
        ("h1", None, 0, 1, Shrink(1, withdrawn=True)),  # withdrawal_checks = 1: at once
    ],
)
def test_shrink_seen(
    new_hash: str, last_hash: str | None, last_count: int, checks: int, expected: Shrink
) -> None:
    assert shrink_seen(new_hash, last_hash, last_count, checks) == expected


@pytest.mark.parametrize(
    ("kind", "announced"),
    [
        (EventKind.EDIT, True),
        (EventKind.REVERT, True),
        (EventKind.AB_TEST, True),
        (EventKind.AB_FLIP, False),
    ],
)
def test_what_an_event_means(kind: EventKind, announced: bool) -> None:
    assert announces(Event(kind=kind)) is announced


@pytest.mark.parametrize(("failures", "told"), [(1, False), (3, False), (4, True), (5, False)])
def test_a_temporary_failure_is_told_once(failures: int, told: bool) -> None:
    assert notice_due(failures, failures_before_notice=4) is told


def test_outcomes_keep_their_stored_names() -> None:
    """The check counts table stores these strings: renaming one loses its history."""
    assert [o.value for o in Outcome] == [
        "not_modified",
        "body_same",
        "fingerprint_same",
        "same",
        "noise",
        "changed",
        "shrunk",
        "failed",
        "gone",
        "dormant",
    ]
