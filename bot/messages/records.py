"""The shapes of stored data the messages read, as Protocols: the storage rows (``Article``,
``Version``, ``AwayChange``) satisfy them as they are, and bot.messages never imports the
storage layer. Read-only properties, so a frozen dataclass satisfies them too."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

__all__ = ["ArticleRecord", "AwayRecord", "VersionRecord"]


class ArticleRecord(Protocol):
    """One tracked article as the messages show it."""

    @property
    def url(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def state(self) -> str: ...  # an ArticleState value
    @property
    def last_changed_at(self) -> datetime | None: ...


class VersionRecord(Protocol):
    """One stored version: its number, when it was first seen, its Snapshot as a dict."""

    @property
    def number(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> dict[str, Any]: ...


class AwayRecord(Protocol):
    """An article (the chat's #``number``) that went from version ``old`` to ``new`` while
    the chat was out of reach."""

    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def old(self) -> int: ...
    @property
    def new(self) -> int: ...
