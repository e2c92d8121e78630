"""What counts as an edit for one chat: the sensitivities a chat can choose, defined once."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEFAULT_SENSITIVITY", "Sensitivity"]


class Sensitivity(StrEnum):
    """A chat's choice, stored by value in ``Chat.sensitivity`` and in button data."""

    HEADLINE = "headline"  # substantive headline changes only
    SUBSTANTIVE = "substantive"  # all but typo/punctuation fixes and pure moves
    EVERYTHING = "everything"  # every change


DEFAULT_SENSITIVITY = Sensitivity.SUBSTANTIVE
