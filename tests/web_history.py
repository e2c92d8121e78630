"""Articles with a history, put in through the repositories as /track and the checks put them,
and the web server over them: what the web tests start from."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.config import WebSettings
from bot.core.diff import diff_snapshots, summarize
from bot.core.extract import Snapshot, extract
from bot.net.urls import site_name, url_key
from bot.service.history import History
from bot.storage.articles import PageMeta
from bot.storage.store import Storage
from bot.web.server import WebServer
from tests.corpus import corpus_or_skip

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def corpus_history(slug: str) -> tuple[str, list[Snapshot]]:
    """A corpus page's URL and its five versions (headline, paragraph edited, added, removed)."""
    root = corpus_or_skip()
    pages = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["pages"]
    page = next(p for p in pages if p["slug"] == slug)
    files = ["v1.html", *(v["file"] for v in page["versions"] if v["notify"])]
    read = [(root / "pages" / slug / f).read_text(encoding="utf-8", errors="replace") for f in files]
    return page["url"], [extract(html, page["url"]) for html in read]


def add_history(
    store: Storage,
    chat_id: int,
    url: str,
    snapshots: Sequence[Snapshot],
    start: datetime = START,
    step: timedelta = timedelta(hours=3),
    chat_title: str = "Newsroom desk",
) -> int:
    """Track ``url`` in the chat with version 1, then store each later snapshot as a check does
    (``step`` apart); the article's id."""
    store.chats.ensure(chat_id, "private" if chat_id > 0 else "group", chat_title)
    first = snapshots[0]
    tracked = store.articles.track(
        chat_id,
        url=url,
        url_key=url_key(url),
        site=site_name(url),
        title=first.title,
        content=first.to_dict(),
        content_hash=first.content_hash,
        meta=PageMeta(),
        interval=300,
        now=start,
    )
    article_id = tracked.article.id
    assert article_id is not None
    for n, (old, new) in enumerate(itertools.pairwise(snapshots), start=1):
        add_version(store, article_id, old, new, start + n * step)
    return article_id


def add_version(store: Storage, article_id: int, old: Snapshot, new: Snapshot, at: datetime) -> None:
    store.articles.store_version(
        article_id,
        title=new.title,
        content=new.to_dict(),
        content_hash=new.content_hash,
        summary=summarize(diff_snapshots(old, new)),
        deliveries=[],
        article_fields={"title": new.title, "last_checked_at": at, "last_changed_at": at},
        now=at,
    )


class QueryCounter:
    """Every statement the engine sends to the database, counted (SQLAlchemy's own event)."""

    def __init__(self, store: Storage) -> None:
        self.count = 0
        self.engine = store.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@asynccontextmanager
async def serving(store: Storage, **web: Any) -> AsyncIterator[WebServer]:
    """The web server on a free loopback port, over ``store``."""
    server = WebServer(History(store.web), WebSettings(listen="127.0.0.1:0", **web))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def base_url(server: WebServer) -> str:
    return f"http://127.0.0.1:{server.port}"
