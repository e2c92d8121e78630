"""diff_snapshots(): alignment, word-level segments, substantive or not, sensitivity, summary."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.diff import (
    Change,
    Segment,
    diff_snapshots,
    for_sensitivity,
    is_substantive,
    summarize,
    tokenize,
    word_diff,
)
from bot.core.extract import Snapshot, extract
from bot.core.normalize import comparison_form
from tests.corpus import fixture_html

P = (
    "The council approved the budget on Monday after a long debate.",
    "Opposition members said the plan would cut services for older residents.",
    "The mayor called the vote a turning point for the city's finances.",
    "A final reading is expected next month, officials said.",
)


def snap(*paragraphs: str, title: str = "Council approves budget") -> Snapshot:
    return Snapshot(title, tuple(paragraphs))


def kinds(changes: list[Change]) -> list[tuple[str, int | None, int | None]]:
    return [(c.kind, c.old_index, c.new_index) for c in changes]


def deleted(c: Change) -> str:
    return "".join(s.text for s in c.segments if s.op == "delete")


def inserted(c: Change) -> str:
    return "".join(s.text for s in c.segments if s.op == "insert")


# --------------------------------------------------------------------------------------------
# Paragraph alignment: one row per situation
# --------------------------------------------------------------------------------------------

NEW_TOP = "Update: the council later postponed the final reading until June."
# One paragraph as a desk rewrites it: same name, number and facts, new wording and order.
KOWALSKA = "Mayor Anna Kowalska said the budget would cut 240 jobs in the parks department by next spring."
REWORDED = (
    "By next spring 240 parks department jobs will go under the budget, according to Mayor Anna Kowalska."
)
SAME_NAME = (
    "Mayor Anna Kowalska will travel to Brussels on Thursday to meet European officials about flood funding."
)
ALIGNMENT = [
    pytest.param(snap(*P), snap(*P), [], id="identical"),
    pytest.param(snap(*P), snap(*(p.replace(" ", "  ") + " " for p in P)), [], id="whitespace-only"),
    pytest.param(
        snap(*P),
        snap(P[0], P[1], P[2].replace("city's", "city’s"), P[3]),
        [],
        id="apostrophe-style-only",
    ),
    pytest.param(snap(*P), snap(NEW_TOP, *P), [("added", None, 0)], id="insert-at-top-is-not-all-edited"),
    pytest.param(snap(*P), snap(P[0], P[2], P[3]), [("removed", 1, None)], id="removed"),
    pytest.param(
        snap(*P),
        snap(P[0], P[1].replace("older residents", "young families"), P[2], P[3]),
        [("edited", 1, 1)],
        id="edited",
    ),
    pytest.param(
        snap(*P),
        snap(P[0], "Nothing in this sentence resembles what it replaced, at all.", P[2], P[3]),
        [("removed", 1, None), ("added", None, 1)],
        id="replaced-by-unrelated",
    ),
    pytest.param(snap(P[0], P[1] + " " + P[2], P[3]), snap(*P), [("split", 1, 1)], id="split"),
    pytest.param(
        snap(P[0], P[1] + " " + P[2], P[3]),
        snap(P[0], P[1], P[2].replace("turning point", "milestone"), P[3]),
        [("split", 1, 1)],
        id="split-with-edit",
    ),
    pytest.param(
        snap(*P),
        snap(P[0], P[1] + " " + P[2], P[3]),
        [("merged", 1, 1)],
        id="merged",
    ),
    pytest.param(snap(*P), snap(P[0], P[2], P[3], P[1]), [("moved", 1, 3)], id="moved"),
    pytest.param(
        snap(P[0], KOWALSKA, P[2], P[3]),
        snap(P[0], REWORDED, P[2], P[3]),
        [("edited", 1, 1)],
        id="reworded-in-place",
    ),
    pytest.param(
        snap(P[0], KOWALSKA, P[2], P[3]),
        snap(P[0], P[2], P[3], REWORDED),
        [("edited", 1, 3)],
        id="reworded-and-moved",
    ),
    pytest.param(
        snap(P[0], KOWALSKA, P[2], P[3]),
        snap(P[0], P[2], P[3], SAME_NAME),
        [("removed", 1, None), ("added", None, 3)],
        id="same-name-other-story-is-not-reworded",
    ),
    pytest.param(
        snap(*P),
        snap(P[0], P[1].replace("older", "elderly"), NEW_TOP, P[2], P[3]),
        [("edited", 1, 1), ("added", None, 2)],
        id="edit-and-insert-in-one-block",
    ),
    pytest.param(
        snap(*P),
        snap(P[1], P[2], P[3], title="Council rejects budget"),
        [("headline", None, None), ("removed", 0, None)],
        id="headline-first-then-paragraphs",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), ALIGNMENT)
def test_alignment(old: Snapshot, new: Snapshot, expected: list[tuple[str, int, int]]) -> None:
    assert kinds(diff_snapshots(old, new)) == expected


def test_rewrite_fixture_pairs_reworded_paragraphs_as_edits() -> None:
    """tests/fixtures/desk_rewrite_v*.html: the Guardian corpus story as a desk updates it (new
    headline, top three paragraphs reworded, two new paragraphs, a quote dropped, the last
    paragraph edited in place). Before pairing by shared words the top three read as three
    removed + three added paragraphs."""
    old = extract(fixture_html("desk_rewrite_v1.html"))
    new = extract(fixture_html("desk_rewrite_v2.html"))
    changes = diff_snapshots(old, new)
    assert kinds(changes) == [
        ("headline", None, None),
        ("edited", 0, 0),
        ("edited", 1, 1),
        ("edited", 2, 2),
        ("added", None, 3),
        ("added", None, 10),
        ("removed", 10, None),
        ("edited", 13, 14),
    ]
    assert changes[6].old.startswith("“UCEA has over recent years")


def test_split_and_merge_carry_their_spans() -> None:
    old = snap(*P)
    split = diff_snapshots(snap(P[0], P[1] + " " + P[2], P[3]), old)[0]
    assert (split.old_count, split.new_count) == (1, 2)
    assert split.new == P[1] + "\n" + P[2]
    assert not split.substantive
    merged = diff_snapshots(old, snap(P[0], P[1] + " " + P[2], P[3]))[0]
    assert (merged.old_count, merged.new_count) == (2, 1)
    assert not merged.substantive  # same words, new paragraphing


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            snap(P[0], P[2], P[3] + " More.", NEW_TOP),
            [("removed", 1, None), ("edited", 3, 2), ("added", None, 3)],
        ),
        (
            snap(P[0], P[1].replace("older", "elderly"), P[3]),
            [("edited", 1, 1), ("removed", 2, None)],
        ),
    ],
)
def test_removed_paragraph_sorts_where_it_was(new: Snapshot, expected: list) -> None:
    assert kinds(diff_snapshots(snap(*P), new)) == expected


# --------------------------------------------------------------------------------------------
# Word diff
# --------------------------------------------------------------------------------------------

WORDS = [
    pytest.param(
        "Vladimir Putin postpones Paris talks on Syria",
        "Vladimir Putin cancels Paris visit amid Syria row",
        ["postpones", "talks on"],
        ["cancels", "visit amid", "row"],
        id="headline-story",
    ),
    pytest.param(
        "外国专家：中美合作共赢符合国际社会利益",
        "外国专家：中美合作共赢符合世界各国利益",
        ["国际社会"],
        ["世界各国"],
        id="chinese-per-character",
    ),
    pytest.param(
        "子どもへの体罰を禁止する法律ができる",
        "子どもへの体罰を禁止する法律が成立",
        ["できる"],
        ["成立"],
        id="japanese",
    ),
    pytest.param(
        "ผล DNA ยืนยัน ศพลอยแม่น้ำโขง",
        "ผลตรวจ DNA ยืนยัน ศพลอยแม่น้ำโขง",
        [],
        ["ตรวจ"],
        id="thai-clusters",
    ),
    pytest.param(
        "ولم ترد تقارير حول الخسائر البشرية",
        "ولم ترد حتى الآن تقارير حول الخسائر البشرية",
        [],
        ["حتى الآن"],
        id="arabic-rtl",
    ),
    pytest.param(
        "Президент отложил визит в Париж",
        "Президент отменил визит в Париж",
        ["отложил"],
        ["отменил"],
        id="cyrillic",
    ),
    pytest.param(
        "열정과 소통, 초일류 기업",
        "열정과 혁신, 초일류 기업",
        ["소통"],
        ["혁신"],
        id="korean-words",
    ),
    pytest.param(
        "caseload is nearly 162,000, of whom 7,844 died",
        "caseload is now more than 170,000, of whom 7,844 died",
        ["nearly 162,000"],
        ["now more than 170,000"],
        id="numbers-stay-whole",
    ),
]


@pytest.mark.parametrize(("old", "new", "gone", "added"), WORDS)
def test_word_diff(old: str, new: str, gone: list[str], added: list[str]) -> None:
    segments = word_diff(old, new)
    dels = [s.text.strip() for s in segments if s.op == "delete"]
    ins = [s.text.strip() for s in segments if s.op == "insert"]
    assert dels == gone
    assert ins == added
    # nothing folded to ASCII: the segments are made of the original characters
    assert "".join(s.text for s in segments if s.op != "insert").replace(" ", "") == old.replace(" ", "")


def test_adjacent_changed_words_form_one_run() -> None:
    segments = word_diff("the quick brown fox jumps", "the slow red fox jumps")
    assert segments == (
        Segment("equal", "the"),
        Segment("delete", " quick brown"),
        Segment("insert", " slow red"),
        Segment("equal", " fox jumps"),
    )


def test_tiny_islands_between_changes_are_absorbed() -> None:
    segments = word_diff("He sold a car to Anna", "She bought a bike from Anna")
    assert [s.op for s in segments] == ["delete", "insert", "equal"]


def test_tokenize_scripts() -> None:
    assert tokenize("don't stop Covid-19 at 18,4%") == [
        "don't",
        "stop",
        "Covid-19",
        "at",
        "18,4",
        "%",
    ]
    assert tokenize("中文字") == ["中", "文", "字"]
    assert tokenize("👍🏽 ok") == ["👍🏽", "ok"]


# --------------------------------------------------------------------------------------------
# Substantive or not
# --------------------------------------------------------------------------------------------

SUBSTANTIVE = [
    ("The Goverment said no.", "The Government said no.", False),  # one-letter typo
    ("He said no", "He said no.", False),  # punctuation
    ("He said: no", "He said, no", False),
    ("the president said", "the President said", False),  # case
    ("Officals recieved the report", "Officials received the report", False),  # two typos
    ("It is now over", "It is not over", True),  # short word: meaning flips
    ("He will resign.", "He will resign?", True),  # question mark
    ("killing at least 19 people", "killing at least 21 people", True),  # digit
    ("18,4 grados", "18,3 grados", True),
    ("有英勇的你", "因为有英勇的你", True),  # one CJK character is a word
    ("He praised the plan", "He criticised the plan", True),
]


@pytest.mark.parametrize(("old", "new", "expected"), SUBSTANTIVE)
def test_is_substantive(old: str, new: str, expected: bool) -> None:
    assert is_substantive(old, new) is expected


def test_typo_fix_is_reported_but_not_substantive() -> None:
    changes = diff_snapshots(snap(*P), snap(P[0], P[1].replace("residents", "residnets"), *P[2:]))
    assert kinds(changes) == [("edited", 1, 1)]
    assert not changes[0].substantive
    assert for_sensitivity(changes, "substantive") == []
    assert for_sensitivity(changes, "everything") == changes


# --------------------------------------------------------------------------------------------
# Sensitivity and summary
# --------------------------------------------------------------------------------------------

HEAD = Change("headline", None, None, "A", "B", (), True)
EDIT = Change("edited", 1, 1, "x y", "x z", (), True)
TYPO = Change("edited", 2, 2, "speling", "spelling", (), False)
ADD = Change("added", None, 3, "", "new", (), True)
REM = Change("removed", 4, None, "old", "", (), True)


@pytest.mark.parametrize(
    ("sensitivity", "expected"),
    [
        ("headline", [HEAD]),
        ("substantive", [HEAD, EDIT, ADD]),
        ("everything", [HEAD, EDIT, TYPO, ADD]),
    ],
)
def test_for_sensitivity(sensitivity: str, expected: list[Change]) -> None:
    assert for_sensitivity([HEAD, EDIT, TYPO, ADD], sensitivity) == expected


def test_unknown_sensitivity_is_an_error() -> None:
    with pytest.raises(ValueError):
        for_sensitivity([HEAD], "loud")


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ([HEAD], "headline changed"),
        ([EDIT, TYPO, ADD], "2 paragraphs edited, 1 added"),
        ([HEAD, REM], "headline changed, 1 paragraph removed"),
        ([ADD], "1 paragraph added"),
        ([], "no changes"),
    ],
)
def test_summarize(changes: list[Change], text: str) -> None:
    assert summarize(changes) == text


# --------------------------------------------------------------------------------------------
# Fixtures end to end (extract → diff)
# --------------------------------------------------------------------------------------------


def test_headline_story_from_html() -> None:
    changes = diff_snapshots(
        extract(fixture_html("article_v1.html")), extract(fixture_html("article_v2.html"))
    )
    assert [c.kind for c in changes] == ["headline", "edited"]
    head, lede = changes
    assert deleted(head).split() == ["postpones", "talks", "on"]
    assert "cancels" in inserted(head) and "row" in inserted(head)
    assert lede.new_index == 0 and lede.substantive


@pytest.mark.parametrize(
    ("a", "b"),
    [("article_v1.html", "article_noise.html"), ("stamps_v1.html", "stamps_noise.html")],
)
def test_noise_only_pages_give_no_changes(a: str, b: str) -> None:
    assert diff_snapshots(extract(fixture_html(a)), extract(fixture_html(b))) == []


@pytest.mark.parametrize(
    ("a", "b", "gone", "added"),
    [
        ("zh_title_only.html", "zh_title_only_v2.html", "多", "约"),
        ("ar_article.html", "ar_article_v2.html", "", "حتى الآن"),
    ],
)
def test_cjk_and_rtl_pages(a: str, b: str, gone: str, added: str) -> None:
    changes = diff_snapshots(extract(fixture_html(a)), extract(fixture_html(b)))
    assert [c.kind for c in changes] == ["headline", "edited"]
    edit = changes[1]
    assert deleted(edit).strip() == gone
    assert inserted(edit).strip() == added


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

ALPHABET = st.sampled_from(list("abc xyz XY .,?!'\"“”—-0123456789 中文字日本語 ไทยที่ عربي кирилл 👍🏽 \u00a0"))
TEXTS = st.text(ALPHABET, max_size=60)


def _squash(text: str) -> str:
    return "".join(comparison_form(text).split())


@settings(max_examples=300, deadline=None)
@given(TEXTS, TEXTS)
def test_segments_rebuild_both_texts(old: str, new: str) -> None:
    segments = word_diff(old, new)
    rebuilt_old = "".join(s.text for s in segments if s.op != "insert")
    rebuilt_new = "".join(s.text for s in segments if s.op != "delete")
    assert _squash(rebuilt_old) == _squash(old)
    assert _squash(rebuilt_new) == _squash(new)
    ops = [s.op for s in segments]
    assert all(not (a == b == "equal") for a, b in itertools.pairwise(ops))


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXTS, max_size=8), st.lists(TEXTS, max_size=8))
def test_diff_never_crashes_and_is_empty_on_equal(a: list[str], b: list[str]) -> None:
    old, new = Snapshot("t", tuple(a)), Snapshot("t", tuple(b))
    diff_snapshots(old, new)
    assert diff_snapshots(old, old) == []


def test_large_rewrite_stays_fast() -> None:
    words = [f"w{i}" for i in range(60)]
    old = Snapshot("t", tuple(" ".join(words[(i * 7 + k) % 60] for k in range(40)) for i in range(300)))
    new = Snapshot("t", tuple(p.replace("w1 ", "W1 ") for p in old.paragraphs))
    start = time.perf_counter()
    changes = diff_snapshots(old, new)
    assert changes and time.perf_counter() - start < 5
