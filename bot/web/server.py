"""History pages, outlet pages and Atom feeds over HTTP (aiohttp, on the bot's event loop).

Who may see what: with ``web.public_articles`` every article's page and feed is public at
``/a/N``; otherwise only under ``/c/TOKEN/…``, and only for articles that token's chat
tracks. Every other address, a revoked token among them, gets the same 404, so an answer never
tells whether an article exists or who tracks it.

Cheap: each answer is read and rendered once (``Cache``; concurrent first requests share one
fill), then served from memory with an ETag and Last-Modified, and a conditional GET that
matches gets 304 with no body.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from bot.config import WebSettings, split_listen
from bot.core.record import ArticleFacts, Edit
from bot.messages import weblinks
from bot.messages.atom import FeedHead, atom_feed, feed_id
from bot.messages.pages import history_page, not_found_page, outlet_page
from bot.messages.weblinks import WebLinks
from bot.service.history import History
from bot.storage.web import Reader
from bot.web.cache import Cache, Entry, Page

log = logging.getLogger("redline.web")

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # a link out never carries a token in its Referer
    "X-Content-Type-Options": "nosniff",
}


class WebError(Exception):
    """The pages cannot be served (a bad or busy address); one line for the user."""


class _NotHere(Exception):
    """Answer 404 (the one page every wrong address gets)."""


class WebServer:
    def __init__(
        self, history: History, settings: WebSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.history = history
        self.settings = settings
        self.clock = clock
        self.cache = Cache(settings.cache_seconds)
        self._filling: dict[Hashable, asyncio.Future[Entry]] = {}
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.app = web.Application(middlewares=[self._answer])
        token = weblinks.CHAT
        self.app.add_routes(
            [
                web.get(weblinks.ARTICLE, self._article),
                web.get(weblinks.ARTICLE_FEED, self._article_feed),
                web.get(weblinks.OUTLET, self._outlet),
                web.get(token + weblinks.ARTICLE, self._article),
                web.get(token + weblinks.ARTICLE_FEED, self._article_feed),
                web.get(token + weblinks.OUTLET, self._outlet),
                web.get(token + weblinks.CHAT_FEED, self._chat_feed),
            ]
        )

    # -- lifecycle (the composition root starts and stops it beside the bot) ------------------

    async def start(self) -> None:
        address = split_listen(self.settings.listen)
        if address is None:
            raise WebError(f"web.listen must be host:port, not {self.settings.listen!r}")
        host, port = address
        self._runner = web.AppRunner(self.app, access_log=None)  # its lines would hold tokens
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's text names no cause
            raise WebError(f"cannot serve web pages on {self.settings.listen}: {reason}") from None
        self.port = int(self._runner.addresses[0][1])  # the port chosen, when listen asked for 0
        log.info("web_listening address=%s:%s public=%s", host, self.port, self.settings.public_articles)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("web_stopped")

    # -- what the rest of the bot tells it -----------------------------------------------------

    def version_stored(self, article_id: int) -> None:
        """A new version of the article: every page and feed showing it is read again."""
        self.cache.forget_article(article_id)

    def chat_changed(self, chat_id: int) -> None:
        """The chat's token or its list changed (revoke, track, untrack)."""
        self.cache.forget_chat(chat_id)

    # -- answers ------------------------------------------------------------------------------

    @web.middleware
    async def _answer(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except (_NotHere, web.HTTPNotFound):
            response = web.Response(status=404, body=not_found_page().encode(), content_type="text/html")
            response.headers["Cache-Control"] = "no-store"
        except web.HTTPMethodNotAllowed:
            response = web.Response(status=405, text="Only GET and HEAD.\n")
        response.headers.update(_HEADERS)
        log.debug("web_request path=%s status=%s", _redact(request.path), response.status)
        return response

    def _links(self, request: web.Request) -> WebLinks:
        root = self.settings.public_url or f"{request.scheme}://{request.host}"
        return WebLinks(root, request.match_info.get("token"))

    async def _reader(self, request: web.Request) -> Reader | None:
        """The token's chat, or None on a public address; 404 where neither may see anything."""
        token = request.match_info.get("token")
        if token is None:
            if not self.settings.public_articles:
                raise _NotHere
            return None
        if not _TOKEN.fullmatch(token):
            raise _NotHere

        def read() -> Entry:
            reader = self.history.reader(token)
            return Entry(reader, chat=reader.chat_id if reader else None)

        reader = (await self._cached(("reader", token), read)).value
        if reader is None:
            raise _NotHere
        assert isinstance(reader, Reader)
        return reader

    async def _cached(self, key: Hashable, fill: Callable[[], Entry]) -> Entry:
        """The cached entry, or one fill (in a thread) shared by every request that asks
        before it is done."""
        found = self.cache.get(key, self.clock())
        if found is not None:
            return found
        pending = self._filling.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self.cache.generation
        pending = asyncio.ensure_future(asyncio.to_thread(fill))
        self._filling[key] = pending
        try:
            entry = await asyncio.shield(pending)
        finally:
            self._filling.pop(key, None)
        self.cache.put(key, entry, self.clock(), generation)
        return entry

    def _serve(self, request: web.Request, entry: Entry, private: bool) -> web.Response:
        page = entry.value
        if page is None:
            raise _NotHere
        assert isinstance(page, Page)
        headers = {
            "ETag": page.etag,
            "Last-Modified": format_datetime(page.last_modified.astimezone(UTC), usegmt=True),
            # a proxy may keep a public page but must ask us first; a chat's pages stay private
            "Cache-Control": "private, no-cache" if private else "public, no-cache",
        }
        if private:
            headers["X-Robots-Tag"] = "noindex, nofollow"
        if _not_modified(request, page):
            return web.Response(status=304, headers=headers)
        return web.Response(body=page.body, headers={**headers, "Content-Type": page.content_type})

    async def _article(self, request: web.Request) -> web.Response:
        return await self._about_article(request, "article", _history)

    async def _article_feed(self, request: web.Request) -> web.Response:
        return await self._about_article(request, "article_feed", _article_feed)

    async def _about_article(
        self, request: web.Request, kind: str, render: Callable[[ArticleFacts, list[Edit], WebLinks], Page]
    ) -> web.Response:
        """An article's page or feed, for a reader whose chat tracks it (anyone, if public)."""
        reader = await self._reader(request)
        article_id = int(request.match_info["article"])
        if reader is not None and article_id not in reader.articles:
            raise _NotHere
        links = self._links(request)

        def fill() -> Entry:
            found = self.history.article(article_id)
            page = render(*found, links) if found is not None else None
            return Entry(page, frozenset({article_id}), _chat(reader))

        entry = await self._cached((kind, links.base, article_id), fill)
        return self._serve(request, entry, private=reader is not None)

    async def _chat_feed(self, request: web.Request) -> web.Response:
        reader = await self._reader(request)
        assert reader is not None  # the route carries a token
        links = self._links(request)

        def fill() -> Entry:
            edits = self.history.latest_edits(reader.articles)
            token = links.token or ""
            head = FeedHead(
                id=feed_id(f"chat:{token}"),
                title="Redline: changes to the articles this chat tracks",
                self_url=links.chat_feed(),
                page_url=links.chat_feed(),
                updated=edits[0][1].new_at if edits else datetime(2000, 1, 1, tzinfo=UTC),
            )
            body = atom_feed(head, edits, links)
            return Entry(Page(body, ATOM, head.updated), reader.articles, reader.chat_id)

        entry = await self._cached(("chat_feed", links.base), fill)
        return self._serve(request, entry, private=True)

    async def _outlet(self, request: web.Request) -> web.Response:
        reader = await self._reader(request)
        site = request.match_info["site"]
        links = self._links(request)

        def fill() -> Entry:
            now = datetime.now(UTC)
            found = self.history.outlet(site, now, reader.articles if reader is not None else None)
            if found is None:
                return Entry(None, chat=_chat(reader))
            windows, titles = found
            body = outlet_page(site, windows, titles, links).encode()
            # the record moves with the clock (its windows end now), not only with new versions
            return Entry(Page(body, HTML, now), frozenset(titles), _chat(reader))

        entry = await self._cached(("outlet", links.base, site), fill)
        return self._serve(request, entry, private=reader is not None)


def _history(facts: ArticleFacts, edits: list[Edit], links: WebLinks) -> Page:
    newest = edits[-1].new_at if edits else facts.first_seen
    return Page(history_page(facts, edits, links).encode(), HTML, newest)


def _article_feed(facts: ArticleFacts, edits: list[Edit], links: WebLinks) -> Page:
    ref = facts.ref
    head = FeedHead(
        id=feed_id(f"article:{ref.url_key}"),
        title=f"Redline: changes to “{ref.title or ref.url}” ({ref.site})",
        self_url=links.article_feed(ref.id),
        page_url=links.article(ref.id),
        updated=edits[-1].new_at if edits else facts.first_seen,
    )
    return Page(atom_feed(head, [(ref, e) for e in edits], links), ATOM, head.updated)


def _chat(reader: Reader | None) -> int | None:
    return reader.chat_id if reader is not None else None


def _not_modified(request: web.Request, page: Page) -> bool:
    """RFC 9110: If-None-Match decides when present; If-Modified-Since only without it."""
    tags = request.headers.get("If-None-Match")
    if tags is not None:
        return tags.strip() == "*" or page.etag in {t.strip().removeprefix("W/") for t in tags.split(",")}
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return page.last_modified.replace(microsecond=0) <= moment


def _redact(path: str) -> str:
    return re.sub(r"^/c/[^/]+", "/c/…", path)


__all__ = ["WebError", "WebServer"]
