"""What kind of edit this is, said first: a reader skims the first line and decides.

Pure: it looks only at the changes. "A number changed" catches casualties, money and dates;
"a quote removed" and "a name removed" catch the edits press-freedom researchers look for;
"declared" tells a correction the publisher owned up to from a silent one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.anchors import NUMBER, QUOTE, names, negations
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
