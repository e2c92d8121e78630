"""Watchwords: only what matters to a chat.

``/track URL words: Putin, sanctions`` (and ``/follow``) keeps a few plain substrings per
subscription. They are compared case- and accent-insensitively (Unicode NFKD, combining marks
dropped, casefold) and never as regular expressions: a user's "U.S. (Iran)" means those
characters. Pure: text in, data out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.diff import Change

__all__ = [
    "MAX_WORDS",
    "MAX_WORD_CHARS",
    "Watchwords",
    "changed_words",
    "edit_matters",
    "fold",
    "matches",
    "mentions",
    "split_watchwords",
]

MAX_WORDS = 20  # per subscription
MAX_WORD_CHARS = 60
# "words:" as its own token, wherever it starts the list (any case; "word:" too).
_MARKER = re.compile(r"(?:^|\s)words?\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Watchwords:
    """A command's arguments split in two: what it names (``rest``) and its watchwords.

    ``marked``: the command said "words:" (an empty list after it is then a mistake, not
    "no filter"). ``words`` keeps the user's spelling, first occurrence of each folded form.
    """

    rest: str
    words: tuple[str, ...] = ()
    marked: bool = False

    @property
    def too_many(self) -> bool:
        return len(self.words) > MAX_WORDS

    @property
    def too_long(self) -> str | None:
        return next((w for w in self.words if len(w) > MAX_WORD_CHARS), None)


def fold(text: str) -> str:
    """The form watchwords are compared in: "Ürün", "urun" and "URUN" are one; so are the
    full-width and ligature forms NFKD maps to letters."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def split_watchwords(arguments: str) -> Watchwords:
    """ "https://x/y words: Putin, sanctions" → rest "https://x/y", words ("Putin", "sanctions").

    Words are separated by commas (a watchword may hold spaces: "White House"); blanks and
    repeats (after folding) are dropped.
    """
    found = _MARKER.search(arguments)
    if found is None:
        return Watchwords(arguments.strip())
    words: list[str] = []
    seen: set[str] = set()
    for raw in arguments[found.end() :].split(","):
        word = " ".join(raw.split())
        key = fold(word)
        if key and key not in seen:
            seen.add(key)
            words.append(word)
    return Watchwords(arguments[: found.start()].strip(), tuple(words), marked=True)


def matches(words: Sequence[str], text: str) -> bool:
    """Does ``text`` contain any of ``words`` (plain substrings, folded)? No words: everything."""
    if not words:
        return True
    folded = fold(text)
    return any(fold(w) in folded for w in words if fold(w))


def mentions(words: Sequence[str], texts: Iterable[str]) -> bool:
    """Does any of ``texts`` (a headline, a paragraph, a feed entry's summary) contain one of
    ``words``? Each text on its own, so a watchword never spans two. No words: yes."""
    return not words or any(matches(words, text) for text in texts)


def changed_words(changes: Iterable[Change]) -> tuple[str, ...]:
    """The runs of words an edit changed: the deleted and inserted runs of an edited paragraph
    or headline, the whole of an added or removed one. Each run is matched on its own, so a
    watchword never spans two unrelated changes."""
    runs: list[str] = []
    for change in changes:
        if change.segments:
            runs.extend(s.text for s in change.segments if s.op != "equal")
        else:
            runs.extend(t for t in (change.old, change.new) if t)
    return tuple(runs)


def edit_matters(words: Sequence[str], changes: Iterable[Change]) -> bool:
    """Is this edit one a chat with ``words`` is told about? No words: every edit is."""
    return not words or any(matches(words, run) for run in changed_words(changes))
