"""HTML page → ``Snapshot`` (headline + body paragraphs), the unit Redline compares.

Pure: a string in, a value out; no network, no database.

Body text comes from trafilatura; the headlines are read here. The display headline is the one
readers see, read from the element (``Snapshot.carrier``) chosen when the article was tracked —
newsrooms and headline A/B tools edit it apart from the metadata, so a vote between carriers
would let the old metadata title outvote a rewritten ``<h1>``. The search/social title is the
metadata's (trafilatura's title follows it blindly: the Telegraph's JSON-LD headline is the CMS
placeholder "escenic"; Xinhua, Dong-A and Yonhap titles keep a site suffix). Paragraphs are read from
trafilatura's XML body rather than from ``doc.text``: the text form splits paragraphs at every
source line break inside a ``<p>`` (Zeit), so a re-indented page would look re-paragraphed.

What extraction lets through and a reader would never call article text is dropped here:
update stamps ("Stand: 28.04.2020 18:00 Uhr", "08.04.2015 12:46"), lone ad labels ("Reklāma"),
cookie-consent notices, a first paragraph that only repeats the headline, and text outside a
page's declared schema.org ``articleBody`` when trafilatura wanders out of it.

trafilatura options were chosen by running ``python -m benchmarks.corpus --options`` on the
37-page corpus (see the table above ``_OPTIONS``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.utils import load_html

from bot.core.fingerprint import parse_html
from bot.core.normalize import (
    comparison_form,
    display_form,
    has_nospace_chars,
    is_nospace_char,
    loose_form,
)

__all__ = ["META_CARRIER", "NotAnArticle", "Snapshot", "extract"]

# Measured with `python -m benchmarks.corpus --options` (trafilatura 2.3.1; 37 pages, 148 edits
# that must be announced + 37 noise versions that must stay silent; the whole pipeline
# extract → diff → render is judged; ms = per-page median extraction time, 2-core container):
#
#   options                  edits named right   missed   false alarms   median ms   p95 ms
#   chosen (below)                148/148           0         0/37          38          66
#   favor_precision=True          146/148           0         0/37          41          68
#   favor_recall=True             147/148           0         0/37          34          62
#   include_tables=False          148/148           0         0/37          39          67
#   fast=True                     141/148           3         1/37          31          61
#
# favor_precision: Herald Sun's v5 also loses a related-column teaser line, Le Figaro's v5 is
# misread; favor_recall: when v5 removes a paragraph, LSM's author line, error-report box and
# newsletter form come in; fast=True (no readability/jusText comparison) misses Spiegel's
# body entirely and lets Dong-A's ad markup through. include_tables makes no difference here
# and stays on (a fact box in a table is article text). Pruning ad/cookie elements from the
# HTML before trafilatura was tried too and dropped: it flipped LSM's extraction between v1
# and v5; the paragraph filters below catch the same noise without touching its input.
# Metadata is not asked of trafilatura: of its fields only the title and site name are read,
# and ``_title_and_site`` gets those without the author, date, tag and licence searches.
_OPTIONS: dict[str, Any] = {
    "include_comments": False,  # reader comments are not the article
    "deduplicate": False,  # trafilatura's dedup cache is process-wide: repeats would vanish
    "include_tables": True,
    "favor_precision": False,
    "favor_recall": False,
}

NOT_AN_ARTICLE = "That page doesn't look like an article (no headline or text found)."
TOO_LITTLE_TEXT = "That page has too little text to follow (it may be behind a paywall or not be an article)."
LINK_LIST = "That page looks like a list of links or headlines, not a single article."

# Below this much body text there is nothing worth following (paywall stubs, video pages).
_MIN_TEXT_CHARS = 200
_MIN_TEXT_CHARS_CJK = 80
# Above this share of link text the "article" is a list of teasers (see _link_share).
_MAX_LINK_SHARE = 0.5


class NotAnArticle(Exception):
    """The page has no article we can follow; ``args[0]`` is a sentence to show the user."""


@dataclass(frozen=True)
class Snapshot:
    """What Redline remembers of one version of an article.

    ``title`` is the display headline, read from the element chosen when the article was
    tracked (``carrier``); ``search_title`` is the search/social title (``og:title``,
    ``<title>``, JSON-LD ``headline``, site suffix stripped), which newsrooms edit separately.
    ``carrier`` says where ``title`` came from; it is not content (not stored in ``to_dict``,
    not hashed, not compared).
    """

    title: str
    paragraphs: tuple[str, ...]
    search_title: str = ""
    carrier: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "paragraphs": list(self.paragraphs)}
        if self.search_title:
            out["search_title"] = self.search_title
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Snapshot:
        return cls(
            title=str(d.get("title", "")),
            paragraphs=tuple(d.get("paragraphs", ())),
            search_title=str(d.get("search_title", "")),
        )

    @property
    def content_hash(self) -> str:
        """Hash of the comparison form, so versions differing only by noise hash equal.

        The search title joins the hash only when there is one, so versions stored before it
        was read keep their hashes."""
        parts: list[Any] = [comparison_form(self.title), [comparison_form(p) for p in self.paragraphs]]
        if self.search_title:
            parts.append(comparison_form(self.search_title))
        payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def extract(html: str, url: str | None = None, carrier: str | None = None) -> Snapshot:
    """Extract the headline and body paragraphs, or raise ``NotAnArticle``.

    ``carrier`` is where the article's display headline was found before (``Snapshot.carrier``
    of its first version); the headline is read from there again even when the metadata
    says otherwise. Without one, or when the page no longer has it (a redesign), the carrier
    is chosen afresh; the returned snapshot's ``carrier`` says which was used.
    """
    return extract_with_options(html, url, _OPTIONS, carrier)


def extract_with_options(
    html: str, url: str | None, options: Mapping[str, Any], carrier: str | None = None
) -> Snapshot:
    """``extract`` with explicit trafilatura options (the benchmark compares option sets)."""
    if not html or not html.strip():
        raise NotAnArticle(NOT_AN_ARTICLE)
    tree = load_html(html)
    if tree is None:
        raise NotAnArticle(NOT_AN_ARTICLE)
    # Headline carriers are read before trafilatura sees the tree (it works on a copy anyway).
    address = url if url and url.startswith(("http://", "https://")) else _tree_url(tree)
    carriers = _headline_carriers(tree)
    logos = _logo_headings(tree, address, carriers)
    carriers["h1"] = [h for h in carriers["h1"] if h not in logos]  # a logo states no headline
    marked_body = _marked_body(tree)
    links = _links(tree, address)
    opts = {**_OPTIONS, **options}
    doc = trafilatura.bare_extraction(tree, url=url, **opts)
    doc_title, doc_site = _title_and_site(tree, url) if doc is not None else (None, None)
    body = getattr(doc, "body", None) if doc is not None else None
    paragraphs = list(_paragraphs(body)) if body is not None else []
    if marked_body:
        paragraphs = _inside_marked_body(paragraphs, marked_body)
    if doc_title and loose_form(doc_title) not in map(loose_form, logos):
        carriers.setdefault("trafilatura", []).append(doc_title)  # unless it read the logo
    if doc_site and any(_agreement(doc_site, t) >= 0.9 for ts in carriers.values() for t in ts):
        doc_site = None  # trafilatura fell back to the headline (Prachatai): not a site name
    sites = [*_site_names(tree, url, doc_site), *logos]
    search_title = _search_title(carriers, sites)
    title, used = _display_headline(tree, carrier, carriers, sites, logos, search_title)
    paragraphs = _drop_noise_paragraphs(paragraphs, title, carriers)
    _check_article(title, paragraphs, links)
    # Navigation goes last: a section front is all navigation and is told so by the check.
    nav_labels = _site_link_labels(links)
    paragraphs = [p for p in paragraphs if not _is_navigation(p, nav_labels)]
    if not paragraphs:
        raise NotAnArticle(LINK_LIST)
    return Snapshot(title=title, paragraphs=tuple(paragraphs), search_title=search_title, carrier=used)


# --------------------------------------------------------------------------------------------
# Body paragraphs
# --------------------------------------------------------------------------------------------

# trafilatura's output vocabulary: these start a new paragraph; everything else is inline.
_BLOCK_TAGS = frozenset(
    {"p", "head", "list", "item", "quote", "table", "row", "cell", "code", "div", "graphic", "ab"}
)


def _paragraphs(body: etree._Element) -> Iterator[str]:
    """Yield display-form paragraphs; ``<lb/>`` separates paragraphs as it does on the page."""
    buf: list[str] = []

    def flush() -> Iterator[str]:
        text = display_form("".join(buf))
        buf.clear()
        if text:
            yield text

    def walk(el: etree._Element) -> Iterator[str]:
        if el.tag == "row":  # a table row reads as one line: "cell | cell | cell"
            cells = [display_form("".join(c.itertext())) for c in el]
            line = " | ".join(c for c in cells if c)
            if line:
                yield line
            return
        if el.text:
            buf.append(el.text)
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                pass
            elif child.tag == "lb":
                yield from flush()
            elif child.tag in _BLOCK_TAGS:
                yield from flush()
                yield from walk(child)
                yield from flush()
            else:
                yield from walk(child)
            if child.tail:
                buf.append(child.tail)

    yield from walk(body)
    yield from flush()


def _marked_body(tree: HtmlElement) -> str:
    """Loose text of the page's one schema.org ``articleBody`` element ("" if not exactly one)."""
    bodies = tree.xpath('//*[@itemprop="articleBody"]')
    return loose_form(_text_of(bodies[0])) if len(bodies) == 1 else ""


