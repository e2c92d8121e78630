"""Atom feeds of changes (RFC 4287; pure: data in, XML bytes out).

One entry per new version: its changes as HTML (``document.render_changes``, the renderer of
the history page and the /diff document) and a link to the history page at that version.
An entry's id comes from the article's identity, the version's number and its content, never
from a database row id or the time it was served, so a feed reader sees the same entry the
same after a restart, a backup restored, or a token replaced.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from xml.etree import ElementTree as ET

from bot.core.diff import summarize
from bot.core.record import ArticleRef, Edit
from bot.messages.document import render_changes
from bot.messages.time import utc_stamp
from bot.messages.weblinks import WebLinks

__all__ = ["FeedHead", "atom_feed", "entry_id", "feed_id", "rfc3339"]

ATOM = "http://www.w3.org/2005/Atom"
_NAMESPACE = uuid.UUID("5b1d2a43-8f0e-4b7e-9a59-2f4c6a1d0e18")  # Redline's, for uuid5 ids


def entry_id(url_key: str, number: int, content_hash: str) -> str:
    """The permanent id of one version's entry."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{url_key}#v{number}:{content_hash}')}"


def feed_id(name: str) -> str:
    """The permanent id of a feed (``article:<url_key>``, ``chat:<token>``)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def rfc3339(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FeedHead:
    """What the feed says about itself."""

    id: str
    title: str
    self_url: str  # the feed's own address
    page_url: str  # the page it is the feed of
    updated: datetime  # when it last changed (the newest entry, or when its subject began)


def _entry_html(facts: ArticleRef, edit: Edit, links: WebLinks) -> str:
    lead = (
        f"<p>v{edit.old_number} → v{edit.new_number} · {escape(utc_stamp(edit.new_at))} · "
        f'<a href="{escape(facts.url, quote=True)}">{escape(facts.site or facts.url)}</a></p>'
    )
    body = render_changes(
        edit.changes, edit.old_paragraphs, edit.new_paragraphs, title=None, whole=False, heading="h3"
    )
    more = (
        f'<p><a href="{escape(links.article(facts.id, edit.new_number), quote=True)}">Every version</a></p>'
    )
    return "\n".join([lead, *body, more])


def atom_feed(head: FeedHead, entries: Sequence[tuple[ArticleRef, Edit]], links: WebLinks) -> bytes:
    """The feed, newest entry first, as UTF-8 XML."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", head.id)
    sub(feed, "title", head.title)
    sub(feed, "updated", rfc3339(head.updated))
    author = sub(feed, "author")
    sub(author, "name", "Redline")
    sub(feed, "link", rel="self", type="application/atom+xml", href=head.self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=head.page_url)
    sub(feed, "generator", "Redline")
    for facts, edit in sorted(entries, key=lambda fe: (fe[1].new_at, fe[1].new_number), reverse=True):
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(facts.url_key, edit.new_number, edit.new_hash))
        what = summarize(list(edit.changes))
        sub(entry, "title", f"{what[:1].upper()}{what[1:]}: {edit.title or facts.url}")
        sub(entry, "updated", rfc3339(edit.new_at))
        sub(entry, "published", rfc3339(edit.new_at))
        sub(entry, "link", rel="alternate", type="text/html", href=links.article(facts.id, edit.new_number))
        sub(entry, "link", rel="related", type="text/html", href=facts.url)
        sub(entry, "content", _entry_html(facts, edit, links), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
