"""bot.net.fetch against a local server that misbehaves on purpose. One row per case.

No test leaves 127.0.0.0/8: the autouse ``connects`` fixture wraps httpcore's real socket
connect and fails any test that tries another address (or a name: the guard must hand it an
IP). Names are answered by ``FakeResolver``, never by DNS.

Guard-on tests that need a real connection serve from 127.0.0.2 and exempt exactly that
address (``FetchPolicy.exempt_networks``); every other address, 127.0.0.1 included, stays
refused by the real deny-list.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import logging
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import pytest
from aiohttp import web

from bot.config import MonitorSettings
from bot.net.fetch import (
    BadResponse,
    BadURL,
    BlockedAddress,
    ConnectFailed,
    Fetcher,
    FetchError,
    FetchPolicy,
    FetchTimeout,
    GuardedBackend,
    HTTPStatusError,
    NotHTML,
    TooLarge,
    TooManyRedirects,
    blocked_network,
    decode_html,
)
from tests.fakes.misbehave import drip, endless, gzip_zeros, hang_up, silent
from tests.fakes.ports import free_port
from tests.fakes.web import ArticleServer

PRIVATE = "That address is on a private or local network, so I won't fetch it."
REDIRECT_PRIVATE = "The page redirects to a private or local network address, so I won't follow it."
REDIRECT_BAD = "The page redirects to a link I can't follow."
CREDENTIALS = "Links with a user name or password in them aren't supported."
NO_SUCH_HOST = "I couldn't find that website. Is the address right?"
ARTICLE = "<!DOCTYPE html><html><head><title>T</title></head><body><p>Story</p></body></html>"
PUBLIC = "127.0.0.2"  # the one loopback address guard-on tests exempt
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every real TCP connect, as (ip, port); fails the test on an address outside 127/8."""
    seen: list[tuple[str, int]] = []
    real = httpcore.AnyIOBackend.connect_tcp

    async def loopback_only(self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: Any) -> Any:
        seen.append((host, port))
        assert ipaddress.ip_address(host) in LOOPBACK, f"test tried to connect to {host}"
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", loopback_only)
    return seen


@dataclass
class FakeResolver:
    """Fixed DNS answers; unknown names fail like NXDOMAIN. Records every question."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver(
        {
            "public.test": [PUBLIC],
            "evil.test": ["127.0.0.1"],
            "metadata.test": ["169.254.169.254"],
            "v6.test": ["::1"],
            "mapped.test": ["::ffff:127.0.0.1"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],
            "empty.test": [],
        }
    )


@pytest.fixture
async def public_web() -> AsyncIterator[ArticleServer]:
    """Pages on 127.0.0.2, reached as http://public.test:PORT with the guard on."""
    async with ArticleServer(PUBLIC) as server:
        yield server


def open_policy(**overrides: Any) -> FetchPolicy:
    """Guard off (pages come from 127.0.0.1), short timeout."""
    return FetchPolicy(**{"timeout": 5.0, "allow_private_addresses": True, **overrides})


def guarded_policy(server: ArticleServer, **overrides: Any) -> FetchPolicy:
    """Guard on; only the server's address and port are let through."""
    return FetchPolicy(
        **{
            "timeout": 5.0,
            "allowed_ports": (server.port,),
            "exempt_networks": (f"{PUBLIC}/32",),
            **overrides,
        }
    )


@pytest.fixture
async def open_fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(open_policy()) as fetcher:
        yield fetcher


async def failure(fetcher: Fetcher, url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url, **kwargs)
    return caught.value