def _inside_marked_body(paragraphs: list[str], body_text: str) -> list[str]:
    """Keep what lies inside the page's declared article body.

    trafilatura only accepts a body candidate with two or more blocks; when an edit leaves a
    single paragraph it widens to the whole ``<article>`` and pulls in the standfirst, share
    buttons and the headline (Le Figaro, v5). A page that says where its body is is believed.
    """
    inside = [p for p in paragraphs if loose_form(p) in body_text]
    # a marker on a teaser or a caption is not the body: believe it only for most of the text
    if sum(map(len, inside)) < 0.5 * sum(map(len, paragraphs)):
        return paragraphs
    return inside


# "Stand: 28.04.2020 18:00 Uhr", "08.04.2015 12:46", "Updated 12:46 GMT, 8 April 2015",
# "5 minutes ago": an update stamp changes on every edit and is not article text.
_DATE = re.compile(
    r"\d{1,4}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{2,4}|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|"
    r"\d{4}-\d{2}-\d{2}T[\d:.+Z-]+"
)
_TIME = re.compile(r"\d{1,2}\s*[:h]\s*\d{2}(?:\s*:\s*\d{2})?(?:\s*[ap]\.?\s?m\.?)?", re.I)
_RELATIVE = re.compile(
    r"\d+\s*(?:sec|second|min|minute|hr|hour|h|day|Sekunde|Minute|Stunde|Tag|minuto|hora|"
    r"heure|jour|minuut|uur|minuutti|tunti|分|小时|時間|분|시간)\w*\s*(?:ago|前|전)?",
    re.I,
)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STAMP_WORDS = _wordset(
    """stand aktualisiert veröffentlicht zuletzt am um uhr updated update published posted
    last modified on at gmt utc bst cet cest mez mesz est edt pst pdt et pt ist jst kst
    mis à jour publié le actualizado publicado el a las hs atualizado em às
    aktualizováno publikováno päivitetty julkaistu klo atjaunots publicēts ago vor il y a
    hace há seit since"""
)
_MONTH_PREFIXES = _wordset(
    """jan feb mar apr may jun jul aug sep oct nov dec mär mai okt dez janv févr fév avr
    juil aoû déc ene abr ago dic fev out set gen mag giu lug ott tam hel maa huh kes
    hei elo syy lok led úno bře dub kvě čer srp zář říj lis pro"""
)
_WEEKDAY_PREFIXES = _wordset(
    """mon tue wed thu fri sat sun mo di mi do fr sa so lun mar mer jeu ven sam dim mié jue
    vie sáb dom seg ter qua qui sex"""
)


