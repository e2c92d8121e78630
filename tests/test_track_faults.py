"""Bad input at /track, end to end: the exact reply, and the bot still answers /list after.

Redirects to private addresses are tested at the fetcher (tests/test_net_fetch.py), where a test
network can be exempted: here the guard is either off (so nothing may point outside
127.0.0.1) or on (so the local server itself is refused).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiohttp import web

from bot.config import with_overrides
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.misbehave import drip, endless, gzip_zeros, silent
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html

ALICE = 1001
EMPTY_LIST = "This chat tracks no articles yet. Send /track URL to start."


def page(body: bytes | str, **kw: object) -> Callable[[ArticleServer, str], None]:
    return lambda server, path: server.set_page(path, body, **kw)


def route(handler: object) -> Callable[[ArticleServer, str], None]:
    return lambda server, path: server.set_route(path, handler)


def redirect_to(target: str) -> Callable[[ArticleServer, str], None]:
    return lambda server, path: server.redirect(path, target)


async def loop_a(request: web.Request) -> web.Response:
    raise web.HTTPFound(str(request.url.with_path("/loop-b")))


async def loop_b(request: web.Request) -> web.Response:
    raise web.HTTPFound(str(request.url.with_path("/loop-a")))


def redirect_loop(server: ArticleServer, path: str) -> None:
    server.set_route(path, loop_a)
    server.set_route("/loop-a", loop_a)
    server.set_route("/loop-b", loop_b)


@pytest.mark.parametrize(
    ("setup", "reply"),
    [
        (page("<html><body>nope</body></html>", status=404), "The page is gone (HTTP 404)."),
        (page("<html><body>nope</body></html>", status=410), "The page is gone (HTTP 410)."),
        (page("<html><body>down</body></html>", status=503), "The site is having trouble (HTTP 503)."),
        (
            page("<html><body>no</body></html>", status=403),
            "The site refuses to show me this page (HTTP 403).",
        ),
        (
            page(b"%PDF-1.4 ...", content_type="application/pdf"),
            "That link is not a web page (it's application/pdf).",
        ),
        (
            page(b'{"a": 1}', content_type="application/json"),
            "That link is not a web page (it's application/json).",
        ),
        (route(drip), "The site took too long to answer."),
        (route(silent), "The site took too long to answer."),
        (route(endless), "The page is too big (over 200 KB)."),
        (page(gzip_zeros(20), headers={"Content-Encoding": "gzip"}), "The page is too big (over 200 KB)."),
        (redirect_loop, "The page redirects too many times."),
        (redirect_to("ftp://example.com/file"), "The page redirects to a link I can't follow."),
        (
            page(
                "<html><head><title>Section</title></head><body><nav><a href='/a'>A</a></nav></body></html>"
            ),
            "That page has too little text to follow (it may be behind a paywall or not be an article).",
        ),
        (
            page("", content_type="text/html"),
            "That page doesn't look like an article (no headline or text found).",
        ),
    ],
)
async def test_track_bad_pages(
    telegram: FakeTelegram,
    articles: ArticleServer,
    bots: RunningBots,
    setup: Callable[[ArticleServer, str], None],
    reply: str,
) -> None:
    settings = with_overrides(
        e2e_settings(telegram, bots.db_path), monitor={"timeout": 1.5, "max_bytes": 200_000}
    )
    await bots.start(settings)
    setup(articles, "/bad")
    answer = await telegram.ask(ALICE, f"/track {articles.url('/bad')}", timeout=15)
    assert answer.text == reply
    assert (await telegram.ask(ALICE, "/list")).text == EMPTY_LIST


@pytest.mark.parametrize(
    ("url", "reply"),
    [
        (
            "not a url",
            "That address has no domain name. Send a full link like https://example.com/news/story",
        ),
        (
            "http://ex..com/a",
            "That doesn't look like a web address. Send it like this: /track https://example.com/news/story",
        ),
        ("ftp://example.com/a", "I can only follow http:// and https:// links."),
        ("javascript:alert(1)", "I can only follow http:// and https:// links."),
        ("https://user:pw@example.com/a", "Links with a user name or password in them aren't supported."),
        ("http://127.0.0.1/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://2130706433/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://0177.0.0.1/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://0x7f.1/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://127.1/a", "That address is on a private or local network, so I won't fetch it."),
        (
            "http://169.254.169.254/latest/meta-data/",
            "That address is on a private or local network, so I won't fetch it.",
        ),
        ("http://10.0.0.8/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://100.64.1.1/a", "That address is on a private or local network, so I won't fetch it."),
        ("http://[::1]/a", "That address is on a private or local network, so I won't fetch it."),
        (
            "http://[::ffff:127.0.0.1]/a",
            "That address is on a private or local network, so I won't fetch it.",
        ),
        (
            "http://localhost/a",
            "That address has no domain name. Send a full link like https://example.com/news/story",
        ),
        (
            "https://example.com:8080/a",
            "I only fetch pages from the usual web ports (80 and 443), not port 8080.",
        ),
    ],
)
async def test_track_refused_addresses_with_the_guard_on(
    telegram: FakeTelegram, bots: RunningBots, url: str, reply: str
) -> None:
    settings = with_overrides(
        e2e_settings(telegram, bots.db_path), monitor={"allow_private_addresses": False}
    )
    await bots.start(settings)
    answer = await telegram.ask(ALICE, f"/track {url}", timeout=15)
    assert answer.text == reply
    assert (await telegram.ask(ALICE, "/list")).text == EMPTY_LIST


async def test_guard_on_refuses_the_local_article_server(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """The page is really there on 127.0.0.1: only the guard stands between."""
    settings = with_overrides(
        e2e_settings(telegram, bots.db_path),
        monitor={"allow_private_addresses": False, "allowed_ports": (articles.port,)},
    )
    await bots.start(settings)
    articles.set_page("/a", article_html())
    answer = await telegram.ask(ALICE, f"/track {articles.url('/a')}")
    assert answer.text == "That address is on a private or local network, so I won't fetch it."
    assert articles.hits("/a") == 0
