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

__all__ = ["CarrierSwitch", "announceable", "carrier_switch"]


class CarrierSwitch(StrEnum):
    SAME = "same"  # the headline came from where it always did
    ADOPTED = "adopted"  # the first carrier recorded for an article tracked before there were any
    REDESIGN = "redesign"  # the page no longer has the element: another was chosen


def carrier_switch(stored: str | None, used: str) -> CarrierSwitch:
    if stored is None:
        return CarrierSwitch.ADOPTED
    return CarrierSwitch.SAME if stored == used else CarrierSwitch.REDESIGN


def announceable(changes: list[Change], switch: CarrierSwitch) -> list[Change]:
    """``changes`` without what the switch alone would make them say.

    A redesign drops the headline change (the new element's text is no edit); an adopted
    carrier also drops the search/social title's, which older versions did not record.
    """
    if switch is CarrierSwitch.SAME:
        return changes
    dropped = ("headline",) if switch is CarrierSwitch.REDESIGN else ("headline", "search_title")
    return [c for c in changes if c.kind not in dropped]
