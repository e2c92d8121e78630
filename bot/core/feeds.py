"""What a feed or a section page lists: RSS/Atom text → entries, HTML → its feeds or article links.

Pure: text in, data out. ``feedparser`` is handed the document as a byte stream, never a string
it could take for a URL or a file name, so parsing never reaches the network or the disk.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)
# Path segments of pages that list articles rather than being one.
_NOT_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "topic", "topics", "author", "authors", "profile", "people", "section",
        "sections", "category", "categories", "search", "about", "contact", "login", "signin",
        "register", "subscribe", "subscription", "newsletter", "newsletters", "account", "help",
        "privacy", "terms", "cookies", "feed", "rss", "page", "archive", "index",
    }
)  # fmt: skip
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){3,}")  # four or more words joined by hyphens
_DIGITS = re.compile(r"\d{4,}")  # an id or a date


class NotAFeed(ValueError):
    """The text is neither RSS nor Atom (an HTML page, a malformed or empty document)."""


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    summary: str = ""  # the feed's summary or description, as text (watchwords read it)


@dataclass(frozen=True)
class Listing:
    """What a source lists now, newest first as the source orders it."""

    title: str
    entries: tuple[Entry, ...]


def parse_feed(data: bytes | str, base_url: str) -> Listing:
    """An RSS or Atom document → its entries (links made absolute, duplicates dropped)."""
    raw = data.encode() if isinstance(data, str) else data
    # The fetcher already judged the Content-Type; feedparser is told it is XML so it does not
    # flag a good feed for lacking one.
    headers = {"content-location": base_url, "content-type": "application/xml"}
    parsed = feedparser.parse(io.BytesIO(raw), response_headers=headers)
    if not parsed.get("version"):
        raise NotAFeed("not an RSS or Atom feed")
    seen: set[str] = set()
    entries: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        url = urljoin(base_url, link.strip())
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = " ".join((item.get("title") or "").split())
        entries.append(Entry(url, title, _text(item.get("summary") or "")))
    if parsed.bozo and not entries:
        raise NotAFeed("a malformed feed")
    title = " ".join((parsed.feed.get("title") or "").split()) or (urlsplit(base_url).hostname or "")
    return Listing(title, tuple(entries))


def _text(html: str) -> str:
    """A summary's text: feedparser hands it back as (sanitised) HTML."""
    if "<" not in html:
        return " ".join(html.split())
    try:
        return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())
    except (lxml.etree.ParserError, ValueError):
        return ""


def _document(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def feed_links(html: str, base_url: str) -> list[str]:
    """The RSS/Atom feeds a page announces with ``<link rel="alternate">``, in page order."""
    doc = _document(html)
    if doc is None:
        return []
    found: list[str] = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES - {"application/feed+json"} and href:
            url = urljoin(base_url, href)
            if url not in found:
                found.append(url)
    return found


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def looks_like_article(url: str, site_url: str) -> bool:
    """Same site, and a path that names one story: a long slug or an id, not a listing page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or _host(url) != _host(site_url):
        return False
    segments = [s for s in parts.path.lower().split("/") if s]
    if not segments or any(s in _NOT_ARTICLE_SEGMENTS for s in segments):
        return False
    last = segments[-1].rsplit(".", 1)[0]
    return bool(_SLUG.fullmatch(last) or _DIGITS.search(last) or (len(segments) >= 3 and "-" in last))


def article_links(html: str, base_url: str) -> Listing:
    """A section or front page without a feed: the links on it that look like articles."""
    doc = _document(html)
    if doc is None:
        return Listing("", ())
    title = " ".join((doc.findtext(".//title") or "").split()) or _host(base_url)
    seen: set[str] = set()
    entries: list[Entry] = []
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if url in seen or not looks_like_article(url, base_url):
            continue
        seen.add(url)
        entries.append(Entry(url, " ".join(anchor.text_content().split())))
    return Listing(title, tuple(entries))
