"""HTML page → a short hash of everything extraction reads, from one lxml parse.

Pure: a string in, a string out. Real news sites send new bytes on every fetch while the
article stays the same (inline scripts with request ids and build hashes, CSP nonces,
tracking attributes, cache-busting asset URLs, HTML comments, re-indented markup), so the raw
body hash rarely matches and every fetch would pay for a full trafilatura extraction (~50 ms).
The monitor compares this fingerprint with the one of the page it last extracted, and extracts
only when it differs.

The rule it must keep: **same fingerprint ⇒ same extraction**, so it can never hide an edit.
So it keeps, in document order, every element's tag and nesting, all visible text (not only
``<p>``: trafilatura takes ``div``, ``li``, ``td``, ``blockquote``, ``pre``…, and its
readability fallback reads ``<noscript>`` too), and every attribute extraction's choices
depend on (``class``/``id``/``style``/``hidden``/``role``/``itemprop``… for trafilatura's
boilerplate rules and visibility checks; headline and site-name ``<meta>`` carriers; the
JSON-LD blocks whose ``headline`` the extractor reads). It leaves out what extraction never
reads and what changes per fetch: other ``<script>`` elements (added, removed or changed),
``<style>`` contents, comments and processing instructions, every other attribute (nonces,
``data-*`` tracking, ``src``/``href`` cache busters), other ``<meta>`` tags (CSRF tokens,
request ids), and the amount of whitespace in a run. Leaving something in costs an
extraction; leaving out something extraction reads would miss edits — when in doubt it stays in.
"""

from __future__ import annotations

import hashlib
import re

from lxml import etree

__all__ = ["fingerprint", "parse_html"]

# A <meta>'s content, copied here when kept (below); the element's own ``content`` is dropped.
_KEPT_CONTENT = "data-redline-content"
_DROPPED = "redline-dropped"
# Attributes trafilatura, its readability/justext fallbacks and bot.core.extract read on any element.
_KEPT_ATTRIBUTES = frozenset(
    {
        "class",
        "id",
        "style",  # display:none
        "hidden",
        "aria-hidden",
        "role",
        "itemprop",
        "itemscope",
        "itemtype",
        "type",
        "rel",
        "lang",
        "data-component",
        "data-testid",
        "property",
        "name",
        "alttext",  # MathML: trafilatura turns formulas into text
        "display",
        _KEPT_CONTENT,
    }
)
# A <meta>'s content is kept when its name says it carries a headline or a site name.
_META_KEY = re.compile(r"title|headline|site|name|publisher|copyright", re.IGNORECASE)
# Script payloads extraction reads (bot.core.extract's JSON-LD headline, trafilatura's metadata).
_READ_SCRIPT_TYPES = frozenset({"application/ld+json", "application/json+ld"})
# Elements whose contents are code, not text: dropped whole (their tail text stays).
_CODE_ELEMENTS = ("style", "template")


def parse_html(html: str) -> etree._Element | None:
    """``html`` parsed by lxml, without comments and processing instructions (None: nothing in
    it). The parse bot.core.extract.declared_url reads the head with, too."""
    if not html or not html.strip():
        return None
    # A parser of its own: a module-level one would be shared by every caller. Callers in the
    # bot run this on bot.service.parse_thread's thread, with every other parse (see its docstring).
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8", collect_ids=False)
    return etree.fromstring(html.encode("utf-8", "surrogatepass"), parser)


def fingerprint(html: str) -> str:
    """Hex digest of what extraction reads of ``html`` (see the module docstring)."""
    h = hashlib.blake2b(digest_size=16)
    if not html or not html.strip():
        return h.hexdigest()
    root = parse_html(html)
    if root is None:
        h.update(_squash(html).encode("utf-8", "surrogatepass"))
        return h.hexdigest()
    # Extraction drops scripts whole (only JSON-LD is read): one added or removed is no change.
    for script in list(root.iter("script")):
        if (script.get("type") or "").strip().lower() not in _READ_SCRIPT_TYPES:
            script.tag = _DROPPED
    etree.strip_elements(root, _DROPPED, *_CODE_ELEMENTS, with_tail=False)
    for meta in root.iter("meta"):
        if _META_KEY.search(" ".join(meta.get(k, "") for k in ("name", "property", "itemprop"))):
            meta.set(_KEPT_CONTENT, meta.get("content", ""))
    for el in root.iter():
        keys = el.keys()  # a copy (the loop deletes), and no attribute proxy for the many without
        if keys:
            attrib = el.attrib
            for key in keys:
                if key not in _KEPT_ATTRIBUTES:
                    del attrib[key]
    # What is left (tags, nesting, text, kept attributes) serialised by lxml in one C call.
    h.update(_squash(etree.tostring(root, encoding="unicode")).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _squash(text: str) -> str:
    """One space for any run of whitespace: re-indented markup reads the same.

    ``re.sub(r"\\s+", " ", text)``, three times faster: ``str.split`` splits at the same
    characters (both ask ``str.isspace``), and the ends are put back as that would leave them.
    """
    words = text.split()
    if not words:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + " ".join(words) + (" " if text[-1].isspace() else "")
