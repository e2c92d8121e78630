"""One article, one identity: the address a page gives itself (bot.core.extract.declared_url)
and whether to trust it (bot.net.urls.article_url). One row per case; real corpus pages too."""

from __future__ import annotations

import json
import re

import pytest

from bot.core.extract import declared_url
from bot.net.urls import article_url, url_key
from tests.corpus import corpus_or_skip

GUARDIAN = "https://www.theguardian.com/world/2016/oct/11/putin-cancels-paris-visit"


def head(*tags: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{''.join(tags)}</head><body><p>x</p></body></html>"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (head(f'<link rel="canonical" href="{GUARDIAN}">'), GUARDIAN),
        (head('<link rel="canonical" href="/world/story">'), "/world/story"),  # relative, as written
        (head(f'<meta property="og:url" content="{GUARDIAN}">'), GUARDIAN),
        (head(f'<link rel="Canonical alternate" href="{GUARDIAN}">'), None),  # rel is case-sensitive here
        (head(f'<link rel="amphtml canonical" href="{GUARDIAN}">'), GUARDIAN),  # one token of several
        (head('<link rel="canonical" href="/a">', '<meta property="og:url" content="/b">'), "/a"),
        (head('<link rel="amphtml" href="/amp/a">'), None),
        (head(), None),
        ("", None),
        # A canonical link in the body (a related-story widget) is not the page's own word.
        ('<html><head></head><body><link rel="canonical" href="/other"></body></html>', None),
        # An XHTML page that opens with a commented-out XML declaration (Herald Sun's template):
        # its head alone once read as "not HTML" and its canonical link went unread.
        (
            '<!--?xml version="1.0" encoding="UTF-8" ?--><!DOCTYPE html PUBLIC "-//WAPFORUM//DTD XHTML '
            'Mobile 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/xhtml-mobile12.dtd"><html '
            'xmlns="http://www.w3.org/1999/xhtml" lang="en-au"><head><title>t</title>'
            f'<link rel="canonical" href="{GUARDIAN}"></head><body><p>x</p></body></html>',
            GUARDIAN,
        ),
        (
            '<?xml version="1.0" encoding="UTF-8"?><html><head><meta property="og:url" content="/x"></head>',
            "/x",
        ),
    ],
)
def test_declared_url_reads_the_head(html: str, expected: str | None) -> None:
    assert declared_url(html) == expected


PAGE = "https://www.example.com/news/putin-cancels-paris-visit"


@pytest.mark.parametrize(
    ("page_url", "declared", "expected"),
    [
        # AMP, mobile and query-string variants name the article.
        ("https://amp.example.com/news/putin-cancels-paris-visit", PAGE, PAGE),
        ("https://www.example.com/news/putin-cancels-paris-visit/amp", PAGE, PAGE),
        ("https://m.example.com/news/putin-cancels-paris-visit", PAGE, PAGE),
        (PAGE + "?ref=rss&page=1", PAGE, PAGE),
        (PAGE + "?CMP=share_btn_tw", "/news/putin-cancels-paris-visit", PAGE),  # relative
        ("http://example.com/news/putin-cancels-paris-visit", PAGE, PAGE),
        # A new slug on the same site is followed.
        ("https://www.example.com/news/putin-postpones", PAGE, PAGE),
        # Not trusted: another site (syndication), the front page, other schemes, nonsense.
        (PAGE, "https://apnews.com/article/putin-paris-123", PAGE),
        (PAGE, "https://example.com.evil.net/news/x", PAGE),
        (PAGE, "https://www.example.com/", PAGE),
        (PAGE, "/", PAGE),
        (PAGE, "https://www.example.com", PAGE),
        (PAGE, "ftp://www.example.com/news/x", PAGE),
        (PAGE, "http://[::1", PAGE),
        (PAGE, "", PAGE),
        (PAGE, None, PAGE),
        # The page's own address comes back in canonical form.
        (PAGE + "?utm_source=x#top", None, PAGE),
    ],
)
def test_article_url_trusts_only_a_same_site_article(
    page_url: str, declared: str | None, expected: str
) -> None:
    assert article_url(page_url, declared) == expected


def test_variants_share_one_key() -> None:
    keys = {
        url_key(article_url(u, PAGE))
        for u in (PAGE, PAGE + "?ref=rss", "https://amp.example.com/news/putin-cancels-paris-visit")
    }
    assert keys == {url_key(PAGE)}


def test_corpus_pages_name_themselves_and_a_copy_elsewhere_keeps_its_own_address() -> None:
    """Every corpus page declares its publisher's address: read at the publisher, that is the
    article (its AMP twin merges into it); served from elsewhere (a copy, our test server), it is
    not trusted and the copy stays its own article."""
    corpus = corpus_or_skip()
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    declared_pages = 0
    for entry in manifest["pages"]:
        html = (corpus / "pages" / entry["slug"] / "v1.html").read_text(encoding="utf-8")
        declared = declared_url(html)
        if declared is None:
            continue
        declared_pages += 1
        named = article_url(entry["url"], declared)
        assert url_key(named) == url_key(article_url(named + "?utm_source=rss", declared)), entry["slug"]
        copy = "http://127.0.0.1:8080/copy/" + entry["slug"]
        assert article_url(copy, declared) == copy, entry["slug"]
    assert declared_pages >= len(manifest["pages"]) // 2, f"only {declared_pages} pages declare an address"


def test_every_corpus_page_with_a_canonical_link_in_its_head_is_read() -> None:
    """Each real page whose head has a canonical link or og:url gives one (Herald Sun's did not)."""
    corpus = corpus_or_skip()
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    unread = []
    for entry in manifest["pages"]:
        html = (corpus / "pages" / entry["slug"] / "v1.html").read_text(encoding="utf-8")
        head = re.split(r"</head\s*>", html, maxsplit=1, flags=re.IGNORECASE)[0]
        names_itself = re.search(r'rel=["\']?canonical|og:url', head, re.IGNORECASE)
        if names_itself and declared_url(html) is None:
            unread.append(entry["slug"])
    assert unread == []
