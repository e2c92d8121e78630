"""Rows the storage tests start from, put in through the repositories as /track puts them."""

from __future__ import annotations

from bot.storage.articles import PageMeta, TrackResult
from bot.storage.store import Storage

CONTENT = {"title": "Putin postpones Paris talks", "paragraphs": ["One.", "Two."]}


def track_article(store: Storage, chat_id: int, key: str = "example.com/a", **kw: object) -> TrackResult:
    store.chats.ensure(chat_id, "private", "alice")
    return store.articles.track(
        chat_id,
        url=f"https://{key}",
        url_key=key,
        site="example.com",
        title="Putin postpones Paris talks",
        content=CONTENT,
        content_hash="h1",
        meta=PageMeta(etag='"e1"'),
        interval=300,
        **kw,
    )
