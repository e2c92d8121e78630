"""Telegram's limits on one message, defined and measured here only.

Telegram counts a message's length after parsing its entities (the text a reader sees), in
UTF-16 code units (an emoji outside the BMP counts 2), and keeps at most 100 formatting
entities, silently dropping the formatting past the 100th. Every message Redline writes —
announcements, replies, a coalesced "Earlier:" update — is checked with ``fits``.
"""

from __future__ import annotations

import html
import re

__all__ = [
    "DEFAULT_BUDGET",
    "MAX_ENTITIES",
    "MAX_LENGTH",
    "count_entities",
    "fits",
    "truncate",
    "utf16_len",
    "visible_len",
    "visible_text",
]

MAX_LENGTH = 4096  # Telegram's limit, in UTF-16 code units of the visible text
MAX_ENTITIES = 100  # Telegram drops formatting entities past the 100th
# What a reader sees of an announcement at most (the default of telegram.max_announcement_chars):
# one phone screen. 4096 stays the hard limit, for /diff.
DEFAULT_BUDGET = 1000
_TAGS = ("b", "s", "a", "i", "code")
_TAG = re.compile(r"<[^>]+>")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(message: str) -> str:
    """What a reader sees of a message we rendered (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", message))


def visible_len(message: str) -> int:
    """Characters a reader sees of a message we rendered (the budget's measure)."""
    return len(visible_text(message))


def count_entities(message: str) -> int:
    """Formatting entities in a message we rendered (one per opening tag)."""
    return sum(message.count(f"<{t}>") + message.count(f"<{t} ") for t in _TAGS)


def truncate(text: str, limit: int = MAX_LENGTH) -> str:
    """The longest start of plain ``text`` within ``limit`` UTF-16 units (an emoji is never
    cut in half)."""
    if utf16_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def fits(message: str, html: bool = True, *, source: bool = False) -> bool:
    """True when Telegram takes ``message`` whole: at most 4096 UTF-16 units as the reader
    sees it and, in HTML, at most 100 entities. With ``source`` the HTML itself must also be
    within 4096 units: the announcement renderer has always cut there, and its texts stay."""
    if not html:
        return utf16_len(message) <= MAX_LENGTH
    if source and utf16_len(message) > MAX_LENGTH:
        return False
    return utf16_len(visible_text(message)) <= MAX_LENGTH and count_entities(message) <= MAX_ENTITIES
