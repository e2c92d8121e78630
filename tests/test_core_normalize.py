"""Text forms: the shortcuts taken for speed give what their definitions give."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.core.normalize import comparison_form, loose_form

# What the comparison form folds or drops, and what NFKC and casefold change.
_SPECIAL = (
    "\u200b\u2060\ufeff\u00ad\u180e\u200c\u200d"  # invisible
    "\u201c\u201d\u201e\u00ab\u00bb\u2033\u301d\uff02\u2018\u2019\u201a\u2039\u2032\u02bc\u0060\u00b4"
    "\u2010\u2011\u2013\u2014\u2212\ufe58\uff0d"  # quotes and dashes
    " \n\t\u3000\u00a0"  # spaces
    "eE\u00e9\u0301\u00dfΣσς漢字カナ한국ＡＢ①ﬁ_.,-'\"1"
)


def _by_definition(text: str) -> str:
    return re.sub(r"[\W_]+", "", comparison_form(text).casefold())


@given(st.text(alphabet=st.sampled_from(_SPECIAL), max_size=30) | st.text(max_size=30))
def test_loose_form_is_the_comparison_form_casefolded_without_punctuation(text: str) -> None:
    assert loose_form(text) == _by_definition(text)


def test_a_modifier_letter_apostrophe_goes_like_any_apostrophe() -> None:
    """U+02BC is a letter to regular expressions; the comparison form folds it to "'"."""
    assert loose_form("Hawaiʼi") == loose_form("Hawai'i") == "hawaii"
