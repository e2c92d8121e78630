"""bot.core.digest: the day's edits, most significant first. One row per ordering rule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.digest import DayChange, next_digest_at, rank_day
from bot.core.extract import Snapshot

BASE = Snapshot(
    title="Putin postpones Paris talks on Syria",
    paragraphs=(
        "The Kremlin said on Tuesday that 12 people had been detained.",
        "Hollande said: “We will not be lectured about Syria by anyone.”",
        "The cathedral opens on the banks of the Seine this month.",
    ),
)


def change(number: int, **edit: object) -> DayChange:
    after = Snapshot(
        title=str(edit.get("title", BASE.title)),
        paragraphs=tuple(edit.get("paragraphs", BASE.paragraphs)),  # type: ignore[arg-type]
    )
    return DayChange(number, 100 + number, f"article {number}", 1, 2, BASE, after)


def test_headline_then_number_then_quote_then_the_rest() -> None:
    p = list(BASE.paragraphs)
    wording = change(1, paragraphs=[p[0], p[1], "The cathedral opens on the Seine's banks this month."])
    quote = change(2, paragraphs=[p[0], p[2]])
    number = change(3, paragraphs=[p[0].replace("12", "40"), p[1], p[2]])
    headline = change(4, title="Putin cancels Paris visit amid Syria row")
    same = change(5)  # back where the day started
    ranked = rank_day([wording, quote, number, headline, same])
    assert [e.number for e in ranked] == [4, 3, 2, 1]
    assert ranked[0].tags == ("headline changed",) and ranked[0].summary == "headline changed"
    assert ranked[1].tags == ("a number changed",) and ranked[1].summary == "1 paragraph edited"
    assert ranked[2].tags == ("a quote removed",) and ranked[2].summary == "1 paragraph removed"
    assert ranked[3].tags == () and (ranked[3].old, ranked[3].new) == (1, 2)


def test_ties_keep_the_chats_order() -> None:
    h = "Putin cancels Paris visit amid Syria row"
    assert [e.number for e in rank_day([change(7, title=h), change(2, title=h)])] == [2, 7]
    assert rank_day([]) == []


@pytest.mark.parametrize(
    ("now", "minute", "expected"),
    [
        ("2026-12-07 07:59:59", 480, "2026-12-07 08:00:00"),
        ("2026-12-07 08:00:00", 480, "2026-12-08 08:00:00"),  # just sent: tomorrow
        ("2026-12-07 23:30:00", 360, "2026-12-08 06:00:00"),
        ("2026-12-31 22:00:00", 1260, "2027-01-01 21:00:00"),
    ],
)
def test_next_digest_at(now: str, minute: int, expected: str) -> None:
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert next_digest_at(at, minute) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        ("2026-12-07 06:30:00", "Europe/Berlin", "2026-12-07 07:00:00"),  # 08:00 in Berlin, winter
        ("2026-12-07 07:30:00", "Europe/Berlin", "2026-12-08 07:00:00"),
        ("2026-07-07 05:00:00", "Europe/Berlin", "2026-07-07 06:00:00"),  # summer time
        ("2026-03-28 12:00:00", "Europe/Berlin", "2026-03-29 06:00:00"),  # the night clocks go forward
        ("2026-12-07 02:00:00", "Asia/Kolkata", "2026-12-07 02:30:00"),  # a half-hour zone
        ("2026-12-07 20:00:00", "America/New_York", "2026-12-08 13:00:00"),
    ],
)
def test_next_digest_at_on_the_chats_clock(now: str, zone: str, expected: str) -> None:
    at = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert next_digest_at(at, 8 * 60, ZoneInfo(zone)) == datetime.fromisoformat(expected).replace(tzinfo=UTC)