def _is_update_stamp(text: str) -> bool:
    if len(text) > 80:
        return False
    hits = _DATE.findall(text) + _TIME.findall(text) + _RELATIVE.findall(text)
    if not hits:
        return False
    rest = _RELATIVE.sub(" ", _TIME.sub(" ", _DATE.sub(" ", text)))
    words = re.findall(r"[^\W\d_]+", rest)
    for w in words:
        lw = w.casefold()
        if lw in _STAMP_WORDS or len(lw) <= 2:
            continue
        if lw[:3] in _MONTH_PREFIXES or lw[:4] in _MONTH_PREFIXES or lw[:3] in _WEEKDAY_PREFIXES:
            continue
        return False
    return True


_AD_LABELS = frozenset(
    loose_form(label)
    for label in (
        "advertisement",
        "advertising",
        "ad",
        "ads",
        "sponsored",
        "sponsored content",
        "story continues below advertisement",
        "article continues below advertisement",
        "continue reading below",
        "scroll to continue with content",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "publicidade",
        "pubblicità",
        "reklama",
        "reklāma",
        "reklaam",
        "reklame",
        "reklam",
        "mainos",
        "annonce",
        "annons",
        "annonse",
        "advertentie",
        "реклама",
        "广告",
        "廣告",
        "広告",
        "광고",
        "إعلان",
        "اعلان",
        "โฆษณา",
    )
)

