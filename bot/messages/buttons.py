"""Inline buttons: their labels and the callback data they carry (pure).

Telegram gives a button at most 64 bytes of callback data and hands it back unchanged when
someone presses it, whenever that is: after a restart, after a group became a supergroup. So
the data names what it acts on by stable ids (the article's database id and its version
numbers, which never change), never by a chat's /list number, and every press is looked up
afresh: an article untracked or deleted meanwhile gets a clear answer, not a wrong one.

A button is ``(label, data)``; a keyboard is rows of them. The Telegram layer turns them into
``InlineKeyboardMarkup``; the outbox stores an announcement's keyboard as JSON beside its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "HISTORY_DATA",
    "LIST_DATA",
    "MAX_DATA_BYTES",
    "SETTING_DATA",
    "ArticleAction",
    "ArticlePress",
    "Button",
    "HistoryPress",
    "Keyboard",
    "ListFilter",
    "ListPress",
    "SettingPress",
    "announcement_keyboard",
    "coalesced_keyboard",
    "history_keyboard",
    "list_keyboard",
    "notice_keyboard",
    "pager",
    "parse_article",
    "parse_history",
    "parse_list",
    "parse_setting",
    "setting",
]

MAX_DATA_BYTES = 64  # Telegram refuses a button whose callback_data is longer (BUTTON_DATA_INVALID)

Button = tuple[str, str]  # (label, callback data)
Keyboard = list[list[Button]]

FULL_DIFF = "Full diff"
HISTORY = "History"
STOP_TRACKING = "Stop tracking"
PREVIOUS = "◀"
NEXT = "▶"


class ArticleAction(StrEnum):
    """What a button under an announcement does (the prefix of its data)."""

    DIFF = "ad"  # ad:<article id>:<old version>:<new version>
    HISTORY = "ah"  # ah:<article id>
    UNTRACK = "au"  # au:<article id>


class ListFilter(StrEnum):
    ALL = "all"
    CHANGED = "changed"  # edited at least once
    FAILING = "failing"  # can't be read right now, or gone


LIST_DATA = "ls"  # ls:<filter>:<page>
HISTORY_DATA = "hs"  # hs:<article id>:<page>
SETTING_DATA = "set"  # set:<key>:<value>


@dataclass(frozen=True)
class ArticlePress:
    action: ArticleAction
    article_id: int
    old: int | None = None
    new: int | None = None


@dataclass(frozen=True)
class ListPress:
    filter: ListFilter
    page: int


@dataclass(frozen=True)
class HistoryPress:
    article_id: int
    page: int


@dataclass(frozen=True)
class SettingPress:
    key: str
    value: str


def _checked(data: str) -> str:
    if not 1 <= len(data.encode()) <= MAX_DATA_BYTES:
        raise ValueError(f"callback data must be 1-{MAX_DATA_BYTES} bytes: {data!r}")
    return data


def _ints(parts: Sequence[str]) -> list[int] | None:
    return [int(p) for p in parts] if all(p.isdigit() for p in parts) else None


def announcement_keyboard(article_id: int, old: int, new: int) -> Keyboard:
    """Under an edit: the whole diff of these two versions, the history, stop tracking."""
    return [
        [
            (FULL_DIFF, _checked(f"{ArticleAction.DIFF}:{article_id}:{old}:{new}")),
            (HISTORY, _checked(f"{ArticleAction.HISTORY}:{article_id}")),
        ],
        [(STOP_TRACKING, _checked(f"{ArticleAction.UNTRACK}:{article_id}"))],
    ]


def notice_keyboard(article_id: int) -> Keyboard:
    """Under "the article is gone" or "can't be read": no diff to show, the rest stays."""
    return [
        [
            (HISTORY, _checked(f"{ArticleAction.HISTORY}:{article_id}")),
            (STOP_TRACKING, _checked(f"{ArticleAction.UNTRACK}:{article_id}")),
        ]
    ]


def coalesced_keyboard(earlier: Keyboard | None, latest: Keyboard | None) -> Keyboard | None:
    """One message now shows two edits of an article: its Full diff spans both (from the
    earlier one's old version to the latest's new one)."""
    if not latest:
        return earlier or None
    first = _diff_press(earlier) if earlier else None
    last = _diff_press(latest)
    if first is None or last is None or first.article_id != last.article_id:
        return latest
    assert first.old is not None and last.new is not None
    return announcement_keyboard(last.article_id, min(first.old, last.new), last.new)


def _diff_press(keyboard: Keyboard) -> ArticlePress | None:
    for row in keyboard:
        for _label, data in row:
            press = parse_article(data)
            if press is not None and press.action == ArticleAction.DIFF:
                return press
    return None


def parse_article(data: str) -> ArticlePress | None:
    """A press on a button under an announcement or notice; None if the data is not one."""
    prefix, _, rest = data.partition(":")
    try:
        action = ArticleAction(prefix)
    except ValueError:
        return None
    numbers = _ints(rest.split(":"))
    if numbers is None:
        return None
    if action == ArticleAction.DIFF:
        if len(numbers) != 3:
            return None
        return ArticlePress(action, numbers[0], numbers[1], numbers[2])
    return ArticlePress(action, numbers[0]) if len(numbers) == 1 else None


def pager(prefix: str, page: int, pages: int) -> list[Button]:
    """◀ ▶ between pages (none on a page that is the only one)."""
    row: list[Button] = []
    if page > 1:
        row.append((PREVIOUS, _checked(f"{prefix}:{page - 1}")))
    if page < pages:
        row.append((NEXT, _checked(f"{prefix}:{page + 1}")))
    return row


def list_keyboard(filter: ListFilter, page: int, pages: int) -> Keyboard:
    row = pager(f"{LIST_DATA}:{filter}", page, pages)
    return [row] if row else []


def history_keyboard(article_id: int, page: int, pages: int) -> Keyboard:
    row = pager(f"{HISTORY_DATA}:{article_id}", page, pages)
    return [row] if row else []


def parse_list(data: str) -> ListPress | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != LIST_DATA or not parts[2].isdigit():
        return None
    try:
        return ListPress(ListFilter(parts[1]), int(parts[2]))
    except ValueError:
        return None


def parse_history(data: str) -> HistoryPress | None:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != HISTORY_DATA:
        return None
    numbers = _ints(parts[1:])
    return HistoryPress(numbers[0], numbers[1]) if numbers else None


def setting(key: str, value: str) -> str:
    return _checked(f"{SETTING_DATA}:{key}:{value}")


def parse_setting(data: str) -> SettingPress | None:
    prefix, _, rest = data.partition(":")
    key, _, value = rest.partition(":")
    if prefix != SETTING_DATA or not key or not value:
        return None
    return SettingPress(key, value)
