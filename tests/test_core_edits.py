"""Reverts and A/B headline tests, decided from the version history alone."""

from __future__ import annotations

from bot.core.diff import diff_snapshots
from bot.core.edits import EventKind, classify
from bot.core.extract import Snapshot

BODY = ("The Russian president had been due to open a cathedral in Paris.", "Talks will continue.")
A = Snapshot(title="Putin postpones Paris talks", paragraphs=BODY)
B = Snapshot(title="Putin cancels Paris visit", paragraphs=BODY)
EDITED = Snapshot(title=A.title, paragraphs=(BODY[0], "Talks will not continue."))


def row(n: int, s: Snapshot) -> tuple[int, str, str]:
    return (n, s.content_hash, s.title)


def test_a_plain_edit() -> None:
    event = classify([row(1, A)], A, EDITED, diff_snapshots(A, EDITED))
    assert event.kind == EventKind.EDIT and event.changes


def test_a_return_to_an_earlier_version_is_a_revert() -> None:
    index = [row(1, A), row(2, EDITED)]
    event = classify(index, EDITED, A, diff_snapshots(EDITED, A))
    assert event.kind == EventKind.REVERT and event.reverted_to == 1


def test_headline_alternating_twice_is_an_ab_test_then_quiet() -> None:
    # v1 A, v2 B (an edit), v3 A (a revert), then B again: an A/B test.
    assert classify([row(1, A)], A, B, diff_snapshots(A, B)).kind == EventKind.EDIT
    assert classify([row(1, A), row(2, B)], B, A, diff_snapshots(B, A)).kind == EventKind.REVERT
    index = [row(1, A), row(2, B), row(3, A)]
    event = classify(index, A, B, diff_snapshots(A, B))
    assert event.kind == EventKind.AB_TEST and event.ab_titles == (B.title, A.title)
    # From then on a flip is quiet, but a real edit during the test is still announced.
    assert (
        classify([*index, row(4, B)], B, A, diff_snapshots(B, A), event.ab_titles).kind == EventKind.AB_FLIP
    )
    flipped_and_edited = Snapshot(title=A.title, paragraphs=EDITED.paragraphs)
    event2 = classify(
        [*index, row(4, B)], B, flipped_and_edited, diff_snapshots(B, flipped_and_edited), event.ab_titles
    )
    assert event2.kind == EventKind.EDIT
    assert [c.kind for c in event2.changes] == ["edited"]