_COOKIE_WORDS = re.compile(
    r"cookie|evästei|sīkdatn|쿠키|クッキー|ملفات تعريف الارتباط|คุกกี้|куки", re.IGNORECASE
)
_CONSENT_WORDS = re.compile(
    r"accept|agree|consent|continu|privacy|policy|settings|akzept|zustimm|einverstanden|"
    r"weitersurf|stimmen|acept|navega|poursui|concord|souhlas|pokračov|hyväksy|jatkamalla|"
    r"piekrīt|turpinot|동의|同意|موافق|توافق|ยอมรับ|согла|we use|utiliz|verwende|usamos|"
    r"používá|käytämme|izmantot|使用",
    re.IGNORECASE,
)


def _is_cookie_notice(text: str) -> bool:
    return len(text) <= 400 and bool(_COOKIE_WORDS.search(text) and _CONSENT_WORDS.search(text))


# "1 of 5", "3/12", "Photo 2 von 9", "‹ 4 / 10 ›": where a gallery or slideshow stands.
_COUNTER = re.compile(
    r"(?:(?:image|photo|picture|slide|foto|bild|imagen|immagine|kuva|attēls)\w*\s*)?"
    r"\d{1,3}\s*(?:/|／|of|von|de|sur|di|z|av|из)\s*\d{1,3}",
    re.IGNORECASE,
)
_COUNTER_FRAME = " \t‹›<>«»←→|·•()[]"


def _is_counter(text: str) -> bool:
    return _COUNTER.fullmatch(text.strip(_COUNTER_FRAME)) is not None


@dataclass(frozen=True, slots=True)
class _Link:
    label: str  # loose form of the link text
    same_site: bool  # leads to another page of this site


def _links(tree: HtmlElement, url: str | None) -> list[_Link]:
    """Every link on the page with text, read once for the link-share check and navigation.

    "Same site" means another page of this site: not the page's own address, an in-page
    anchor, a mail or script link, or another site.
    """
    here = urlsplit(url or "")
    host = (here.hostname or "").removeprefix("www.")
    out: list[_Link] = []
    for a in tree.iter("a"):
        label = loose_form(a.text_content())
        if not label:
            continue
        href = (a.get("href") or "").strip()
        target = urlsplit(href)
        same_site = not (
            not href
            or href.startswith(("#", "javascript:", "mailto:", "tel:"))
            or (target.scheme and target.scheme not in ("http", "https"))
            or (target.hostname and (not host or target.hostname.removeprefix("www.") != host))
            or (target.path.rstrip("/") == here.path.rstrip("/") and (target.hostname or not target.path))
        )
        out.append(_Link(label, same_site))
    return out


def _site_link_labels(links: Iterable[_Link]) -> list[str]:
    """Texts of the links to other pages of the site, longest first (see _is_navigation)."""
    return sorted(
        {link.label for link in links if link.same_site and len(link.label) >= 3}, key=len, reverse=True
    )


