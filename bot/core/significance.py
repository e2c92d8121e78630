"""What kind of edit this is, said first: a reader skims the first line and decides.

Pure: it looks only at the changes. "A number changed" catches casualties, money and dates;
"a quote removed" and "a name removed" catch the edits press-freedom researchers look for;
"declared" tells a correction the publisher owned up to from a silent one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.core.anchors import NAME, NUMBER, QUOTE, names, negations
from bot.core.diff import Change

DECLARED = re.compile(
    r"^\s*(correction|corrections|clarification|update[ds]?|editor[’']?s note|this (story|article) "
    r"(has been|was) (updated|corrected|amended)|an earlier version of this|berichtigung|korrektur|"
    r"aktualisiert|rectificatif|mise à jour|corrección|fe de errores|actualización|atualização|"
    r"errata)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Significance:
    tags: tuple[str, ...]  # what matters beyond the paragraph counts, most important first
    declared: str | None  # the publisher's note, cut short, when it declared the edit


def _deleted_and_inserted(c: Change) -> tuple[str, str]:
    if c.segments:
        deleted = " ".join(s.text for s in c.segments if s.op == "delete")
        inserted = " ".join(s.text for s in c.segments if s.op == "insert")
        return deleted, inserted
    return c.old, c.new


# What a reader cares about most, in order; a change's weight is the sum of its reasons, so a
# changed number outranks any number of altered quotes.
WEIGHTS = {"number": 16, "quote": 8, "name": 4, "negation": 2, "lede": 1}


def reasons(c: Change) -> frozenset[str]:
    """Why this change matters: "number" (changed), "quote" (removed or altered),
    "quote removed", "name" (removed), "negation" (added or removed), "lede" (first paragraph)."""
    found: set[str] = set()
    if c.kind not in ("headline", "edited", "split", "merged"):
        if c.kind == "removed" and QUOTE.search(c.old):
            found |= {"quote", "quote removed"}
    else:
        deleted, inserted = _deleted_and_inserted(c)
        if set(NUMBER.findall(deleted)) != set(NUMBER.findall(inserted)) and (
            NUMBER.search(deleted) or NUMBER.search(inserted)
        ):
            found.add("number")
        if QUOTE.search(deleted):
            found.add("quote")
            if not QUOTE.search(inserted):
                found.add("quote removed")
        if c.kind != "headline" and any(n not in c.new for n in names(c.old)):
            found.add("name")
        if sorted(negations(deleted)) != sorted(negations(inserted)):
            found.add("negation")
    if c.kind != "headline" and 0 in (c.old_index, c.new_index):
        found.add("lede")
    return frozenset(found)


def weight(c: Change) -> int:
    """How much a reader cares about one change (see WEIGHTS); 0 for none of those reasons."""
    return sum(WEIGHTS.get(r, 0) for r in reasons(c))


def assess(changes: Sequence[Change]) -> Significance:
    tags: list[str] = []
    if any(c.kind == "headline" for c in changes):
        tags.append("headline changed")
    found = frozenset().union(*(reasons(c) for c in changes))
    if "number" in found:
        tags.append("a number changed")
    if "quote removed" in found:
        tags.append("a quote removed")
    if "name" in found:
        tags.append("a name removed")
    declared = None
    for c in changes:
        if c.kind in ("added", "edited") and DECLARED.search(c.new):
            declared = c.new if len(c.new) <= 80 else c.new[:79] + "…"
            break
    return Significance(tuple(tags), declared)


# What one changed run is worth in a digest, where the runs of many paragraphs compete for one
# phone screen: the WEIGHTS reasons, counted whether the thing was added or removed (a new
# person quoted matters as much as one dropped), plus a new sentence of reporting.
NEW_SENTENCE = 3
MAX_FACTS_WEIGHT = 40
LEDE = 16  # the lede is read first: a change there weighs what a changed number does


_SENTENCE_END = re.compile(r"[.!?…。！？]")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")  # a live page's entry stamp ("7:30 p.m."), not a fact
_QUOTATION = re.compile(r'["“„«‘]([^"“”„«»‘’]{8,})["”»’]')


@dataclass(frozen=True)
class Fact:
    """A number, name or quotation at ``start:end`` of a text; ``key`` compares it across texts."""

    start: int
    end: int
    kind: str  # "number" | "name" | "quote"
    key: str


@lru_cache(maxsize=1024)  # a digest weighs the same runs again for every length it tries
def facts(text: str) -> tuple[Fact, ...]:
    """The numbers (not clock times), multi-word names and quotations of ``text``, in order."""
    found = [
        Fact(m.start(), m.end(), "number", m.group())
        for m in NUMBER.finditer(text)
        if not _CLOCK.fullmatch(m.group())
    ]
    for m in NAME.finditer(text):
        for name in names(m.group()):
            at = text.find(name, m.start())
            found.append(Fact(at, at + len(name), "name", name))
    found += [Fact(m.start(), m.end(), "quote", m.group(1).casefold()) for m in _QUOTATION.finditer(text)]
    return tuple(sorted(found, key=lambda f: f.start))


def novel(text: str, other: str) -> list[Fact]:
    """The facts of ``text`` that ``other`` does not state: what an added paragraph brings, or
    what a removed one took away."""
    known = {(f.kind, f.key) for f in facts(other)}
    return [f for f in facts(text) if (f.kind, f.key) not in known]


@lru_cache(maxsize=1024)
def _negations(text: str) -> tuple[str, ...]:
    return tuple(sorted(negations(text)))


def salience(deleted: str, inserted: str, *, lede: bool) -> tuple[int, int]:
    """(weight, words changed): what a digest shows first of two runs competing for space. A
    whole paragraph added or removed is a run with nothing on the other side."""
    # each new or dropped fact counts, so a paragraph bringing a toll and two names outranks one
    # bringing a single date; capped so one long list does not crowd out everything else
    found = {(f.kind, f.key) for f in novel(deleted, inserted) + novel(inserted, deleted)}
    score = min(sum(WEIGHTS[kind] for kind, _ in found), MAX_FACTS_WEIGHT)
    if _negations(deleted) != _negations(inserted):
        score += WEIGHTS["negation"]
    if lede:
        score += LEDE
    words = len(inserted.split())
    if words >= 6 and _SENTENCE_END.search(inserted):
        score += NEW_SENTENCE
    return score, min(words + len(deleted.split()), 40)
