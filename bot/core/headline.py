"""Which headline changes a check may announce, given where the headline was read from.

Pure. ``bot.core.extract`` reads the display headline from the element the article was tracked
with (``Snapshot.carrier``). When that changes, the headline read may change although nobody
edited it: an article tracked before carriers were recorded gets one (its stored headline may
have been a metadata title), or a redesign took the element away and another was chosen. Such
a switch is recorded, never announced as an edit.
"""

from __future__ import annotations

from enum import StrEnum

from bot.core.diff import Change
from bot.core.normalize import comparison_form

__all__ = ["CarrierSwitch", "announceable", "carrier_switch"]


class CarrierSwitch(StrEnum):
    SAME = "same"  # the headline came from where it always did
    ADOPTED = "adopted"  # the first carrier recorded for an article tracked before there were any
    REDESIGN = "redesign"  # the page no longer has the element: another was chosen


def carrier_switch(stored: str | None, used: str) -> CarrierSwitch:
    if stored is None:
        return CarrierSwitch.ADOPTED
    return CarrierSwitch.SAME if stored == used else CarrierSwitch.REDESIGN


def announceable(changes: list[Change], switch: CarrierSwitch, search_title: str = "") -> list[Change]:
    """``changes`` without what the switch alone would make them say.

    A redesign drops the headline change (the new element's text is no edit). An adopted
    carrier drops the search/social title's change (older versions did not record it) and the
    headline's when the old headline is the page's search title (``search_title``, what an
    older Redline read as the headline): the page did not change, the reading did. An old
    headline the page no longer states anywhere was edited, and is announced.
    """
    if switch is CarrierSwitch.SAME:
        return changes
    if switch is CarrierSwitch.REDESIGN:
        return [c for c in changes if c.kind != "headline"]
    return [
        c
        for c in changes
        if c.kind != "search_title"
        and not (c.kind == "headline" and comparison_form(c.old) == comparison_form(search_title))
    ]
