"""The network edge: fetch one article page for strangers' URLs, safely.

Everything a hostile URL or server could do is bounded here:

* where: an address guard (``GuardedBackend``) resolves each host once, refuses loopback,
  private, link-local, metadata and other non-public networks, and connects to the very IP
  it checked, so DNS rebinding has no window. Redirects are followed by hand and every hop
  is checked again (scheme, credentials, port, address).
* how long: httpx timeouts per operation plus one deadline for the whole fetch, so a server
  dripping a byte a second is cut at ``FetchPolicy.timeout``.
* how much: the body is streamed and decompressed here, by at most ``max_bytes``, so an
  endless body or a gzip bomb stops at the limit instead of after it.
* what: only HTML is accepted; its text is decoded by the declared charset, else the
  ``<meta>`` one, else UTF-8 with replacement characters.

Nothing secret is logged: log lines name the host, never the path or query.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import hashlib
import ipaddress
import logging
import re
import select
import socket
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from bot.config import MonitorSettings
from bot.net.urls import IPAddress, URLError, canonical_url, ip_literal, join_url, parse_url

__all__ = [
    "BadResponse",
    "BadURL",
    "BlockedAddress",
    "ConnectFailed",
    "FetchError",
    "FetchPolicy",
    "FetchTimeout",
    "Fetcher",
    "GuardedBackend",
    "HTTPStatusError",
    "NotHTML",
    "Page",
    "Resolver",
    "TooLarge",
    "TooManyRedirects",
    "blocked_network",
    "system_resolver",
]

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP strings``; the guard checks every answer before connecting."""

WEB_PORTS = (80, 443)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# What a followed source may also answer (``fetch(..., feeds=True)``): RSS, Atom, plain XML.
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
_META_SNIFF_BYTES = 4096


# -- errors ------------------------------------------------------------------------------------


class FetchError(Exception):
    """A page could not be fetched. Callers catch this class; the subclasses say why.

    Every error carries ``user_message``, one short sentence safe to show in Telegram as it
    is (it never contains text chosen by the remote server), and ``permanent``: True when
    trying again cannot help (the article should be dropped), False when a later try may.

    FetchError
    ├── BlockedAddress    permanent  private/loopback/metadata address, or a port not allowed
    ├── BadURL            permanent  not http(s), credentials in the URL, unparseable Location
    ├── HTTPStatusError   by status  404/410 and other 4xx permanent; 408, 429, 5xx temporary
    ├── NotHTML           permanent  Content-Type is not HTML (or, missing, the body is not)
    ├── TooLarge          permanent  body (after decompression) over ``max_bytes``
    ├── TooManyRedirects  temporary  more than ``max_redirects`` hops (loops included)
    ├── FetchTimeout      temporary  an operation or the whole fetch took over ``timeout``
    ├── ConnectFailed     temporary  DNS, TCP, TLS or a dropped connection
    └── BadResponse       temporary  broken HTTP or compression, unknown Content-Encoding
    """

    permanent: bool = False
    default_message: str = "I couldn't fetch that page."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class BlockedAddress(FetchError):
    permanent = True
    default_message = "That address is on a private or local network, so I won't fetch it."


class BadURL(FetchError):
    permanent = True
    default_message = "That doesn't look like a web address."


class HTTPStatusError(FetchError):
    """The final response was an error; ``status`` is its HTTP status code."""

    def __init__(self, status: int, user_message: str | None = None) -> None:
        self.status = status
        self.permanent = 400 <= status < 500 and status not in (408, 429)
        super().__init__(user_message or _status_message(status))


class NotHTML(FetchError):
    permanent = True
    default_message = "That link is not a web page."


class TooLarge(FetchError):
    permanent = True
    default_message = "The page is too big."


class TooManyRedirects(FetchError):
    default_message = "The page redirects too many times."


class FetchTimeout(FetchError):
    default_message = "The site took too long to answer."


class ConnectFailed(FetchError):
    default_message = "I couldn't connect to the site."