# -- the deny-list, as a pure function -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("127.255.255.254", "127.0.0.0/8"),
        ("10.1.2.3", "10.0.0.0/8"),
        ("172.16.0.1", "172.16.0.0/12"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("192.168.1.1", "192.168.0.0/16"),
        ("169.254.169.254", "169.254.0.0/16"),
        ("100.64.0.1", "100.64.0.0/10"),
        ("100.127.255.255", "100.64.0.0/10"),
        ("0.0.0.0", "0.0.0.0/8"),
        ("0.1.2.3", "0.0.0.0/8"),
        ("224.0.0.1", "224.0.0.0/4"),
        ("239.255.255.250", "224.0.0.0/4"),
        ("240.0.0.1", "240.0.0.0/4"),
        ("255.255.255.255", "240.0.0.0/4"),
        ("198.18.0.1", "198.18.0.0/15"),
        ("198.19.255.255", "198.18.0.0/15"),
        ("192.0.2.1", "192.0.2.0/24"),
        ("198.51.100.1", "198.51.100.0/24"),
        ("203.0.113.1", "203.0.113.0/24"),
        ("192.0.0.8", "192.0.0.0/24"),
        ("::1", "::/96"),
        ("::", "::/96"),
        ("::127.0.0.1", "::/96"),
        ("fc00::1", "fc00::/7"),
        ("fd12:3456::1", "fc00::/7"),
        ("fe80::1", "fe80::/10"),
        ("fe80::1%eth0", "fe80::/10"),
        ("ff02::1", "ff00::/8"),
        ("2001:db8::1", "2001:db8::/32"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/23"),  # Teredo
        ("::ffff:127.0.0.1", "127.0.0.0/8"),  # v4-mapped: judged as the IPv4 inside
        ("::ffff:10.0.0.1", "10.0.0.0/8"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),
        ("64:ff9b::7f00:1", "127.0.0.0/8"),  # NAT64
        ("64:ff9b::a9fe:a9fe", "169.254.0.0/16"),
        ("2002:7f00:1::1", "127.0.0.0/8"),  # 6to4
        ("2002:a9fe:a9fe::", "169.254.0.0/16"),
        # public
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("172.32.0.1", None),
        ("100.128.0.1", None),
        ("198.20.0.1", None),
        ("2606:4700::1111", None),
        ("2a00:1450:4001::1", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),
        ("2002:808:808::1", None),
    ],
)
def test_blocked_network(address: str, network: str | None) -> None:
    found = blocked_network(ipaddress.ip_address(address))
    assert (str(found) if found else None) == network


# -- the guarded network backend, with a fake socket layer underneath ----------------------------


class FakeStream(httpcore.AsyncNetworkStream):
    async def aclose(self) -> None:
        return None


