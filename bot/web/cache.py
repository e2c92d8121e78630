"""What the web serves, kept in memory: a page read a hundred times costs the database one
read. An entry lasts until a new version of an article it shows arrives (``forget_article``),
the chat it was answered for changes its token or its list (``forget_chat``), or ``ttl``
seconds pass (that is how a version another process stored shows up). Bounded: the least
recently used entries go first. Answers of "nothing here" are kept too, so a wrong address
costs nothing either."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Page:
    """One rendered answer."""

    body: bytes
    content_type: str
    last_modified: datetime  # when what it shows last changed (its newest version)
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", f'"{hashlib.sha256(self.body).hexdigest()[:32]}"')


@dataclass(frozen=True)
class Entry:
    """A value (a Page, a token's reader, or None for nothing there) and what it depends on."""

    value: Any
    articles: frozenset[int] = frozenset()  # a new version of any of these makes it stale
    chat: int | None = None  # the chat it was answered for


class Cache:
    def __init__(self, ttl: float, size: int = 4096) -> None:
        self.ttl = ttl
        self.size = size
        self.generation = 0  # bumped by every forget: a fill that began before is not kept
        self._entries: OrderedDict[Hashable, tuple[float, Entry]] = OrderedDict()

    def get(self, key: Hashable, now: float) -> Entry | None:
        found = self._entries.get(key)
        if found is None or found[0] <= now:
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, entry: Entry, now: float, generation: int) -> None:
        """Keep ``entry`` unless something was forgotten since its fill began (``generation``)."""
        if self.ttl <= 0 or generation != self.generation:
            return
        self._entries[key] = (now + self.ttl, entry)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget_article(self, article_id: int) -> None:
        self._forget(lambda e: article_id in e.articles)

    def forget_chat(self, chat_id: int) -> None:
        """Everything answered for the chat, and every "nothing here" (its new token among them)."""
        self._forget(lambda e: e.chat == chat_id or e.value is None)

    def _forget(self, stale: Callable[[Entry], bool]) -> None:
        self.generation += 1
        for key in [k for k, (_, e) in self._entries.items() if stale(e)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["Cache", "Entry", "Page"]