class BadResponse(FetchError):
    default_message = "The site sent a response I couldn't read."


MSG_PRIVATE = BlockedAddress.default_message
MSG_REDIRECT_PRIVATE = "The page redirects to a private or local network address, so I won't follow it."
MSG_PORT = "I only fetch pages from the usual web ports (80 and 443), not port {port}."
MSG_REDIRECT_PORT = "The page redirects to an unusual port ({port}), so I won't follow it."
MSG_SCHEME = "I can only fetch http:// and https:// links."
MSG_CREDENTIALS = "Links with a user name or password in them aren't supported."
MSG_REDIRECT_BAD = "The page redirects to a link I can't follow."
MSG_NOT_HTML_TYPE = "That link is not a web page (it's {mime})."
MSG_TOO_LARGE = "The page is too big (over {size})."
MSG_NO_SUCH_HOST = "I couldn't find that website. Is the address right?"
MSG_TLS = "The site's security certificate isn't valid."
MSG_ENCODING = "The site sent the page in a compression format I can't read."

_SAFE_MIME = re.compile(r"[a-z0-9][a-z0-9.+-]{0,40}/[a-z0-9][a-z0-9.+-]{0,60}")


def _status_message(status: int) -> str:
    if status in (404, 410):
        return f"The page is gone (HTTP {status})."
    if status in (401, 403, 451):
        return f"The site refuses to show me this page (HTTP {status})."
    if status == 429:
        return "The site is asking me to slow down (HTTP 429)."
    if status >= 500:
        return f"The site is having trouble (HTTP {status})."
    return f"The site answered with an error (HTTP {status})."


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} KB"


# -- the address guard -------------------------------------------------------------------------

