"""An outlet's record (bot.core.record): which figures an edit counts towards, one row per case,
and the 7- and 30-day windows over a site's edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.core.record import Edit, edit_kinds, outlet_record

TITLE = "Storm closes coast road"
LEDE = "Flooding closed the coastal road on Monday morning, officials said."
STAY = "Residents were told to stay indoors until the water receded."
MAYOR = 'Mayor Anna Kowalska said "we will rebuild every bridge" at a briefing.'
HOMES = "About 120 homes lost power overnight, the utility said."
BASE = Snapshot(TITLE, (LEDE, STAY, MAYOR, HOMES))


def edited(title: str = TITLE, *paragraphs: str) -> Snapshot:
    return Snapshot(title, paragraphs or BASE.paragraphs)


def replace(old: str, new: str) -> Snapshot:
    return Snapshot(TITLE, tuple(new if p == old else p for p in BASE.paragraphs))


EDITS = {
    "headline": edited("Storm shuts coast road"),
    "quote": replace(MAYOR, "Mayor Anna Kowalska spoke at a briefing."),
    "name and number": Snapshot(
        TITLE,
        (
            LEDE,
            STAY,
            'The mayor said "we will rebuild every bridge" at a briefing.',
            "About 90 homes lost power overnight, the utility said.",
        ),
    ),
    "declared": Snapshot(
        TITLE,
        (*BASE.paragraphs, "Correction: an earlier version of this article misstated the number of homes."),
    ),
    "quiet rewording": replace(STAY, "Residents were asked to stay indoors until the water receded."),
}


@pytest.mark.parametrize(
    ("edit", "kinds"),
    [
        ("headline", {"headline", "undeclared"}),
        ("quote", {"quote removed", "undeclared"}),
        ("name and number", {"name", "number", "undeclared"}),
        ("declared", set()),
        ("quiet rewording", {"undeclared"}),
    ],
)
def test_what_an_edit_counts_towards(edit: str, kinds: set[str]) -> None:
    assert edit_kinds(diff_snapshots(BASE, EDITS[edit])) == kinds


NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def an_edit(article_id: int, name: str, days_ago: float) -> Edit:
    new = EDITS[name]
    at = NOW - timedelta(days=days_ago)
    return Edit(
        article_id=article_id,
        old_number=1,
        new_number=2,
        old_at=at - timedelta(hours=1),
        new_at=at,
        title=new.title,
        new_hash=new.content_hash,
        changes=tuple(diff_snapshots(BASE, new)),
        old_paragraphs=BASE.paragraphs,
        new_paragraphs=new.paragraphs,
    )


def test_an_outlets_record_over_7_and_30_days() -> None:
    edits = [
        an_edit(5, "headline", 40),  # before both windows
        an_edit(3, "name and number", 20),
        an_edit(2, "quote", 3),
        an_edit(1, "headline", 2),
        an_edit(4, "declared", 1),
        an_edit(1, "quiet rewording", 0.5),  # the same article again
    ]
    week, month = outlet_record(edits, articles=6, now=NOW)
    figures = {
        w.days: (
            w.articles,
            w.changed,
            w.edits,
            {k: [(e.article_id, e.new_at) for e in v] for k, v in w.figures.items()},
        )
        for w in (week, month)
    }
    at = {d: NOW - timedelta(days=d) for d in (20, 3, 2, 1, 0.5)}
    assert figures[7] == (
        6,
        (2, 1, 4),
        4,
        {
            "headline": [(1, at[2])],
            "quote removed": [(2, at[3])],
            "name": [],
            "number": [],
            "undeclared": [(2, at[3]), (1, at[2]), (1, at[0.5])],
        },
    )
    assert figures[30] == (
        6,
        (3, 2, 1, 4),
        5,
        {
            "headline": [(1, at[2])],
            "quote removed": [(2, at[3])],
            "name": [(3, at[20])],
            "number": [(3, at[20])],
            "undeclared": [(3, at[20]), (2, at[3]), (1, at[2]), (1, at[0.5])],
        },
    )
