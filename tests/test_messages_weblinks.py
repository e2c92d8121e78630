"""The web addresses (bot.messages.weblinks) and the link line Telegram messages carry to them
(bot.messages.replies.page_link / with_page_link): one row per case."""

from __future__ import annotations

import pytest

from bot.messages.limits import MAX_ENTITIES, MAX_LENGTH, count_entities, fits
from bot.messages.replies import page_link, with_page_link
from bot.messages.weblinks import WebLinks

ROOT = "https://redline.example.org"
URL = f"{ROOT}/c/tok/a/7#v3"


@pytest.mark.parametrize(
    ("links", "address", "expected"),
    [
        (WebLinks(ROOT), lambda w: w.article(7), f"{ROOT}/a/7"),
        (WebLinks(ROOT), lambda w: w.article(7, 3), f"{ROOT}/a/7#v3"),
        (WebLinks(ROOT), lambda w: w.article_feed(7), f"{ROOT}/a/7/feed.atom"),
        (WebLinks(ROOT), lambda w: w.outlet("theguardian.com"), f"{ROOT}/s/theguardian.com"),
        (WebLinks(ROOT), lambda w: w.outlet("127.0.0.1:8080"), f"{ROOT}/s/127.0.0.1%3A8080"),
        (WebLinks(ROOT, "tok"), lambda w: w.article(7), f"{ROOT}/c/tok/a/7"),
        (WebLinks(ROOT, "tok"), lambda w: w.chat_feed(), f"{ROOT}/c/tok/feed.atom"),
        (WebLinks("", "tok"), lambda w: w.article_feed(7), "/c/tok/a/7/feed.atom"),
    ],
)
def test_addresses(links: WebLinks, address, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert address(links) == expected


def test_a_public_address_has_no_chat_feed() -> None:
    with pytest.raises(ValueError, match="a chat's feed needs the chat's token"):
        WebLinks(ROOT).chat_feed()


def test_page_link_escapes_the_address() -> None:
    assert page_link('https://x.example/a?b=1&c="2"') == (
        '🌐 <a href="https://x.example/a?b=1&amp;c=&quot;2&quot;">Every version, word by word</a>'
    )


@pytest.mark.parametrize(
    ("text", "linked"),
    [
        ("✏️ Headline changed · <b>cancels</b>", True),
        ("x" * (MAX_LENGTH - 40), True),
        ("x" * (MAX_LENGTH - 20), False),  # the link line would pass 4096 visible units
        ("<b>w</b> " * (MAX_ENTITIES - 1), True),
        ("<b>w</b> " * MAX_ENTITIES, False),  # it would be the 101st entity
    ],
)
def test_an_announcement_carries_the_link_only_when_it_still_fits(text: str, linked: bool) -> None:
    html, plain = with_page_link(text, "plain", URL)
    if linked:
        assert (html, plain) == (f"{text}\n{page_link(URL)}", f"plain\n🌐 Every version, word by word: {URL}")
        assert fits(html) and count_entities(html) <= MAX_ENTITIES
    else:
        assert (html, plain) == (text, "plain")