@dataclass
class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the socket layer: records connects; IPs in ``down`` refuse them."""

    down: set[str] = field(default_factory=set)
    calls: list[tuple[str, int]] = field(default_factory=list)

    async def connect_tcp(self, host: str, port: int, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        self.calls.append((host, port))
        if host in self.down:
            raise httpcore.ConnectError("refused")
        return FakeStream()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.mark.parametrize(
    ("host", "port", "answers", "error", "message"),
    [
        ("evil.test", 80, ["127.0.0.1"], BlockedAddress, PRIVATE),
        ("metadata.test", 80, ["169.254.169.254"], BlockedAddress, PRIVATE),
        ("v6.test", 443, ["::1"], BlockedAddress, PRIVATE),
        ("mapped.test", 443, ["::ffff:127.0.0.1"], BlockedAddress, PRIVATE),
        ("nat64.test", 443, ["64:ff9b::a9fe:a9fe"], BlockedAddress, PRIVATE),
        ("rebind.test", 80, ["93.184.216.34", "10.0.0.1"], BlockedAddress, PRIVATE),
        ("169.254.169.254", 80, None, BlockedAddress, PRIVATE),
        ("2130706433", 80, None, BlockedAddress, PRIVATE),
        ("::1", 80, None, BlockedAddress, PRIVATE),
        ("public.example", 8080, ["93.184.216.34"], BlockedAddress,
         "I only fetch pages from the usual web ports (80 and 443), not port 8080."),
        ("nxdomain.test", 80, None, ConnectFailed, NO_SUCH_HOST),
        ("empty.test", 80, [], ConnectFailed, NO_SUCH_HOST),
        ("junk.test", 80, ["not-an-ip"], ConnectFailed, NO_SUCH_HOST),
    ],
)  # fmt: skip
async def test_backend_refuses_before_connecting(
    host: str, port: int, answers: list[str] | None, error: type[FetchError], message: str
) -> None:
    resolver = FakeResolver({} if answers is None else {host: answers})
    inner = RecordingBackend()
    backend = GuardedBackend(FetchPolicy(), resolver, inner)
    with pytest.raises(error) as caught:
        await backend.connect_tcp(host, port)
    assert caught.value.user_message == message
    assert inner.calls == []
    if answers is None and error is BlockedAddress:
        assert resolver.asked == []  # literals are judged without asking DNS


@pytest.mark.parametrize(
    ("answers", "down", "connected"),
    [
        (["93.184.216.34"], set(), [("93.184.216.34", 443)]),
        (["2606:4700::1111"], set(), [("2606:4700::1111", 443)]),
        (
            ["93.184.216.34", "93.184.216.35"],
            {"93.184.216.34"},
            [("93.184.216.34", 443), ("93.184.216.35", 443)],
        ),
    ],
)
async def test_backend_connects_to_the_ip_it_checked(
    answers: list[str], down: set[str], connected: list[tuple[str, int]]
) -> None:
    resolver = FakeResolver({"news.example": answers})
    inner = RecordingBackend(down=down)
    backend = GuardedBackend(FetchPolicy(), resolver, inner)
    stream = await backend.connect_tcp("news.example", 443)
    assert isinstance(stream, FakeStream)
    assert inner.calls == connected  # the checked IP, never the name: no second DNS answer
    assert resolver.asked == ["news.example"]  # resolved exactly once


async def test_backend_all_candidates_down_is_a_connect_error() -> None:
    inner = RecordingBackend(down={"93.184.216.34"})
    backend = GuardedBackend(FetchPolicy(), FakeResolver({"news.example": ["93.184.216.34"]}), inner)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("news.example", 443)


async def test_backend_allow_private_lifts_address_and_port_rules() -> None:
    inner = RecordingBackend()
    backend = GuardedBackend(FetchPolicy(allow_private_addresses=True), FakeResolver(), inner)
    await backend.connect_tcp("127.0.0.1", 8080)
    assert inner.calls == [("127.0.0.1", 8080)]


# -- fetch with the guard on: refused from the URL text, before any connection ------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://[::]/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://198.18.0.1/",
        "http://192.0.2.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://[ff02::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "https://127.0.0.1/",
    ],
)
async def test_guard_refuses_address_literals(
    url: str, resolver: FakeResolver, connects: list[tuple[str, int]]
) -> None:
    async with Fetcher(FetchPolicy(timeout=2), resolver) as fetcher:
        error = await failure(fetcher, url)
    assert type(error) is BlockedAddress
    assert error.user_message == PRIVATE
    assert error.permanent
    assert connects == [] and resolver.asked == []


@pytest.mark.parametrize("host", ["evil.test", "metadata.test", "v6.test", "mapped.test", "mixed.test"])
async def test_guard_refuses_names_that_resolve_to_private_addresses(
    host: str, resolver: FakeResolver, connects: list[tuple[str, int]]
) -> None:
    async with Fetcher(FetchPolicy(timeout=2), resolver) as fetcher:
        error = await failure(fetcher, f"http://{host}/news")
    assert type(error) is BlockedAddress
    assert error.user_message == PRIVATE
    assert connects == [] and resolver.asked == [host]


async def test_guard_uses_the_system_resolver_by_default(connects: list[tuple[str, int]]) -> None:
    # "localhost" is answered from /etc/hosts; the answer (loopback) must be refused.
    async with Fetcher(FetchPolicy(timeout=2)) as fetcher:
        error = await failure(fetcher, "http://localhost/")
    assert type(error) is BlockedAddress
    assert connects == []


async def test_guard_refuses_a_real_loopback_server(
    articles: ArticleServer, resolver: FakeResolver, connects: list[tuple[str, int]]
) -> None:
    """The server is up on 127.0.0.1 and the port is allowed: the address alone refuses it."""
    articles.set_page("/a", ARTICLE)
    resolver.answers["public.test"] = ["127.0.0.1"]
    policy = FetchPolicy(timeout=2, allowed_ports=(articles.port,))
    async with Fetcher(policy, resolver) as fetcher:
        error = await failure(fetcher, articles.url("/a", host="public.test"))
    assert type(error) is BlockedAddress
    assert connects == [] and articles.hits("/a") == 0


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("http://public.test:8080/", BlockedAddress,
         "I only fetch pages from the usual web ports (80 and 443), not port 8080."),
        ("https://public.test:22/", BlockedAddress,
         "I only fetch pages from the usual web ports (80 and 443), not port 22."),
        ("https://user:pw@public.test/", BadURL, CREDENTIALS),
        ("https://user@public.test/", BadURL, CREDENTIALS),
        ("ftp://public.test/", BadURL, "I can only fetch http:// and https:// links."),
        ("file:///etc/passwd", BadURL, "I can only fetch http:// and https:// links."),
        ("javascript:alert(1)", BadURL, "I can only fetch http:// and https:// links."),
        ("not a url", BadURL, "I can only fetch http:// and https:// links."),
        ("http://[::1", BadURL, "That doesn't look like a web address."),
        ("http://public.test:99999/", BadURL, "That doesn't look like a web address."),
    ],
)  # fmt: skip
async def test_guard_refuses_urls(
    url: str, error: type[FetchError], message: str, resolver: FakeResolver, connects: list[tuple[str, int]]
) -> None:
    async with Fetcher(FetchPolicy(timeout=2), resolver) as fetcher:
        found = await failure(fetcher, url)
    assert type(found) is error
    assert found.user_message == message
    assert found.permanent
    assert connects == [] and resolver.asked == []


async def test_guard_on_fetches_a_public_address(
    public_web: ArticleServer, resolver: FakeResolver, connects: list[tuple[str, int]]
) -> None:
    public_web.set_page("/news/a", ARTICLE)
    async with Fetcher(guarded_policy(public_web), resolver) as fetcher:
        page = await fetcher.fetch(public_web.url("/news/a?utm_source=x", host="public.test"))
    assert page.html == ARTICLE
    assert page.url == f"http://public.test:{public_web.port}/news/a"
    assert connects == [(PUBLIC, public_web.port)]  # the resolver's checked answer
    headers = public_web.last_headers("/news/a")
    assert headers is not None and headers["Host"] == f"public.test:{public_web.port}"


# -- redirects: every hop is checked again -------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "error", "message"),
    [
        ("http://127.0.0.1:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://localhost.:{port}/a", BlockedAddress, REDIRECT_PRIVATE),  # a name answered with loopback
        ("http://169.254.169.254/latest/meta-data/", BlockedAddress, REDIRECT_PRIVATE),
        ("http://metadata.test/latest/meta-data/", BlockedAddress, REDIRECT_PRIVATE),
        ("http://evil.test:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://[::1]:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://[::ffff:127.0.0.1]:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://0x7f000001:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://2130706433:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://0177.0.0.1:{port}/a", BlockedAddress, REDIRECT_PRIVATE),
        ("http://public.test:8080/a", BlockedAddress,
         "The page redirects to an unusual port (8080), so I won't follow it."),
        ("ftp://public.test/a", BadURL, REDIRECT_BAD),
        ("javascript:alert(1)", BadURL, REDIRECT_BAD),
        ("file:///etc/passwd", BadURL, REDIRECT_BAD),
        ("http://user:pw@public.test:{port}/a", BadURL, REDIRECT_BAD),
        ("http://[::1", BadURL, REDIRECT_BAD),
    ],
)  # fmt: skip
async def test_redirect_hops_are_checked(
    location: str,
    error: type[FetchError],
    message: str,
    public_web: ArticleServer,
    resolver: FakeResolver,
    connects: list[tuple[str, int]],
) -> None:
    resolver.answers["localhost."] = ["127.0.0.1"]
    public_web.set_page("/a", ARTICLE)
    public_web.redirect("/start", location.format(port=public_web.port))
    async with Fetcher(guarded_policy(public_web), resolver) as fetcher:
        found = await failure(fetcher, public_web.url("/start", host="public.test"))
    assert type(found) is error
    assert found.user_message == message
    assert public_web.hits("/start") == 1 and public_web.hits("/a") == 0
    assert {ip for ip, _ in connects} == {PUBLIC}  # nothing else was even tried


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_statuses_are_followed(
    status: int, public_web: ArticleServer, resolver: FakeResolver
) -> None:
    public_web.set_page("/final", ARTICLE)
    public_web.redirect("/start", "/final?utm_medium=rss#top", status=status)
    async with Fetcher(guarded_policy(public_web), resolver) as fetcher:
        page = await fetcher.fetch(public_web.url("/start", host="public.test"))
    assert page.url == f"http://public.test:{public_web.port}/final"
    assert page.status == 200 and page.html == ARTICLE


@pytest.mark.parametrize(
    ("chain", "max_redirects", "ok"),
    [
        (["/r1", "/r2", "/r3"], 5, True),
        (["/r1", "/r2", "/r3"], 3, True),
        (["/r1", "/r2", "/r3"], 2, False),
        (["/r1"], 0, False),
        ([], 0, True),
    ],
)
async def test_redirect_limit(
    chain: list[str], max_redirects: int, ok: bool, articles: ArticleServer
) -> None:
    articles.set_page("/final", ARTICLE)
    for here, there in zip(chain, [*chain[1:], "/final"], strict=False):
        articles.redirect(here, there)
    start = chain[0] if chain else "/final"
    async with Fetcher(open_policy(max_redirects=max_redirects)) as fetcher:
        if ok:
            assert (await fetcher.fetch(articles.url(start))).html == ARTICLE
        else:
            error = await failure(fetcher, articles.url(start))
            assert type(error) is TooManyRedirects
            assert error.user_message == "The page redirects too many times."
            assert not error.permanent


async def test_redirect_loop_stops(articles: ArticleServer) -> None:
    articles.redirect("/loop1", "/loop2")
    articles.redirect("/loop2", articles.url("/loop1"))
    async with Fetcher(open_policy(max_redirects=5)) as fetcher:
        error = await failure(fetcher, articles.url("/loop1"))
    assert type(error) is TooManyRedirects
    assert articles.hits("/loop1") + articles.hits("/loop2") == 6  # the first try + 5 hops


async def test_cookies_last_one_redirect_chain_only(articles: ArticleServer, open_fetcher: Fetcher) -> None:
    """A consent redirect that sets a cookie works; the cookie is not kept for later fetches."""

    async def set_cookie(request: web.Request) -> web.StreamResponse:
        response = web.Response(status=302, headers={"Location": "/article"})
        response.set_cookie("consent", "yes", path="/")
        return response

    async def article(request: web.Request) -> web.StreamResponse:
        if request.cookies.get("consent") != "yes":
            return web.Response(status=403, text="no consent")
        return web.Response(text=ARTICLE, content_type="text/html")

    articles.set_route("/consent", set_cookie)
    articles.set_route("/article", article)
    assert (await open_fetcher.fetch(articles.url("/consent"))).html == ARTICLE
    error = await failure(open_fetcher, articles.url("/article"))
    assert isinstance(error, HTTPStatusError) and error.status == 403


# -- time and size limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "timeout", "max_seconds"),
    [
        (drip, 1.5, 2.5),  # each byte arrives well within the read timeout: only the deadline cuts it
        (silent, 0.5, 1.5),
    ],
)
async def test_deadline_cuts_slow_servers(
    handler: Any, timeout: float, max_seconds: float, articles: ArticleServer
) -> None:
    articles.set_route("/slow", handler)
    async with Fetcher(open_policy(timeout=timeout)) as fetcher:
        started = time.monotonic()
        error = await failure(fetcher, articles.url("/slow"))
        elapsed = time.monotonic() - started
    assert type(error) is FetchTimeout
    assert error.user_message == "The site took too long to answer."
    assert not error.permanent
    assert timeout * 0.9 <= elapsed < max_seconds


async def test_endless_body_stops_at_max_bytes(articles: ArticleServer) -> None:
    articles.set_route("/endless", endless)
    async with Fetcher(open_policy(max_bytes=100_000)) as fetcher:
        started = time.monotonic()
        error = await failure(fetcher, articles.url("/endless"))
    assert type(error) is TooLarge
    assert error.user_message == "The page is too big (over 100 KB)."
    assert error.permanent
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip"])
async def test_gzip_bomb_stops_at_max_bytes_while_inflating(encoding: str, articles: ArticleServer) -> None:
    bomb = gzip_zeros(50)
    assert len(bomb) < 100_000
    articles.set_page("/bomb", bomb, headers={"Content-Encoding": encoding})
    async with Fetcher(open_policy(max_bytes=1_000_000)) as fetcher:
        tracemalloc.start()
        try:
            error = await failure(fetcher, articles.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert type(error) is TooLarge
    assert error.user_message == "The page is too big (over 1 MB)."
    assert peak < 12_000_000  # never inflated much past the limit (the bomb is 50 MB)


@pytest.mark.parametrize(
    ("size", "declared", "ok"),
    [
        (1000, True, True),  # exactly max_bytes
        (1001, True, False),  # refused from Content-Length, before reading
        (1001, False, False),  # no Content-Length (chunked): refused while streaming
    ],
)
async def test_max_bytes_boundary(size: int, declared: bool, ok: bool, articles: ArticleServer) -> None:
    body = b"<html>" + b"x" * (size - 6)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    if declared:
        articles.set_page("/p", body)
    else:
        articles.set_route("/p", chunked)
    async with Fetcher(open_policy(max_bytes=1000)) as fetcher:
        if ok:
            assert len((await fetcher.fetch(articles.url("/p"))).html) == size
        else:
            error = await failure(fetcher, articles.url("/p"))
            assert type(error) is TooLarge
            assert error.user_message == "The page is too big (over 1 KB)."


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(ARTICLE.encode(), mtime=0)),
        ("GZIP", gzip.compress(ARTICLE.encode(), mtime=0)),
        ("deflate", zlib.compress(ARTICLE.encode())),
        ("deflate", raw_deflate(ARTICLE.encode())),  # what some servers send as "deflate"
        ("identity", ARTICLE.encode()),
    ],
)
async def test_compressed_pages_are_decoded(
    encoding: str, body: bytes, articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/z", body, headers={"Content-Encoding": encoding})
    page = await open_fetcher.fetch(articles.url("/z"))
    assert page.html == ARTICLE
    assert page.body_hash == hashlib.sha256(ARTICLE.encode()).hexdigest()  # of the decoded body
    headers = articles.last_headers("/z")
    assert headers is not None and headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("gzip", b"this is not gzip at all", "The site sent a response I couldn't read."),
        ("deflate", b"\xff\xfe\xfd not deflate", "The site sent a response I couldn't read."),
        ("br", b"\x0b\x02\x80hello\x03", "The site sent the page in a compression format I can't read."),
        ("gzip, gzip", gzip.compress(gzip.compress(b"<html>", mtime=0), mtime=0),
         "The site sent the page in a compression format I can't read."),
    ],
)  # fmt: skip
async def test_broken_or_unknown_compression(
    encoding: str, body: bytes, message: str, articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/z", body, headers={"Content-Encoding": encoding})
    error = await failure(open_fetcher, articles.url("/z"))
    assert type(error) is BadResponse
    assert error.user_message == message
    assert not error.permanent


# -- what the page is ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("text/html; charset=utf-8", ARTICLE, None),
        ("TEXT/HTML", ARTICLE, None),
        ("text/html;charset=UTF-8", ARTICLE, None),
        ("application/xhtml+xml", ARTICLE, None),
        (None, ARTICLE, None),
        (None, "<html><body>x</body></html>", None),
        (None, "\ufeff  \n<!doctype HTML><p>x", None),
        ("application/pdf", "%PDF-1.4", "That link is not a web page (it's application/pdf)."),
        ("application/json", '{"a": 1}', "That link is not a web page (it's application/json)."),
        ("image/png", "\x89PNG", "That link is not a web page (it's image/png)."),
        ("text/plain; charset=utf-8", ARTICLE, "That link is not a web page (it's text/plain)."),
        ("text/x-<b>bold</b>", ARTICLE, "That link is not a web page."),  # server text is never echoed
        (None, "%PDF-1.4 <html>", "That link is not a web page."),
        (None, '{"html": "<html>"}', "That link is not a web page."),
        (None, "", "That link is not a web page."),
    ],
)
async def test_only_html_is_accepted(
    content_type: str | None, body: str, message: str | None, articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/p", body, content_type=content_type)
    if message is None:
        assert (await open_fetcher.fetch(articles.url("/p"))).html == body.removeprefix("\ufeff")
    else:
        error = await failure(open_fetcher, articles.url("/p"))
        assert type(error) is NotHTML
        assert error.user_message == message
        assert error.permanent


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("text/html; charset=windows-1251", "<p>Привет</p>".encode("cp1251"), "<p>Привет</p>"),
        ("text/html; charset=\"koi8-r\"", "<p>Мир</p>".encode("koi8_r"), "<p>Мир</p>"),
        ("text/html", b'<meta charset="iso-8859-15"><p>' + "€".encode("iso-8859-15"), "€"),
        ("text/html", b"<meta charset=shift_jis><p>" + "日本".encode("shift_jis"), "日本"),
        ("text/html",
         b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>' + "Мир".encode("koi8_r"),
         "Мир"),
        ("text/html; charset=bogus-xyz", "<p>café</p>".encode(), "café"),
        ("text/html; charset=bogus-xyz", b'<meta charset="windows-1252"><p>\x93q\x94', "\u201cq\u201d"),
        ("text/html; charset=iso-8859-1", b"<p>\x93quoted\x94", "\u201cquoted\u201d"),  # as browsers do
        ("text/html", b"<p>caf\xe9</p>", "caf\ufffd"),
        ("text/html", b"<p>\xff\xfe\x00garbage", "<p>\ufffd\ufffd\x00garbage"),
        ("text/html; charset=iso-8859-1", b"\xef\xbb\xbf<p>" + "café".encode(), "café"),  # the BOM wins
        ("text/html; charset=base64", "<p>café</p>".encode(), "café"),  # a codec, not a charset
        ("text/html; charset=idna", "<p>café</p>".encode(), "café"),
        ("text/html; charset=rot13", "<p>café</p>".encode(), "café"),
        ("text/html", b'<meta charset="utf-16"><p>' + "café".encode(), "café"),
        ("text/html", b"<p>" + b" " * 5000 + b'<meta charset="koi8-r">' + "é".encode(), "é"),  # past 4 KB
    ],
)  # fmt: skip
async def test_charset(
    content_type: str, body: bytes, text: str, articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/p", body, content_type=content_type)
    page = await open_fetcher.fetch(articles.url("/p"))
    assert text in page.html
    assert page.body_hash == hashlib.sha256(body).hexdigest()


def test_decode_html_without_a_server() -> None:
    assert decode_html("<p>é</p>".encode("cp1252"), "windows-1252") == "<p>é</p>"
    assert decode_html(b"\xff\xfe<\x00p\x00>\x00", None) == "<p>"  # UTF-16 LE by its BOM


# -- status codes and conditional GET ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent", "message"),
    [
        (404, True, "The page is gone (HTTP 404)."),
        (410, True, "The page is gone (HTTP 410)."),
        (400, True, "The site answered with an error (HTTP 400)."),
        (401, True, "The site refuses to show me this page (HTTP 401)."),
        (403, True, "The site refuses to show me this page (HTTP 403)."),
        (451, True, "The site refuses to show me this page (HTTP 451)."),
        (408, False, "The site answered with an error (HTTP 408)."),
        (429, False, "The site is asking me to slow down (HTTP 429)."),
        (500, False, "The site is having trouble (HTTP 500)."),
        (502, False, "The site is having trouble (HTTP 502)."),
        (503, False, "The site is having trouble (HTTP 503)."),
        (304, False, "The site answered with an error (HTTP 304)."),  # 304 to a GET that asked nothing
        (300, False, "The site answered with an error (HTTP 300)."),  # a redirect without Location
    ],
)
async def test_http_errors(
    status: int, permanent: bool, message: str, articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/p", "<html>error page</html>", status=status)
    error = await failure(open_fetcher, articles.url("/p"))
    assert type(error) is HTTPStatusError
    assert error.status == status
    assert error.permanent is permanent
    assert error.user_message == message


async def test_etag_conditional_get(articles: ArticleServer, open_fetcher: Fetcher) -> None:
    articles.set_page("/p", ARTICLE, etag=True)
    first = await open_fetcher.fetch(articles.url("/p"))
    assert not first.not_modified and first.etag and first.body_hash
    second = await open_fetcher.fetch(articles.url("/p"), etag=first.etag)
    assert second == type(second)(
        url=first.url,
        status=304,
        html="",
        etag=first.etag,
        last_modified=None,
        body_hash=None,
        not_modified=True,
    )
    headers = articles.last_headers("/p")
    assert headers is not None and headers["If-None-Match"] == first.etag
    stale = await open_fetcher.fetch(articles.url("/p"), etag='"stale"')
    assert stale.status == 200 and stale.html == ARTICLE and stale.body_hash == first.body_hash


async def test_a_304_keeps_the_connection_for_the_next_fetch(
    articles: ArticleServer, open_fetcher: Fetcher
) -> None:
    articles.set_page("/p", ARTICLE, etag=True)
    first = await open_fetcher.fetch(articles.url("/p"))
    for _ in range(3):
        assert (await open_fetcher.fetch(articles.url("/p"), etag=first.etag)).not_modified
    peers = articles.peers("/p")
    assert len(peers) == 4 and len(set(peers)) == 1  # one TCP connection for all four


async def test_a_kept_connection_the_server_closed_is_not_reused(open_fetcher: Fetcher) -> None:
    async with ArticleServer() as first:
        first.set_page("/p", ARTICLE)
        assert (await open_fetcher.fetch(first.url("/p"))).html == ARTICLE
        port = first.port
    # The server went away, closing the kept connection; a new one listens on the same port.
    async with ArticleServer(port=port) as second:
        second.set_page("/p", ARTICLE)
        assert (await open_fetcher.fetch(second.url("/p"))).html == ARTICLE
        assert second.hits("/p") == 1


async def test_last_modified_conditional_get(articles: ArticleServer, open_fetcher: Fetcher) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    articles.set_page("/p", ARTICLE, headers={"Last-Modified": stamp})
    first = await open_fetcher.fetch(articles.url("/p"))
    assert first.last_modified == stamp and first.etag is None
    second = await open_fetcher.fetch(articles.url("/p"), last_modified=stamp)
    assert second.not_modified and second.status == 304 and second.last_modified == stamp
    headers = articles.last_headers("/p")
    assert headers is not None and headers["If-Modified-Since"] == stamp


# -- connections ---------------------------------------------------------------------------------


async def test_nothing_listening(open_fetcher: Fetcher) -> None:
    error = await failure(open_fetcher, f"http://127.0.0.1:{free_port()}/")
    assert type(error) is ConnectFailed
    assert error.user_message == "I couldn't connect to the site."
    assert not error.permanent


async def test_unknown_name(resolver: FakeResolver) -> None:
    async with Fetcher(FetchPolicy(timeout=2), resolver) as fetcher:
        error = await failure(fetcher, "https://no-such-site.test/news")
    assert type(error) is ConnectFailed
    assert error.user_message == NO_SUCH_HOST
    assert resolver.asked == ["no-such-site.test"]


async def test_server_hangs_up(articles: ArticleServer, open_fetcher: Fetcher) -> None:
    articles.set_route("/p", hang_up)
    error = await failure(open_fetcher, articles.url("/p"))
    assert type(error) is BadResponse
    assert error.user_message == "The site sent a response I couldn't read."


async def test_environment_proxies_are_ignored(
    monkeypatch: pytest.MonkeyPatch, articles: ArticleServer, connects: list[tuple[str, int]]
) -> None:
    """A proxy from the environment would bypass the guarded backend."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    articles.set_page("/p", ARTICLE)
    async with Fetcher(open_policy()) as fetcher:
        assert (await fetcher.fetch(articles.url("/p"))).html == ARTICLE
    assert connects == [("127.0.0.1", articles.port)]


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts: a self-signed certificate for public.test only, trusted."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=public.test",
         "-addext", "subjectAltName=DNS:public.test"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