def _is_navigation(text: str, labels: Iterable[str]) -> bool:
    """A paragraph that is nothing but links to other pages of the site (with a "Read more:"
    or "Related" lead-in at most): its order and its changes are not edits."""
    rest = full = loose_form(text)
    if not full:
        return False
    for label in labels:
        if label in rest:
            rest = rest.replace(label, "")
            if not rest:
                return True
    return len(rest) < len(full) and len(rest) <= max(12, 0.15 * len(full))


def _drop_noise_paragraphs(paragraphs: list[str], title: str, carriers: Mapping[str, list[str]]) -> list[str]:
    """Remove stamps, ad labels, cookie notices, gallery counters and a leading copy of the
    headline."""
    kept = [
        p
        for p in paragraphs
        if not _is_update_stamp(p)
        and loose_form(p) not in _AD_LABELS
        and not _is_cookie_notice(p)
        and not _is_counter(p)
    ]
    # The page's <h1> often comes out as the first paragraph (BBC, Politico, Yonhap, NZZ,
    # tagesschau's kicker + headline). Left in, a headline edit would also read as "¶1 edited".
    headlines = dict.fromkeys(h for h in (title, *(t for ts in carriers.values() for t in ts)) if h)
    for i, p in enumerate(kept[:3]):
        if any(_same_headline(p, h) for h in headlines):
            return kept[:i] + kept[i + 1 :]
    return kept


def _same_headline(paragraph: str, headline: str) -> bool:
    a, b = loose_form(paragraph), loose_form(headline)
    if not a or not b:
        return False
    if a == b:
        return True
    if len(a) > 2 * len(b) + 20:  # a long paragraph that merely starts with the headline
        return False
    if a in b and len(a) >= 0.6 * len(b):
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # the quick ratios are upper bounds of ratio(): most pairs are told apart without it
    return matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85


def _check_article(title: str, paragraphs: list[str], links: list[_Link]) -> None:
    """Refuse section fronts, empty bodies and paywall stubs with a sentence for the user."""
    if not paragraphs:
        raise NotAnArticle(NOT_AN_ARTICLE)
    text = "".join(paragraphs)
    cjk = has_nospace_chars(text) and sum(map(is_nospace_char, text)) > len(text) // 3
    if len(text) < (_MIN_TEXT_CHARS_CJK if cjk else _MIN_TEXT_CHARS):
        raise NotAnArticle(TOO_LITTLE_TEXT if title else NOT_AN_ARTICLE)
    if not title:
        raise NotAnArticle(NOT_AN_ARTICLE)
    if _link_share(links, paragraphs) > _MAX_LINK_SHARE:
        raise NotAnArticle(LINK_LIST)


def _link_share(links: Iterable[_Link], paragraphs: list[str]) -> float:
    """How much of the extracted text is the text of links on the page.

    A section front or a tag page comes out as a run of teaser headlines, each a link; on the
    37 corpus articles at most 12% of the text is link text, on a section front nearly all.
    """
    text = loose_form(" ".join(paragraphs))
    if not text:
        return 0.0
    covered = 0
    seen: set[str] = set()
    for link in links:
        label = link.label
        if label in seen or len(label) < (6 if has_nospace_chars(label) else 15):
            continue
        seen.add(label)
        if label in text:
            covered += len(label)
    return covered / len(text)


# --------------------------------------------------------------------------------------------
# Headline
# --------------------------------------------------------------------------------------------


def _text_of(el: etree._Element) -> str:
    """Visible text of an element, without ruby readings (NHK's <h1> carries <rt>)."""
    parts: list[str] = []

    def walk(e: etree._Element) -> None:
        if e.text:
            parts.append(e.text)
        for child in e:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag not in ("rt", "rp", "script", "style", "noscript", "template"):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return display_form("".join(parts))


def page_url(html: str) -> str | None:
    """The address a saved page says it came from (canonical link, then og:url), if absolute."""
    tree = load_html(html) if html and html.strip() else None
    return _tree_url(tree) if tree is not None else None


# Where a page's <head> ends: the canonical link and og:url live before it.
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)


