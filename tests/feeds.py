"""Feeds written for the tests: RSS 2.0 and Atom documents from (URL, headline) pairs, as a
publisher's CMS would print them, and the corpus pages' real headlines and URLs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from tests.fakes.web import ArticleServer

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
STAMP = "Mon, 07 Dec 2026 09:00:00 GMT"


@dataclass(frozen=True)
class Story:
    path: str  # where the local server serves it
    headline: str


def rss(title: str, items: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
        f"<pubDate>{STAMP}</pubDate></item>\n"
        for u, t in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link><description>News</description>\n"
        f"{body}</channel></rss>\n"
    )


def atom(title: str, items: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<entry><title>{escape(t)}</title><link rel="alternate" href="{escape(u)}"/>'
        f"<id>{escape(u)}</id><updated>2026-12-07T09:00:00Z</updated></entry>\n"
        for u, t in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test</id><updated>2026-12-07T09:00:00Z</updated>\n"
        f"{body}</feed>\n"
    )


def section_page(title: str, links: Sequence[tuple[str, str]], feed: str | None = None) -> str:
    """A front page: article links among navigation (tags, authors, sections, other sites)."""
    alternate = f'<link rel="alternate" type="application/rss+xml" href="{escape(feed)}">' if feed else ""
    anchors = "".join(f'<li><a href="{escape(u)}">{escape(t)}</a></li>' for u, t in links)
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title>{alternate}</head><body>"
        '<nav><a href="/">Home</a> <a href="/news/world">World</a> <a href="/tag/politics">Politics</a> '
        '<a href="/author/jane-doe">Jane Doe</a> <a href="https://other.example/news/a-b-c-d-e">Elsewhere</a></nav>'
        f"<ul>{anchors}</ul></body></html>"
    )


def serve_big_feed(web: ArticleServer, path: str, count: int, page: str) -> None:
    """A feed of ``count`` items at ``path``, each an article served as ``page``."""
    items = []
    for n in range(count):
        article = f"/big/2026/dec/07/item-number-{n}-of-many"
        web.set_page(article, page)
        items.append((web.url(article), f"Item {n}"))
    web.set_page(path, rss("Big", items), content_type=RSS_TYPE)


def corpus_stories(corpus: Path) -> list[tuple[Story, Path]]:
    """Each corpus page's first version at the path of its real URL, with its real headline."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    stories = []
    for page in manifest["pages"]:
        path = "/" + page["slug"] + urlsplit(page["url"]).path
        stories.append(
            (Story(path, page["extraction"]["title"]), corpus / "pages" / page["slug"] / "v1.html")
        )
    return stories
