"""HTML page → ``Snapshot`` (headline + body paragraphs), the unit Redline compares.

Pure: a string in, a value out; no network, no database.

Body text comes from trafilatura; the headline is chosen here, because trafilatura's title follows
whatever the page's metadata says (the Telegraph's JSON-LD headline is the CMS placeholder
"escenic"; Xinhua, Dong-A and Yonhap titles keep a site suffix). Paragraphs are read from
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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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

from bot.core.normalize import (
    comparison_form,
    display_form,
    has_nospace_chars,
    is_nospace_char,
    loose_form,
)

__all__ = ["NotAnArticle", "Snapshot", "extract"]

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
    """What Redline remembers of one version of an article."""

    title: str
    paragraphs: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "paragraphs": list(self.paragraphs)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Snapshot:
        return cls(title=str(d.get("title", "")), paragraphs=tuple(d.get("paragraphs", ())))

    @property
    def content_hash(self) -> str:
        """Hash of the comparison form, so versions differing only by noise hash equal."""
        payload = json.dumps(
            [comparison_form(self.title), [comparison_form(p) for p in self.paragraphs]],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def extract(html: str, url: str | None = None) -> Snapshot:
    """Extract the headline and body paragraphs, or raise ``NotAnArticle``."""
    return extract_with_options(html, url, _OPTIONS)


def extract_with_options(html: str, url: str | None, options: Mapping[str, Any]) -> Snapshot:
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
    sites = [*_site_names(tree, url, doc_site), *logos]
    title = _choose_headline(carriers, sites)
    paragraphs = _drop_noise_paragraphs(paragraphs, title, carriers)
    _check_article(title, paragraphs, links)
    # Navigation goes last: a section front is all navigation and is told so by the check.
    nav_labels = _site_link_labels(links)
    paragraphs = [p for p in paragraphs if not _is_navigation(p, nav_labels)]
    if not paragraphs:
        raise NotAnArticle(LINK_LIST)
    return Snapshot(title=title, paragraphs=tuple(paragraphs))


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
    suffixes = {
        loose_form(parts[-1]) for t in carriers.get("title", []) if len(parts := _SEPARATOR.split(t)) > 1
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


def _choose_headline(carriers: Mapping[str, list[str]], sites: list[str]) -> str:
    """Pick the article's own headline.

    Prefer an <h1> that another carrier confirms (an <h1> can be the site logo: Politico,
    CNN Arabic, Prachatai); otherwise the metadata titles, site suffixes stripped, preferring
    one that some other carrier confirms (a CMS placeholder confirms nothing).
    """
    others = [t for key in ("og", "twitter", "jsonld", "trafilatura", "title") for t in carriers.get(key, [])]
    others += [_strip_site(t, sites) for t in others]
    best, best_score = "", 0.0
    for h1 in carriers.get("h1", []):
        if _site_like(h1, sites):  # the logo: "POLITICO", "CNN"
            continue
        score = max((_agreement(h1, o) for o in others), default=0.0)
        if score > best_score:
            best, best_score = h1, score
    if best and best_score >= 0.6:
        return best
    ordered = [
        _strip_site(t, sites)
        for key in ("og", "twitter", "jsonld", "trafilatura", "title")
        for t in carriers.get(key, [])
    ]
    ordered = [t for t in ordered if t]
    for cand in ordered:
        if any(_agreement(cand, o) >= 0.6 for o in ordered if o is not cand):
            return cand
    if ordered:
        return ordered[0]
    h1s = carriers.get("h1", [])
    return h1s[0] if h1s else ""