def declared_url(html: str) -> str | None:
    """The address the page gives itself (``<link rel=canonical>``, then ``og:url``), as
    written: possibly relative, possibly another site's (bot.net.urls.article_url decides
    whether to trust it). Only the ``<head>`` is parsed, so every check can afford it: by
    lxml itself, not trafilatura's ``load_html``, which repairs a whole page with regexes first
    (half the cost) and, for a page not opening with "<html" or a doctype (Herald Sun's opens
    with a commented-out XML declaration), takes a head without a body for "not HTML" and
    returns nothing."""
    end = _HEAD_END.search(html)
    tree = parse_html(html[: end.start()] if end else html)
    if tree is None:
        return None
    links = tree.xpath('//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href')
    candidates = [*links, *tree.xpath('//meta[@property="og:url" or @name="og:url"]/@content')]
    return next((u.strip() for u in candidates if u and u.strip()), None)


def _tree_url(tree: HtmlElement) -> str | None:
    candidates = [*tree.xpath('//link[@rel="canonical"]/@href'), *_meta(tree, "og:url")]
    return next((u.strip() for u in candidates if u.strip().startswith(("http://", "https://"))), None)


def _meta(tree: HtmlElement, *names: str) -> list[str]:
    out = []
    for name in names:
        xp = f'//meta[@property="{name}" or @name="{name}"]/@content'
        out.extend(display_form(v) for v in tree.xpath(xp) if v and v.strip())
    return out


def _json_ld_headlines(tree: HtmlElement) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("headline")
            if isinstance(value, str) and value.strip():
                found.append(display_form(value))
            for v in node.values():
                if isinstance(v, dict | list):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text or ""))
        except ValueError:
            continue
    return found


def _logo_headings(tree: HtmlElement, url: str | None, carriers: Mapping[str, list[str]]) -> list[str]:
    """Texts of ``<h1>`` elements that are the site's name, not the article's headline.

    Site furniture shows itself two ways: the heading is a link to the site's front page (a
    logo), or its text is the site-name suffix of ``<title>`` ("Headline | The Morning Ledger").
    """
    host = (urlsplit(url or "").hostname or "").removeprefix("www.")
    # "Headline | Site": the last segment of a title with more than one names the site
    # ("Site|Headline", NHK's "NEWS WEB EASY|…", puts the headline last: the longest part is it)
    suffixes = {
        loose_form(parts[-1])
        for t in carriers.get("title", [])
        if len(parts := _SEPARATOR.split(t)) > 1
        and len(loose_form(parts[-1])) < max(len(loose_form(p)) for p in parts)
    }
    logos = []
    for h1 in tree.iter("h1"):
        text = _text_of(h1)
        if not text:
            continue
        front_page = False
        for a in h1.iter("a"):
            target = urlsplit((a.get("href") or "").strip())
            same_site = not target.hostname or target.hostname.removeprefix("www.") == host
            if same_site and target.path.strip("/") in ("", "index.html") and not target.query:
                front_page = True
        if front_page or loose_form(text) in suffixes:
            logos.append(text)
    return logos


def _headline_carriers(tree: HtmlElement) -> dict[str, list[str]]:
    """Every place a page states its headline, in display form, by carrier."""
    titles = [_text_of(t) for t in tree.xpath("//head/title|//title")[:1]]
    return {
        "h1": [t for t in (_text_of(h) for h in tree.iter("h1")) if t],
        "og": _meta(tree, "og:title"),
        "twitter": _meta(tree, "twitter:title"),
        "jsonld": _json_ld_headlines(tree),
        "title": [t for t in titles if t],
    }


def _title_and_site(tree: HtmlElement, url: str | None) -> tuple[str | None, str | None]:
    """The title and site name ``trafilatura.extract_metadata`` would find, at a fifth of its cost.

    Its title and site-name steps, in its order (meta tags, JSON-LD over them, then the page's
    headings and ``<title>``, the address last), without the rest: the author search copies and
    prunes the whole tree, and htmldate, tags and licence are never read here. A test holds this
    equal to ``extract_metadata`` on every corpus page.
    """
    meta = extract_meta_json(tree, examine_meta(tree))
    meta.title = meta.title or extract_title(tree)
    meta.sitename = meta.sitename or extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif address := meta.url or extract_url(tree, url):
        meta.sitename = (m := META_URL.match(address)) and m[1]
    meta.clean_and_trim()
    return meta.title, meta.sitename


