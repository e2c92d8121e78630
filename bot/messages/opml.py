"""OPML, the file feed readers trade subscriptions in: ``/export follows`` writes one, and an
OPML file sent to the bot is read back into the feeds it lists (``/follow``)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import lxml.etree

MAX_OPML_BYTES = 1_000_000


class NotOPML(ValueError):
    """The file is not an OPML document with feeds in it; the message is the user's reply."""


@dataclass(frozen=True)
class Outline:
    url: str
    title: str


def render_opml(outlines: list[Outline], title: str) -> bytes:
    """An OPML 2.0 document, one ``type="rss"`` outline per followed source."""
    body = "\n".join(
        f'    <outline type="rss" text={quoteattr(o.title)} title={quoteattr(o.title)}'
        f" xmlUrl={quoteattr(o.url)}/>"
        for o in outlines
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        f"  <head><title>{_text(title)}</title></head>\n  <body>\n{body}\n  </body>\n</opml>\n"
    ).encode()


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_opml(data: bytes) -> list[Outline]:
    """Every ``type="rss"`` outline with an ``xmlUrl``, nested folders included, in file order.

    No entities are resolved and nothing is fetched: the file is a stranger's."""
    if len(data) > MAX_OPML_BYTES:
        raise NotOPML("That OPML file is too large (1 MB at most).")
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError:
        raise NotOPML("That file is not an OPML document.") from None
    if root is None or root.tag != "opml":
        raise NotOPML("That file is not an OPML document.")
    found: list[Outline] = []
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or "").strip()
        if (node.get("type") or "").lower() == "rss" and url and url not in (o.url for o in found):
            found.append(Outline(url, (node.get("title") or node.get("text") or "").strip()))
    if not found:
        raise NotOPML('That OPML file lists no feeds (outlines with type="rss").')
    return found
