"""Text forms shared by extraction and diffing.

Two forms of the same text are kept apart on purpose:

* the *display* form is what a reader sees in a message: NFC, whitespace collapsed, invisible
  characters dropped, nothing else touched (no folding to ASCII, quotes and dashes as published);
* the *comparison* form decides whether two texts are "the same": it also folds compatibility
  characters (NFKC), quote and dash variants and the spaces that CJK text does not need, so a CMS
  that re-encodes “curly” quotes or swaps a hyphen for an en dash does not trigger an announcement.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Invisible characters that carry no text: zero-width space, word joiner, BOM, soft hyphen.
# ZWJ/ZWNJ are kept in the display form (emoji sequences, Persian) and dropped for comparison.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad\u180e"), None)
_INVISIBLE_CMP = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad\u180e\u200c\u200d"), None)

_QUOTES = {
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\uff02"), '"'),
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2039\u203a\u2032\u02bc\u0060\u00b4"), "'"),
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
}

# Both at once: one pass over the text (their keys are apart, and no output is a key).
_FOLD_CMP = {**_INVISIBLE_CMP, **_QUOTES}

_WS = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[\W_]+")

# Scripts written without spaces between words. Spaces next to these characters are layout,
# not text (source line breaks inside <ruby>, re-indented markup), so comparison drops them.
_NOSPACE_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK punctuation, Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half/full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions B+
)


_NOSPACE_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _NOSPACE_RANGES)
_NOSPACE = re.compile(f"[{_NOSPACE_CLASS}]")
# whitespace touching a CJK character on either side / a line break between two of them
_CJK_SPACE = re.compile(f"(?<=[{_NOSPACE_CLASS}])\\s+|\\s+(?=[{_NOSPACE_CLASS}])")
_CJK_BREAK = re.compile(f"(?<=[{_NOSPACE_CLASS}])[^\\S\\n]*\\n\\s*(?=[{_NOSPACE_CLASS}])")


def is_nospace_char(ch: str) -> bool:
    """True for Han, kana and full-width characters (not Hangul, which uses spaces)."""
    return ord(ch) >= 0x2E80 and _NOSPACE.match(ch) is not None


def has_nospace_chars(text: str) -> bool:
    return _NOSPACE.search(text) is not None


def display_form(text: str) -> str:
    """What a reader should see: NFC, single spaces, no invisible characters.

    A line break between two CJK characters is source formatting (browsers do not show it as a
    space either), so it is removed rather than turned into a space.
    """
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    if has_nospace_chars(text):
        text = _CJK_BREAK.sub("", text)
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=1024)  # a check asks for each paragraph's form in its hash, diff and pairing
def comparison_form(text: str) -> str:
    """The form two texts are compared in: equal exactly when they differ only by noise."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD_CMP)
    text = _WS.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text) if has_nospace_chars(text) else text


@lru_cache(maxsize=1024)  # one page asks for the same paragraph and headline forms many times
def loose_form(text: str) -> str:
    """Case-, punctuation- and space-free form, for "is this the same headline?" guesses.

    ``comparison_form(text).casefold()`` without its punctuation, taking only the steps of the
    comparison form that can touch a letter or digit: NFKC, and the quote folding (U+02BC, the
    modifier-letter apostrophe, is a letter). Its other steps only drop or swap spaces and
    invisible characters, which go here anyway.
    """
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold())
