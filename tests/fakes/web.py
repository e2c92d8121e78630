"""A small local web server that serves article pages for tests, and misbehaves on request.

    async with ArticleServer() as web:                 # 127.0.0.1, a free port
        web.set_page("/news/a", "<html>...</html>")    # 200 text/html; charset=utf-8
        web.set_page("/gone", "", status=410)
        web.set_page("/cached", html, etag=True)        # ETag + 304 on If-None-Match
        web.redirect("/old", "/news/a")                 # 302 by default; `to` may be absolute
        web.set_route("/slow", my_aiohttp_handler)      # anything else, e.g. a slow-loris
        url = web.url("/news/a")                        # http://127.0.0.1:PORT/news/a
        web.hits("/news/a")                             # requests seen for that path
        web.last_headers("/news/a")                     # headers of the latest such request

Routing is by path only (the query string is ignored); unknown paths answer 404. Pages can be
replaced or removed while the server runs, which is how tests publish an edit.
"""

from __future__ import annotations

import hashlib
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from multidict import CIMultiDict

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ["ArticleServer", "Handler"]


class ArticleServer:
    """An aiohttp server on a loopback address; see the module docstring for the API.

    ``host`` may be any 127.x.y.z address (Linux routes all of 127/8 to loopback), which
    lets address-guard tests exempt one loopback address while the rest stay refused.
    With ``ssl_context`` (a server context) it speaks HTTPS and ``url()`` says https.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self._port = port
        self._ssl = ssl_context
        self._routes: dict[str, Handler] = {}
        self._hits: Counter[str] = Counter()
        self._headers: dict[str, Mapping[str, str]] = {}
        self._peers: dict[str, list[object]] = {}
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a client that hangs up stops an endless or slow handler;
        # shutdown_timeout: stop() never waits long for a handler that sleeps forever.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port, ssl_context=self._ssl)
        await site.start()
        self._port = int(self._runner.addresses[0][1])  # the port the OS picked for port=0

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ArticleServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host`` replaces the address (for a fake resolver)."""
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{host or self.host}:{self._port}{path}"

    # -- content ------------------------------------------------------------------------------

    def set_page(
        self,
        path: str,
        html: str | bytes,
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        headers: Mapping[str, str] | None = None,
        etag: bool = False,
    ) -> None:
        """Serve ``html`` (a str is sent as UTF-8) at ``path``.

        ``content_type=None`` sends an empty Content-Type (aiohttp always sends the header).
        ``headers`` are added as they are, so pre-compressed bytes can be served with
        ``{"Content-Encoding": "gzip"}``. ``etag=True`` adds an ETag from the body and
        answers 304 to a matching If-None-Match; a ``Last-Modified`` in ``headers`` is
        answered with 304 when If-Modified-Since repeats it exactly.
        """
        body = html.encode("utf-8") if isinstance(html, str) else html
        fixed: dict[str, str] = {"Content-Type": content_type or ""}
        if etag:
            fixed["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        fixed.update(headers or {})

        async def page(request: web.Request) -> web.StreamResponse:
            tag = fixed.get("ETag")
            if tag is not None:
                wanted = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
                if tag in wanted or "*" in wanted:
                    return web.Response(status=304, headers={"ETag": tag})
            stamp = fixed.get("Last-Modified")
            if stamp is not None and request.headers.get("If-Modified-Since") == stamp:
                return web.Response(status=304, headers={"Last-Modified": stamp})
            return web.Response(status=status, body=body, headers=fixed)

        self._routes[path] = page

    def set_route(self, path: str, handler: Handler) -> None:
        """Answer ``path`` with any aiohttp handler (for misbehaving endpoints)."""
        self._routes[path] = handler

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        """Redirect ``path`` to ``to`` (a path or an absolute URL), as given."""

        async def moved(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        self._routes[path] = moved

    def remove(self, path: str) -> None:
        """Stop serving ``path``: it answers 404 from now on."""
        self._routes.pop(path, None)

    # -- what the server saw -------------------------------------------------------------------

    def hits(self, path: str) -> int:
        """Requests received for ``path`` (served or not)."""
        return self._hits[path]

    def last_headers(self, path: str) -> Mapping[str, str] | None:
        """Headers of the latest request for ``path`` (case-insensitive), or None if none came."""
        return self._headers.get(path)

    def peers(self, path: str) -> list[object]:
        """The client address (host, port) of each request for ``path``, in order: one TCP
        connection per distinct address."""
        return list(self._peers.get(path, []))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.rel_url.path
        self._hits[path] += 1
        transport = request.transport
        self._peers.setdefault(path, []).append(transport.get_extra_info("peername") if transport else None)
        self._headers[path] = CIMultiDict(request.headers)
        handler = self._routes.get(path)
        if handler is None:
            return web.Response(
                status=404, text="<html><body>Not found</body></html>", content_type="text/html"
            )
        return await handler(request)

    def __repr__(self) -> str:
        return f"ArticleServer({self.url()!r}, routes={sorted(self._routes)!r})"
