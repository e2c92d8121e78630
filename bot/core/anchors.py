"""The parts of a paragraph a reader holds on to: numbers, names, quoted words, negations.

Shared by the diff (a reworded paragraph that keeps its names, numbers or quotes is the same
paragraph) and by significance (a changed number or a removed quote is what a reader cares
about). Pure: text in, sets of strings out.
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
QUOTE = re.compile(r"[\"“”„«»「」『』‘’‹›]")
# A quotation in the comparison form, where every double-quote variant is '"'.
QUOTED = re.compile(r'"([^"]{8,})"')
# Two or more capitalised words in a row (Latin, Cyrillic, Greek): "François Hollande",
# "Mayor Anna Kowalska", "United Nations". A lone capital is too often a sentence start, an
# adjective ("French") or a place that is still there in other words ("the Kremlin").
CAPITALISED = r"[A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω][\w'’-]+"
NAME = re.compile(rf"{CAPITALISED}(?:\s+{CAPITALISED})+")
# Capitalised but not part of a name: "On Tuesday Angela Merkel" names Angela Merkel only.
NOT_NAMES = frozenset(
    {
        *("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        *("January", "February", "March", "April", "May", "June", "July", "August"),
        *("September", "October", "November", "December", "I", "The", "A", "An", "In", "On"),
        *("At", "But", "And", "If", "When", "While", "After", "Before", "As", "This", "That"),
    }
)
# Words that turn a statement into its opposite ("will" → "will not"), in the corpus's
# languages with spaces between words; CJK negations are single characters.
NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|nicht|kein\w*|nie|niemals|ne|pas|jamais|"
    r"aucun\w*|nunca|nada|ningun\w*|não|nem|non|mai|nessun\w*|ei|eivät|nav|нет|не|ни|لا|لم|لن|ليس)\b"
    r"|n't\b|[不没沒未非無无別别]|않|안|못|ไม่",
    re.IGNORECASE,
)


def names(text: str) -> set[str]:
    """The multi-word names in ``text``, without the calendar and function words around them."""
    found = set()
    for match in NAME.finditer(text):
        words = [w for w in match.group().split() if w not in NOT_NAMES]
        if len(words) >= 2:
            found.add(" ".join(words))
    return found


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def quotations(comparison_text: str) -> set[str]:
    """Quoted passages of a text already in comparison form (quotes folded to '"')."""
    return {q.strip().casefold() for q in QUOTED.findall(comparison_text)}


def negations(text: str) -> list[str]:
    return [m.casefold() for m in NEGATION.findall(text)]