# Explicit, because Python 3.11's ``is_global`` is stale in patch releases before 3.11.10.
# IANA special-purpose registries, minus nothing: a news article is never on any of these.
_DENY_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)
_DENY_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a v4-mapped, NAT64 or 6to4 address actually reaches."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def blocked_network(ip: IPAddress) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The non-public network ``ip`` belongs to, or None when it is a public address.

    IPv4 embedded in IPv6 (``::ffff:a.b.c.d``, ``64:ff9b::/96``, ``2002::/16``) is unwrapped
    and judged as the IPv4 address it reaches.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(ip.packed)  # drop any zone id
        inner = _embedded_v4(ip)
        if inner is not None:
            return blocked_network(inner)
        return next((net for net in _DENY_V6 if ip in net), None)
    return next((net for net in _DENY_V4 if ip in net), None)


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the event loop's getaddrinfo; every address, in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only connects to checked addresses.

    ``connect_tcp`` resolves the host once, refuses if *any* answer is non-public (a name
    that mixes public and private answers is an attack, not a news site), then connects to
    the checked IPs in order. httpcore still does TLS with the hostname (SNI and the
    certificate check), because it wraps the stream this returns.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver or system_resolver
        self._inner = inner or _SocketStreams()
        self._exempt = tuple(ipaddress.ip_network(n, strict=False) for n in policy.exempt_networks)

    def is_allowed(self, ip: IPAddress) -> bool:
        """May the fetcher connect to ``ip`` under this policy?"""
        if self._policy.allow_private_addresses or any(ip in net for net in self._exempt):
            return True
        return blocked_network(ip) is None

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` stands for; ConnectFailed when there is none."""
        literal = ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            answers = await self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            log.info("resolve_failed host=%s error=%s", host, type(exc).__name__)
            raise ConnectFailed(MSG_NO_SUCH_HOST) from None
        addresses = [a for a in (ip_literal(str(answer)) for answer in answers) if a is not None]
        if not addresses:
            log.info("resolve_failed host=%s error=no_address", host)
            raise ConnectFailed(MSG_NO_SUCH_HOST)
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        policy = self._policy
        if not policy.allow_private_addresses and port not in (*WEB_PORTS, *policy.allowed_ports):
            log.info("fetch_refused host=%s reason=port port=%d", host, port)
            raise BlockedAddress(MSG_PORT.format(port=port))
        addresses = await self.resolve(host, port)
        for ip in addresses:
            if not self.is_allowed(ip):
                log.info("fetch_refused host=%s reason=address network=%s", host, blocked_network(ip))
                raise BlockedAddress(MSG_PRIVATE)
        error: Exception | None = None
        for ip in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                log.debug("connect_failed host=%s ip=%s error=%s", host, ip, type(exc).__name__)
                error = exc
                continue
            log.debug("connected host=%s ip=%s port=%d", host, ip, port)
            return stream
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(MSG_PRIVATE)  # never asked for by the fetcher; refuse if it ever is

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SocketStream(httpcore.AsyncNetworkStream):
    """A connected stream that knows its socket.

    Before each request httpcore's pool asks every pooled connection whether its socket is
    readable (a server that closed it); anyio answers by building a dict of every socket
    attribute, peer address included, per question: with keep-alive that was a tenth of a 304
    check's CPU. The socket (the same under TLS) is looked up once here instead.
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: socket.socket | None) -> None:
        self._inner = inner
        self._sock = sock

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _SocketStream(await self._inner.start_tls(ssl_context, server_hostname, timeout), self._sock)

    def get_extra_info(self, info: str) -> object:
        if info == "socket":
            return self._sock
        if info == "is_readable":  # data or EOF waiting on an idle connection: it is unusable
            fd = -1 if self._sock is None else self._sock.fileno()
            if fd < 0:
                return True
            poll = select.poll()
            poll.register(fd, select.POLLIN)
            return bool(poll.poll(0))
        return self._inner.get_extra_info(info)


class _SocketStreams(httpcore.AnyIOBackend):
    """httpcore's anyio backend, its streams wrapped in ``_SocketStream``."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await super().connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return _SocketStream(stream, stream.get_extra_info("socket"))


# -- policy and result -------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. ``allow_private_addresses`` lifts the address *and* port rules.

    ``exempt_networks`` (CIDR strings) are treated as public despite the deny-list: for an
    operator's internal mirror, and for tests that need the guard on while serving pages
    from one loopback address (e.g. ``("127.0.0.2/32",)``).
    """

    timeout: float = 20
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_addresses: bool = False
    allowed_ports: tuple[int, ...] = ()
    user_agent: str = MonitorSettings.user_agent
    exempt_networks: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, m: MonitorSettings) -> FetchPolicy:
        return cls(
            timeout=float(m.timeout),
            max_bytes=m.max_bytes,
            max_redirects=m.max_redirects,
            allow_private_addresses=m.allow_private_addresses,
            allowed_ports=tuple(m.allowed_ports),
            user_agent=m.user_agent,
        )


@dataclass(frozen=True)
class Page:
    """One fetched page, or the news that it has not changed (``not_modified``)."""

    url: str  # final URL after redirects, canonical_url applied
    status: int  # 2xx, or 304 when not_modified
    html: str  # decoded text ("" when not_modified)
    etag: str | None
    last_modified: str | None
    body_hash: str | None  # sha256 hex of the decompressed body
    not_modified: bool


# -- body: bounded decompression and charset ---------------------------------------------------


class _Decoder:
    """Content-Encoding decoding that never produces more than it is asked for.

    httpx's own decoders inflate a whole network chunk at once (a 64 KB chunk of a gzip
    bomb is ~64 MB); zlib's ``max_length`` keeps the output bounded instead.
    """

    def __init__(self, encoding: str) -> None:
        self._raw_fallback = encoding == "deflate"
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise BadResponse(MSG_ENCODING)

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode ``data``; the result exceeds ``limit`` bytes only by being cut at limit + 1."""
        if self._z is None:
            return data[: limit + 1]
        out = bytearray()
        while data and len(out) <= limit:
            try:
                out += self._z.decompress(data, limit + 1 - len(out))
            except zlib.error:
                if not self._raw_fallback or out:
                    raise BadResponse() from None
                # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
                self._raw_fallback = False
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._raw_fallback = False
            data = self._z.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        return self._z.flush() if self._z is not None else b""


_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# What browsers (WHATWG Encoding) actually use for these labels: news sites that say
# "iso-8859-1" send Windows-1252 curly quotes.
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252",
            "us-ascii": "cp1252", "iso8859-1": "cp1252", "utf-16": "utf-8", "utf-16le": "utf-8",
            "utf-16be": "utf-8"}  # fmt: skip


def decode_html(body: bytes, header_charset: str | None) -> str:
    """Text of an HTML body: BOM, else the header's charset, else ``<meta>``, else UTF-8.

    A charset name Python does not know (or one that is not a text encoding) is skipped,
    never an error; undecodable bytes become U+FFFD.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    meta = _META_CHARSET.search(body[:_META_SNIFF_BYTES])
    candidates = [header_charset, meta[1].decode("ascii") if meta else None]
    for source, label in enumerate(candidates):
        if not label:
            continue
        name = label.strip().strip("\"'").lower()
        if source == 1 and name.startswith("utf-16"):
            name = "utf-8"  # a <meta> readable as ASCII cannot be UTF-16
        try:
            return body.decode(_ALIASES.get(name, name), "replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            log.debug("unknown_charset name=%.40r", name)
    return body.decode("utf-8", "replace")


def _looks_like_xml(body: bytes) -> bool:
    return body[:1024].removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].removeprefix(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


# -- the fetcher -------------------------------------------------------------------------------


def _ssl_error(exc: BaseException) -> bool:
    """Did a TLS handshake or certificate check cause ``exc``?"""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """certifi's CA bundle, loaded once per process (loading takes ~30 ms)."""
    return httpx.create_ssl_context(trust_env=False)


# Every fetch names its final URL in canonical form, and an article's URL is the same on every
# check: remembered for more URLs than a large deployment tracks (an LRU smaller than the set
# fetched in a cycle would never hit), a few MB at most.
_canonical = functools.lru_cache(maxsize=1 << 14)(canonical_url)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, its bookkeeping linear in the number of connections.

    httpcore 1.0's ``_assign_requests_to_connections``, run twice per request, counts the pool
    once per idle connection (``len([c.is_idle() for c in connections])``): with one kept-alive
    connection for each of 20 sites, ~850 ``is_idle`` calls per fetch, a tenth of a 304 check's
    CPU. Here the idle connections are counted once (as httpx builds the pool the limit is
    unbounded, so that count closes nothing either way), and the expiry question (a ``poll``
    of the socket per idle connection) is asked of every connection once per ``SWEEP``
    seconds, and of a connection always just before it is reused: no request goes out on a
    connection the server closed, as before.
    """

    SWEEP = 1.0
    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + self.SWEEP
        idle = sum(1 for connection in self._connections if connection.is_idle())
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif sweep and connection.has_expired():
                idle -= connection.is_idle()
                self._connections.remove(connection)
                closing.append(connection)
            elif idle > self._max_keepalive_connections and connection.is_idle():
                idle -= 1
                self._connections.remove(connection)
                closing.append(connection)
        for pool_request in [request for request in self._requests if request.is_queued()]:
            origin = pool_request.request.url.origin
            reused = None
            for connection in list(self._connections):
                if not (connection.can_handle_request(origin) and connection.is_available()):
                    continue
                if not sweep and connection.has_expired():  # what the sweep would have found
                    idle -= connection.is_idle()
                    self._connections.remove(connection)
                    closing.append(connection)
                    continue
                reused = connection
                break
            if reused is not None:
                pool_request.assign_to_connection(reused)
            elif len(self._connections) < self._max_connections:
                connection = self.create_connection(origin)
                self._connections.append(connection)
                pool_request.assign_to_connection(connection)
            else:
                spare = next((c for c in self._connections if c.is_idle()), None)
                if spare is not None:  # close an idle connection to open one for this origin
                    self._connections.remove(spare)
                    closing.append(spare)
                    connection = self.create_connection(origin)
                    self._connections.append(connection)
                    pool_request.assign_to_connection(connection)
        return closing


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on the guarded backend.

    httpx has no public knob for the network backend, so the pool it builds is replaced
    by one with the same defaults that connects through ``GuardedBackend``. No proxy is
    ever configured (a proxy would connect for us and bypass the guard).
    """

    def __init__(self, backend: GuardedBackend, ssl_context: ssl.SSLContext | None) -> None:
        context = ssl_context or _default_ssl_context()
        super().__init__(verify=context, trust_env=False)
        limits = httpx.Limits()
        self._pool = _Pool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


class Fetcher:
    """Fetches article pages under a FetchPolicy; share one per process, close it at exit.

    Requests go straight to the transport, not through ``httpx.AsyncClient``: the client
    parses every Location header itself (raising on the odd spellings we want to judge),
    keeps cookies across fetches, reads proxies from the environment and logs full URLs.
    ``ssl_context`` replaces the certifi CA bundle (a corporate CA, or a test CA).
    """

    def __init__(
        self,
        policy: FetchPolicy,
        resolver: Resolver | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self.backend = GuardedBackend(policy, resolver)
        self._transport = _GuardedTransport(self.backend, ssl_context)
        self._timeout = httpx.Timeout(policy.timeout).as_dict()
        self._headers = {
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        }

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, feeds: bool = False
    ) -> Page:
        """GET ``url`` (conditionally when ``etag``/``last_modified`` are given) → Page.

        Raises a FetchError subclass for everything that is not an HTML page (or, with
        ``feeds``, an RSS/Atom/XML document) or a 304.
        """
        started = time.monotonic()
        host = "?"
        try:
            target = parse_url(url)
            host = target.host or "?"
            async with asyncio.timeout(self.policy.timeout):
                page, hops = await self._fetch(target, etag, last_modified, feeds)
        except FetchError as exc:
            self._log_failure(host, exc, started)
            raise
        except (TimeoutError, httpx.TimeoutException):
            exc = FetchTimeout()
            self._log_failure(host, exc, started)
            raise exc from None
        except URLError:
            exc = BadURL()
            self._log_failure(host, exc, started)
            raise exc from None
        except httpx.HTTPError as error:
            exc = _map_httpx_error(error)
            self._log_failure(host, exc, started, detail=type(error).__name__)
            raise exc from None
        log.info(
            "fetched host=%s status=%d chars=%d redirects=%d ms=%d",
            host,
            page.status,
            len(page.html),
            hops,
            (time.monotonic() - started) * 1000,
        )
        return page

    def _log_failure(self, host: str, exc: FetchError, started: float, detail: str = "") -> None:
        log.info(
            "fetch_failed host=%s error=%s permanent=%s ms=%d%s",
            host,
            type(exc).__name__,
            exc.permanent,
            (time.monotonic() - started) * 1000,
            f" cause={detail}" if detail else "",
        )

    def _check_url(self, url: httpx.URL, redirected: bool) -> None:
        """Refuse a URL (first or a redirect hop) before any connection is made."""
        if url.scheme not in ("http", "https") or not url.host:
            raise BadURL(MSG_REDIRECT_BAD if redirected else MSG_SCHEME)
        if url.userinfo:
            raise BadURL(MSG_REDIRECT_BAD if redirected else MSG_CREDENTIALS)
        port = url.port or (443 if url.scheme == "https" else 80)
        if not 0 < port < 65536:
            raise BadURL(MSG_REDIRECT_BAD if redirected else None)
        policy = self.policy
        if not policy.allow_private_addresses and port not in (*WEB_PORTS, *policy.allowed_ports):
            raise BlockedAddress((MSG_REDIRECT_PORT if redirected else MSG_PORT).format(port=port))
        literal = ip_literal(url.host)
        if literal is not None and not self.backend.is_allowed(literal):
            raise BlockedAddress(MSG_REDIRECT_PRIVATE if redirected else MSG_PRIVATE)

    async def _fetch(
        self, target: httpx.URL, etag: str | None, last_modified: str | None, feeds: bool = False
    ) -> tuple[Page, int]:
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        cookies = httpx.Cookies()  # this fetch's redirect chain only (consent redirects)
        for hop in range(self.policy.max_redirects + 1):
            self._check_url(target, redirected=hop > 0)
            request = httpx.Request(
                "GET", target, headers={**self._headers, **conditional}, extensions={"timeout": self._timeout}
            )
            if cookies:  # (an empty jar adds no header: spare the urllib request it builds)
                cookies.set_cookie_header(request)
            try:
                response = await self._transport.handle_async_request(request)
            except BlockedAddress:
                if hop:  # the name in the Location resolved to a non-public address
                    raise BlockedAddress(MSG_REDIRECT_PRIVATE) from None
                raise
            response.request = request
            try:
                if "set-cookie" in response.headers or "set-cookie2" in response.headers:
                    cookies.extract_cookies(response)
                if response.has_redirect_location:
                    try:
                        target = join_url(str(response.url), response.headers["Location"])
                    except URLError:
                        raise BadURL(MSG_REDIRECT_BAD) from None
                    log.debug(
                        "redirect host=%s status=%d hop=%d", request.url.host, response.status_code, hop
                    )
                    continue
                return await self._read(response, etag, last_modified, bool(conditional), feeds), hop
            finally:
                await response.aclose()
        raise TooManyRedirects()

    async def _drain(self, response: httpx.Response) -> None:
        """Read a body that should be empty (a 304's) to its end: httpcore keeps the connection
        for the next fetch only when the response was read through; an unread one is closed."""
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > self.policy.max_bytes:
                return  # not worth reading on: the connection is closed instead

    async def _read(
        self,
        response: httpx.Response,
        etag: str | None,
        last_modified: str | None,
        conditional: bool,
        feeds: bool = False,
    ) -> Page:
        """Turn the final response into a Page, reading at most ``max_bytes`` of body."""
        status = response.status_code
        final_url = _canonical(str(response.url))
        if status == 304 and conditional:
            await self._drain(response)
            return Page(
                url=final_url,
                status=304,
                html="",
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
                body_hash=None,
                not_modified=True,
            )
        if not 200 <= status < 300:
            raise HTTPStatusError(status)
        mime = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if mime and mime not in HTML_TYPES and not (feeds and mime in FEED_TYPES):
            raise NotHTML(MSG_NOT_HTML_TYPE.format(mime=mime) if _SAFE_MIME.fullmatch(mime) else None)
        limit = self.policy.max_bytes
        too_large = TooLarge(MSG_TOO_LARGE.format(size=_size(limit)))
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        decoder = _Decoder(encoding)
        declared = response.headers.get("Content-Length", "")
        if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += decoder.feed(chunk, limit - len(body))
            if len(body) > limit:
                raise too_large
        body += decoder.flush()
        if len(body) > limit:
            raise too_large
        data = bytes(body)
        if not mime and not _looks_like_html(data) and not (feeds and _looks_like_xml(data)):
            raise NotHTML()
        return Page(
            url=final_url,
            status=status,
            html=decode_html(data, response.charset_encoding),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            body_hash=hashlib.sha256(data).hexdigest(),
            not_modified=False,
        )


def _map_httpx_error(error: httpx.HTTPError) -> FetchError:
    """One FetchError for each kind of httpx failure (timeouts are handled by the caller)."""
    if isinstance(error, httpx.ConnectError):
        return ConnectFailed(MSG_TLS if _ssl_error(error) else None)
    if isinstance(error, httpx.ProtocolError | httpx.DecodingError):
        return BadResponse()
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return BadURL()
    return ConnectFailed()
