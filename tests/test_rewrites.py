"""Real rewrites read in one glance: the share of a person's list of changes each announcement
shows, on real revision pairs of news stories (tests/fixtures/rewrites, sources in SOURCES).

The set lives in the repository, so nothing here can be absent: the test never skips.
"""

from __future__ import annotations

import re

from benchmarks.rewrites import REWRITES, Marked, evaluate, load_pairs, shows, unified_baseline
from bot.core.extract import Snapshot
from bot.messages.limits import MAX_ENTITIES, count_entities, visible_len

# What Redline reached on the set (88 of 137 marked changes) when the digest learned to choose
# by what changed; the floor the issue asks for is 0.6. A change that lowers it must say why.
# 87 since the header says "— unannounced edit" (issue 15: "— silent edit" reads in Telegram as
# "sent without sound"): 5 characters more leave one pair's 1000-character budget one change short.
REACHED = 87


def test_the_set_is_thirty_real_pairs_each_with_its_source_and_marks() -> None:
    pairs = load_pairs()
    sources = (REWRITES / "SOURCES").read_text(encoding="utf-8")
    assert len(pairs) >= 30
    for pair in pairs:
        assert re.search(rf"^{re.escape(pair.slug)}\s+(captured|live|diffpage)\s+\S", sources, re.M), (
            pair.slug
        )
        assert pair.old.paragraphs and pair.new.paragraphs and pair.changes
        for marked in pair.changes:
            # a key names what changed: it is in one version and not the other
            assert all(
                shows(" ".join([pair.old.title, *pair.old.paragraphs]), Marked("", (k,)))
                != shows(" ".join([pair.new.title, *pair.new.paragraphs]), Marked("", (k,)))
                for k in marked.keys
            ), (pair.slug, marked.what)


def test_real_rewrites_show_most_of_what_changed_within_the_budget() -> None:
    result = evaluate()
    shown = sum(len(s.shown) for s in result.scored)
    assert shown >= REACHED, f"{shown}/{result.marked} marked changes shown (was {REACHED})"
    assert result.redline >= 0.6
    assert result.redline > 2 * result.baseline  # a unified diff cut to the same length
    for s in result.scored:
        assert visible_len(s.message) <= 1000, s.pair.slug
        assert count_entities(s.message) <= MAX_ENTITIES, s.pair.slug


def test_a_key_counts_only_as_a_whole_word() -> None:
    assert shows("the toll rose to 13 on Tuesday", Marked("toll 9 → 13", ("13",)))
    assert not shows("in 2013 the toll was 9", Marked("toll 9 → 13", ("13",)))
    assert not shows("Ban Ki-moon", Marked("two keys", ("Ban Ki-moon", "statement")))


def test_the_baseline_is_a_unified_diff_cut_to_the_same_length() -> None:
    old = Snapshot("Toll rises to 9", ("Nine people died.", "Rescue goes on."))
    new = Snapshot("Toll rises to 13", ("Thirteen people died.", "Rescue goes on."))
    full = unified_baseline(old, new, 10_000)
    assert full.endswith(
        "-Toll rises to 9\n-Nine people died.\n+Toll rises to 13\n+Thirteen people died.\n Rescue goes on."
    )
    assert unified_baseline(old, new, 40) == full[:40]