def _site_names(tree: HtmlElement, url: str | None, sitename: str | None) -> list[str]:
    names = _meta(tree, "og:site_name", "application-name", "twitter:site")
    if sitename:
        names.append(sitename)
    if url:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        if host:
            names.append(host)
            names.extend(label for label in host.split(".")[:-1] if len(label) >= 3)
    return [n for n in names if loose_form(n)]


# " | ", " - ", " – ", " — ", " : ", " / ", " · ", "｜", "|"; a bare "-" or "_" only between
# non-ASCII characters ("…城！-新华网"), so "Covid-19" stays whole.
_SEPARATOR = re.compile(r"\s+[|\-–—:/·•»]\s+|\s*[|｜]\s*|(?<=[^\x00-\x7f])\s*[-_]\s*(?=[^\x00-\x7f])")


def _site_like(segment: str, sites: Iterable[str]) -> bool:
    """Is this title segment (mostly) the site's name? "BBC News" is, "BBC cuts jobs" is not."""
    seg = loose_form(segment)
    if not seg:
        return True
    for site in sites:
        s = loose_form(site)
        if len(s) < 3:
            continue
        if (s in seg and len(s) >= 0.5 * len(seg)) or (seg in s and len(seg) >= 3):
            return True
    return False


def _strip_site(text: str, sites: list[str]) -> str:
    """Drop site names (and section/date tails) around a headline taken from metadata.

    Only trailing segments are dropped unless a leading one names the site: a headline's
    kicker ("Chronik: …", "Deutschlandtakt: …") is part of the headline.
    """
    parts = _SEPARATOR.split(text)
    seps = _SEPARATOR.findall(text)
    if len(parts) < 2:
        return text
    candidates = [i for i in range(len(parts)) if not _site_like(parts[i], sites)]
    if not candidates:
        return text
    main = max(candidates, key=lambda i: len(loose_form(parts[i])))
    main_len = len(loose_form(parts[main]))
    end = len(parts)
    while end - 1 > main:
        seg = parts[end - 1]
        if not (_site_like(seg, sites) or len(loose_form(seg)) <= 0.4 * main_len):
            break
        end -= 1
    start = 0
    while start < main and _site_like(parts[start], sites):
        start += 1
    if (start, end) == (0, len(parts)):
        return text
    out = parts[start]
    for i in range(start + 1, end):
        out += seps[i - 1] + parts[i]
    return out.strip()


def _agreement(a: str, b: str) -> float:
    """How sure we are that two headline carriers state the same headline (0..1)."""
    la, lb = loose_form(a), loose_form(b)
    if not la or not lb:
        return 0.0
    if la == lb:
        return 1.0
    short, long_ = sorted((la, lb), key=len)
    if short in long_ and len(short) >= 0.4 * len(long_):
        return 0.9
    return SequenceMatcher(None, la, lb, autojunk=False).ratio()


# The display headline's carrier when the page shows none of its own (no <h1>, or only the
# site's logo in one, and no other headline element): the search/social title stands in.
META_CARRIER = "meta"
_METADATA_KEYS = ("og", "twitter", "jsonld", "title")
# Besides <h1>: the elements a template may show its headline in (Politico's <h2 class=
# "headline">, Xinhua's <div class="h-title">), told by their tag or by a class, id or itemprop
# that says so. Only ever chosen when their text agrees with the metadata.
_FALLBACK_TAGS = ("h2", "h3", "div", "span", "p", "header", "strong")
_HEADLINE_HINT = re.compile(r"head|title|hdln|hed\b", re.IGNORECASE)
_MAX_HEADLINE_CHARS = 300
_AGREES = 0.6
_MIN_TITLE_CHARS = 15  # shorter and confirmed by no other carrier: a placeholder


def _search_title(carriers: Mapping[str, list[str]], sites: list[str]) -> str:
    """The search/social title: the first metadata title (og:title first), site suffix
    stripped, that is not a CMS placeholder (the Telegraph's JSON-LD "escenic": short, and
    confirmed by no other carrier)."""
    ordered = [_strip_site(t, sites) for key in _METADATA_KEYS for t in carriers.get(key, [])]
    ordered = [t for t in ordered if t]
    for cand in ordered:
        if len(loose_form(cand)) >= _MIN_TITLE_CHARS or any(
            _agreement(cand, o) >= _AGREES for o in ordered if o is not cand
        ):
            return cand
    return ordered[0] if ordered else ""


