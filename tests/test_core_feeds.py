"""Feeds, section pages and OPML, pure: one row per case (bot.core.feeds, bot.messages.opml,
and /follow's argument parsing)."""

from __future__ import annotations

import pytest

from bot.core.feeds import Entry, NotAFeed, article_links, feed_links, looks_like_article, parse_feed
from bot.core.watchwords import Watchwords
from bot.messages.opml import NotOPML, Outline, parse_opml, render_opml
from bot.service.follow import FollowArgs, parse_follow_args
from tests.feeds import atom, rss, section_page

BASE = "https://news.example/world/rss.xml"
ITEMS = [
    ("https://news.example/world/2026/dec/07/talks-collapse-in-paris", "Talks collapse in Paris"),
    ("/world/2026/dec/07/ceasefire-holds-for-a-third-day", "Ceasefire holds & a <third> day"),
]


@pytest.mark.parametrize("document", [rss, atom], ids=["rss", "atom"])
def test_a_feed_lists_its_articles_with_absolute_links_and_its_title(document: object) -> None:
    listing = parse_feed(document("World news", ITEMS), BASE)  # type: ignore[operator]
    assert listing.title == "World news"
    assert listing.entries == (
        Entry(ITEMS[0][0], "Talks collapse in Paris"),
        Entry(
            "https://news.example/world/2026/dec/07/ceasefire-holds-for-a-third-day",
            "Ceasefire holds & a <third> day",
        ),
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<!doctype html><html><body><p>Front page</p></body></html>", "not an RSS or Atom feed"),
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>cut',
            "a malformed feed",
        ),
        ("", "not an RSS or Atom feed"),
        ("http://127.0.0.1/feed.xml", "not an RSS or Atom feed"),  # text, never fetched as a URL
    ],
    ids=["html", "truncated", "empty", "a-url-is-not-fetched"],
)
def test_what_is_not_a_feed_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(NotAFeed, match=f"^{reason}$"):
        parse_feed(text, BASE)


def test_a_page_names_its_feeds_with_rel_alternate() -> None:
    html = section_page("World", [], feed="/world/rss.xml")
    html = html.replace(
        "</head>", '<link rel="alternate" type="application/atom+xml" href="atom.xml"></head>'
    )
    assert feed_links(html, "https://news.example/world/") == [
        "https://news.example/world/rss.xml",
        "https://news.example/world/atom.xml",
    ]


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://news.example/world/2026/dec/07/talks-collapse-in-paris", True),
        ("https://www.news.example/news/world-europe-52241221", True),
        ("https://news.example/a/long-slug-with-five-words", True),
        ("https://news.example/news/world", False),  # a section
        ("https://news.example/tag/politics", False),
        ("https://news.example/author/jane-doe-smith-jones", False),
        ("https://other.example/news/a-b-c-d-e", False),  # another site
        ("https://news.example/", False),
        ("mailto:desk@news.example", False),
    ],
)
def test_which_links_look_like_articles(url: str, article: bool) -> None:
    assert looks_like_article(url, "https://news.example/world/") is article


def test_a_section_page_without_a_feed_lists_its_article_links_once() -> None:
    links = [(u, t) for u, t in ITEMS] + [(ITEMS[0][0] + "#comments", "Comments")]
    listing = article_links(section_page("World | News", links), "https://news.example/world/")
    assert listing.title == "World | News"
    assert [e.url for e in listing.entries] == [
        ITEMS[0][0],
        "https://news.example/world/2026/dec/07/ceasefire-holds-for-a-third-day",
    ]


def test_opml_round_trips_and_reads_nested_folders() -> None:
    outlines = [
        Outline("https://news.example/world/rss.xml", 'World & "more"'),
        Outline("https://b.example/atom", "B"),
    ]
    assert parse_opml(render_opml(outlines, "Redline follows")) == outlines
    nested = (
        b'<?xml version="1.0"?><opml version="1.0"><body><outline text="News">'
        b'<outline type="rss" text="A" xmlUrl="https://a.example/rss"/>'
        b'<outline type="link" text="not a feed" url="https://x.example"/></outline></body></opml>'
    )
    assert parse_opml(nested) == [Outline("https://a.example/rss", "A")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>hi</body></html>", "That file is not an OPML document."),
        (b"not xml at all", "That file is not an OPML document."),
        (
            b'<opml version="2.0"><body></body></opml>',
            'That OPML file lists no feeds (outlines with type="rss").',
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline type="rss" text="&x;" xmlUrl="https://a.example/rss"/></body></opml>',
            "That file is not an OPML document.",
        ),
    ],
    ids=["html", "garbage", "no-feeds", "external-entity"],
)
def test_opml_files_that_are_refused_say_why(data: bytes, message: str) -> None:
    with pytest.raises(NotOPML) as caught:
        parse_opml(data)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("args", "parsed"),
    [
        ([], FollowArgs(None)),
        (["https://a.example/rss"], FollowArgs("https://a.example/rss")),
        (["https://a.example/rss", "14", "days"], FollowArgs("https://a.example/rss", 14)),
        (["https://a.example/rss", "3d", "all"], FollowArgs("https://a.example/rss", 3, backlog=True)),
        (["https://a.example/rss", "all"], FollowArgs("https://a.example/rss", backlog=True)),
        (["https://a.example/rss", "1", "day"], FollowArgs("https://a.example/rss", 1)),
        (["https://a.example/rss", "soon"], FollowArgs("https://a.example/rss", bad=True)),
        (
            ["https://a.example/rss", "7", "words:", "Putin,", "sanctions"],
            FollowArgs("https://a.example/rss", 7, words=Watchwords("", ("Putin", "sanctions"), marked=True)),
        ),
        (
            ["https://a.example/rss", "words:Putin"],
            FollowArgs("https://a.example/rss", words=Watchwords("", ("Putin",), marked=True)),
        ),
        (
            ["https://a.example/rss", "Words:"],
            FollowArgs("https://a.example/rss", words=Watchwords("", (), True)),
        ),
    ],
)
def test_follow_arguments(args: list[str], parsed: FollowArgs) -> None:
    assert parse_follow_args(args) == parsed
