"""bot.core.watchwords: parsing "words:" and matching changed words. One row per case."""

from __future__ import annotations

import pytest

from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.core.watchwords import (
    MAX_WORD_CHARS,
    MAX_WORDS,
    changed_words,
    edit_matters,
    fold,
    matches,
    split_watchwords,
)


@pytest.mark.parametrize(
    ("arguments", "rest", "words", "marked"),
    [
        ("https://x.com/a words: Putin, sanctions", "https://x.com/a", ("Putin", "sanctions"), True),
        ("https://x.com/a Words:Putin,sanctions", "https://x.com/a", ("Putin", "sanctions"), True),
        ("https://x.com/a word: White  House", "https://x.com/a", ("White House",), True),
        ("https://x.com/a words: Putin, putin, PUTÍN, , ", "https://x.com/a", ("Putin",), True),
        ("https://x.com/a words:", "https://x.com/a", (), True),
        ("https://x.com/a", "https://x.com/a", (), False),
        ("https://x.com/?q=words:a", "https://x.com/?q=words:a", (), False),  # inside the URL
        ("words: a.b (c)", "", ("a.b (c)",), True),
        ("https://x.com/a 7 days words: 普京, 制裁", "https://x.com/a 7 days", ("普京", "制裁"), True),
    ],
)
def test_split_watchwords(arguments: str, rest: str, words: tuple[str, ...], marked: bool) -> None:
    parsed = split_watchwords(arguments)
    assert (parsed.rest, parsed.words, parsed.marked) == (rest, words, marked)


def test_limits() -> None:
    many = split_watchwords("u words: " + ", ".join(f"w{i}" for i in range(MAX_WORDS + 1)))
    assert many.too_many and not split_watchwords("u words: a, b").too_many
    long = "x" * (MAX_WORD_CHARS + 1)
    assert split_watchwords(f"u words: a, {long}").too_long == long
    assert split_watchwords("u words: a").too_long is None


@pytest.mark.parametrize(
    ("words", "text", "expected"),
    [
        (["Putin"], "Vladimir PUTIN cancels", True),  # case
        (["putin"], "Vladimir Putín cancels", True),  # accent in the text
        (["Putín"], "Vladimir Putin cancels", True),  # accent in the word
        (["Erdoğan"], "ERDOGAN says", True),
        (["Straße"], "STRASSE closed", True),  # casefold, not lower
        (["Ｐｕｔｉｎ"], "Putin", True),  # full-width
        (["finance"], "the ﬁnance minister", True),  # ligature
        (["Россия"], "РОССИЯ ввела санкции", True),  # Cyrillic
        (["制裁"], "美国宣布对俄罗斯实施新制裁", True),  # CJK: substrings, no word boundaries
        (["ソウル"], "ソウル市長", True),
        (["u.s."], "The U.S. said", True),  # punctuation is literal
        (["u.s."], "The US said", False),
        (["a.c"], "abc", False),  # never a regular expression
        (["(Iran"], "sanctions (Iran) hold", True),
        (["[a-z]+"], "anything", False),
        (["White House"], "the white   house said", True),  # whitespace runs are one
        (["sanctions"], "Putin cancels Paris visit", False),
        ([], "anything", True),  # no watchwords: everything matters
        (["put", "zzz"], "Putin", True),  # plain substrings, any of them
    ],
)
def test_matches(words: list[str], text: str, expected: bool) -> None:
    assert matches(words, text) is expected


def test_fold() -> None:
    assert fold("  Ünïcödé\tＰＵＴＩＮ  ") == "unicode putin"


OLD = Snapshot(
    title="Putin postpones Paris talks on Syria",
    paragraphs=("The Kremlin said on Tuesday that sanctions would stay.", "Hollande was ready to meet."),
)


@pytest.mark.parametrize(
    ("new", "words", "expected"),
    [
        # The headline's changed words: "postpones" → "cancels".
        (Snapshot(title="Putin cancels Paris talks on Syria", paragraphs=OLD.paragraphs), ["cancel"], True),
        # "Putin" is in the headline but did not change: not this chat's edit.
        (Snapshot(title="Putin cancels Paris talks on Syria", paragraphs=OLD.paragraphs), ["Putin"], False),
        # A removed paragraph counts whole.
        (Snapshot(title=OLD.title, paragraphs=OLD.paragraphs[1:]), ["SANCTIONS"], True),
        # An added one too.
        (
            Snapshot(title=OLD.title, paragraphs=(*OLD.paragraphs, "New sanctions on Gazprom.")),
            ["gazprom"],
            True,
        ),
        (
            Snapshot(title=OLD.title, paragraphs=(*OLD.paragraphs, "New sanctions on Gazprom.")),
            ["Hollande"],
            False,
        ),
    ],
)
def test_edit_matters_on_changed_words_only(new: Snapshot, words: list[str], expected: bool) -> None:
    changes = diff_snapshots(OLD, new)
    assert changes, "the rows are edits"
    assert edit_matters(words, changes) is expected
    assert edit_matters([], changes) is True


def test_runs_are_matched_apart() -> None:
    new = Snapshot(title="Putin cancels Paris talks on Syria", paragraphs=("Hollande was ready to meet.",))
    runs = changed_words(diff_snapshots(OLD, new))
    assert runs and all("\n" not in r for r in runs)