def _locator(el: etree._Element) -> str:
    """How a headline element is found again in a later version: ``h1`` (any <h1>: templates
    restyle theirs), otherwise its tag and class (or id, or itemprop)."""
    tag = str(el.tag)
    if tag == "h1":
        return tag
    if classes := (el.get("class") or "").split():
        return tag + "." + ".".join(classes)
    if ident := (el.get("id") or "").strip():
        return f"{tag}#{ident}"
    if prop := (el.get("itemprop") or "").strip():
        return f"{tag}[itemprop={prop}]"
    return tag


def _is_h1(key: str) -> bool:
    base, _, n = key.rpartition(":")
    return key == "h1" or (base == "h1" and n.isdigit())


def _headline_elements(
    tree: HtmlElement, sites: list[str], logos: list[str], h1_only: bool
) -> dict[str, str]:
    """Visible elements that may carry the display headline: locator → text, in page order.

    The n-th usable element of one locator is ``locator:n`` (n ≥ 2); usable means it has
    short text that is not the site's name or logo.
    """
    tags = ("h1",) if h1_only else ("h1", *_FALLBACK_TAGS)
    seen: Counter[str] = Counter()
    out: dict[str, str] = {}
    logo_forms = {loose_form(t) for t in logos}
    for el in tree.iter(*tags):
        if el.tag != "h1":
            hints = " ".join(el.get(a) or "" for a in ("class", "id", "itemprop"))
            if el.tag not in ("h2", "h3") and not _HEADLINE_HINT.search(hints):
                continue
            if any(a.tag in ("head", "script", "noscript", "template") for a in el.iterancestors()):
                continue
        text = _text_of(el)
        if not text or len(text) > _MAX_HEADLINE_CHARS or loose_form(text) in logo_forms:
            continue
        if _site_like(text, sites):  # the logo: "POLITICO", "CNN"
            continue
        key = _locator(el)
        seen[key] += 1
        out[key if seen[key] == 1 else f"{key}:{seen[key]}"] = text
    return out


def _confirmed(elements: Mapping[str, str], others: list[str]) -> str | None:
    """The element whose text the metadata confirms best, if any confirms it enough."""
    best, best_score = None, 0.0
    for key, text in elements.items():
        score = max((_agreement(text, o) for o in others), default=0.0)
        if score > best_score:
            best, best_score = key, score
    return best if best_score >= _AGREES else None


def _display_headline(
    tree: HtmlElement,
    carrier: str | None,
    carriers: Mapping[str, list[str]],
    sites: list[str],
    logos: list[str],
    search_title: str,
) -> tuple[str, str]:
    """(headline, carrier): read from ``carrier`` when the page still has it, else from the
    carrier this page would be given if it were tracked now: the <h1> the metadata confirms
    (an <h1> can be the site logo: Politico, CNN Arabic, Prachatai), else another headline
    element the metadata confirms, else the metadata itself; an unconfirmed <h1> only when
    there is no metadata."""
    meta = search_title or next(iter(carriers.get("trafilatura", [])), "")
    if carrier == META_CARRIER and meta:
        return meta, META_CARRIER
    h1s = _headline_elements(tree, sites, logos, h1_only=True)
    if carrier in h1s:
        return h1s[carrier], carrier
    every: dict[str, str] | None = None
    if carrier and carrier != META_CARRIER and not _is_h1(carrier):
        every = _headline_elements(tree, sites, logos, h1_only=False)
        if carrier in every:
            return every[carrier], carrier
    others = [t for key in (*_METADATA_KEYS, "trafilatura") for t in carriers.get(key, [])]
    others += [_strip_site(t, sites) for t in others]
    if chosen := _confirmed(h1s, others):
        return h1s[chosen], chosen
    if every is None:
        every = _headline_elements(tree, sites, logos, h1_only=False)
    if chosen := _confirmed({k: t for k, t in every.items() if not _is_h1(k)}, others):
        return every[chosen], chosen
    if not meta and h1s:
        first = next(iter(h1s))
        return h1s[first], first
    return meta, META_CARRIER