@pytest.fixture
async def tls_web(tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> AsyncIterator[ArticleServer]:
    async with ArticleServer(PUBLIC, ssl_context=tls_contexts[0]) as server:
        yield server


@pytest.mark.parametrize(("host", "ok"), [("public.test", True), ("other.test", False)])
async def test_tls_checks_the_hostname_not_the_ip(
    host: str,
    ok: bool,
    tls_web: ArticleServer,
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
    resolver: FakeResolver,
    connects: list[tuple[str, int]],
) -> None:
    """Connected by IP, yet SNI and the certificate check use the URL's host name."""
    resolver.answers["other.test"] = [PUBLIC]
    tls_web.set_page("/s", ARTICLE)
    async with Fetcher(guarded_policy(tls_web), resolver, ssl_context=tls_contexts[1]) as fetcher:
        if ok:
            assert (await fetcher.fetch(tls_web.url("/s", host=host))).html == ARTICLE
        else:
            error = await failure(fetcher, tls_web.url("/s", host=host))
            assert type(error) is ConnectFailed
            assert error.user_message == "The site's security certificate isn't valid."
    assert connects == [(PUBLIC, tls_web.port)]


# -- the rest of the contract --------------------------------------------------------------------


def test_policy_from_settings() -> None:
    m = MonitorSettings(
        timeout=7, max_bytes=123, max_redirects=2, allow_private_addresses=True, allowed_ports=(8080,)
    )
    assert FetchPolicy.from_settings(m) == FetchPolicy(
        timeout=7.0,
        max_bytes=123,
        max_redirects=2,
        allow_private_addresses=True,
        allowed_ports=(8080,),
        user_agent=m.user_agent,
    )


async def test_user_agent_is_sent(articles: ArticleServer) -> None:
    articles.set_page("/p", ARTICLE)
    async with Fetcher(open_policy(user_agent="RedlineTest/1")) as fetcher:
        await fetcher.fetch(articles.url("/p"))
    headers = articles.last_headers("/p")
    assert headers is not None and headers["User-Agent"] == "RedlineTest/1"


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (BlockedAddress(), True),
        (BadURL(), True),
        (NotHTML(), True),
        (TooLarge(), True),
        (TooManyRedirects(), False),
        (FetchTimeout(), False),
        (ConnectFailed(), False),
        (BadResponse(), False),
        (HTTPStatusError(404), True),
        (HTTPStatusError(503), False),
    ],
)
def test_every_error_is_a_fetch_error_with_a_safe_message(error: FetchError, permanent: bool) -> None:
    assert isinstance(error, FetchError)
    assert error.permanent is permanent
    assert error.user_message and str(error) == error.user_message
    assert len(error.user_message) <= 120
    assert not set("<>&") & set(error.user_message)


async def test_logs_name_the_host_but_never_the_path_or_query(
    articles: ArticleServer, open_fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    articles.set_page("/secret-path", ARTICLE)
    with caplog.at_level(logging.DEBUG, logger="bot.net.fetch"):
        await open_fetcher.fetch(articles.url("/secret-path?token=hunter2"))
        await failure(open_fetcher, articles.url("/missing?token=hunter2"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.net.fetch"]
    assert any("fetched host=127.0.0.1 status=200" in line for line in lines)
    assert any("fetch_failed host=127.0.0.1 error=HTTPStatusError" in line for line in lines)
    assert not any("hunter2" in line or "secret-path" in line for line in lines)
