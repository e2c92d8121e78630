"""extract(): headline choice, body paragraphs, noise that must not reach the snapshot."""

from __future__ import annotations

import json
import unicodedata

import pytest
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from benchmarks.corpus import load_manifest
from bot.core import extract as extract_module
from bot.core.diff import diff_snapshots
from bot.core.extract import NotAnArticle, Snapshot, extract
from bot.core.normalize import comparison_form, display_form, loose_form
from tests.corpus import FIXTURES, corpus_or_skip, corpus_params, fixture_html

# --------------------------------------------------------------------------------------------
# Our fixtures
# --------------------------------------------------------------------------------------------

# file, headline, text that must be in the body, text that must not be anywhere
ARTICLES = [
    pytest.param(
        "article_v1.html",
        "Vladimir Putin postpones Paris talks on Syria",
        ["Vladimir Putin will not visit Paris next week", "Élysée Palace"],
        ["Most read", "Advertisement", "12 comments", "10:05", "The Daily Example"],
        id="headline-from-h1-not-title-suffix",
    ),
    pytest.param(
        "article_v2.html",
        "Vladimir Putin cancels Paris visit amid Syria row",
        ['France of "hostile" statements'],
        ["postpones"],
        id="headline-edit",
    ),
    pytest.param(
        "stamps_v1.html",
        "Hochwasser Pegel am Rhein steigt weiter",
        ["bei 8,20 Metern"],
        ["Stand:", "Anzeige", "Cookies"],
        id="update-stamp-ad-label-cookie-notice-dropped",
    ),
    pytest.param(
        "escaping.html",
        'Tom & Jerry’s "<b>" isn\'t a tag 🎉',
        ["5 < 6 && 7 > 3", "</s> or <b>", "👨\u200d👩\u200d👧", "every &amp; in a message"],
        ["&lt;"],
        id="entities-decoded-emoji-kept",
    ),
    pytest.param(
        "zh_title_only.html",
        "武汉的声音：有英勇的你，才有英雄的城！",
        ["尚有900多万人口"],
        ["示例网"],
        id="cjk-title-only-site-suffix-stripped",
    ),
    pytest.param(
        "ar_article.html",
        "معارضون يسيطرون على مخازن للصواريخ بريف دمشق",
        ["ولم ترد تقارير حول الخسائر البشرية"],
        ["مثال بالعربية"],
        id="rtl-logo-h1-ignored",
    ),
    pytest.param(
        "logo_h1.html",
        "Plumber jailed after boiler killed millionaire's daughter",
        ["within 30 minutes of being exposed"],
        ["escenic", "EXAMPLE POST"],
        id="site-name-h1-and-cms-placeholder-ignored",
    ),
]


def assert_snapshot(snap: Snapshot, title: str, present: list[str], absent: list[str]) -> None:
    """This headline; these texts in the body; those neither in the body nor the headline."""
    assert snap.title == title
    body = "\n".join(snap.paragraphs)
    for text in present:
        assert text in body
    for text in absent:
        assert text not in body and text not in snap.title


@pytest.mark.parametrize(("name", "title", "present", "absent"), ARTICLES)
def test_extract_fixture(name: str, title: str, present: list[str], absent: list[str]) -> None:
    snap = extract(fixture_html(name), url="https://example.com/news/story")
    assert_snapshot(snap, title, present, absent)
    for p in snap.paragraphs:  # display form: collapsed, trimmed, NFC
        assert p == display_form(p) and unicodedata.is_normalized("NFC", p)
    # the headline is not repeated as the first paragraph
    assert loose_form(snap.paragraphs[0]) != loose_form(snap.title)


# --------------------------------------------------------------------------------------------
# Page furniture inside the article: navigation, gallery counters, a logo <h1>
# --------------------------------------------------------------------------------------------

# file, headline, text that must be in the body, text that must not be anywhere; the pages'
# canonical links say which site they belong to
FURNITURE = [
    pytest.param(
        "related_v1.html",
        "Flood barrier fails its first winter test",
        ["letting water into more than 40 homes", "Tom Okafor", "Thursday evening at the town hall"],
        ["Read more", "Storm surge warning", "Council delays vote", "Opinion:", "interactive map"],
        id="related-links-are-navigation",
    ),
    pytest.param(
        "gallery_v1.html",
        "Volcano erupts on remote island, forcing hundreds to flee",
        ["eight kilometres into the sky", "Sione Tupou"],
        ["1 of 5", "3/12"],
        id="gallery-counters",
    ),
    pytest.param(
        "site_h1_v1.html",
        "Council approves new harbour bridge after decade of delays",
        ["240 million euros", "Henrik Dahl"],
        ["The Morning Ledger", "Maria Jensen\nCouncil approves"],
        id="headline-from-title-when-h1-is-the-site-name",
    ),
]


@pytest.mark.parametrize(("name", "title", "present", "absent"), FURNITURE)
def test_furniture_is_not_article_text(name: str, title: str, present: list[str], absent: list[str]) -> None:
    snap = extract(fixture_html(name))
    assert_snapshot(snap, title, present, absent)
    assert title not in "\n".join(snap.paragraphs)


def with_json_ld(html: str, headline: str) -> str:
    script = json.dumps({"@type": "NewsArticle", "headline": headline})
    return html.replace("</head>", f'<script type="application/ld+json">{script}</script>\n</head>', 1)


FURNITURE_EDITS = [
    pytest.param("related_v1.html", "related_v2.html", [], id="related-links-reordered-and-swapped"),
    pytest.param("gallery_v1.html", "gallery_v2.html", [], id="gallery-moved-on"),
    pytest.param(
        "site_h1_v1.html", "site_h1_v2.html", [("headline", None, None)], id="headline-edit-under-logo-h1"
    ),
]


@pytest.mark.parametrize(("a", "b", "expected"), FURNITURE_EDITS)
def test_furniture_changes_are_not_edits(a: str, b: str, expected: list[tuple[str, None, None]]) -> None:
    changes = diff_snapshots(extract(fixture_html(a)), extract(fixture_html(b)))
    assert [(c.kind, c.old_index, c.new_index) for c in changes] == expected


def test_a_real_edit_next_to_furniture_is_still_announced() -> None:
    old = extract(fixture_html("related_v1.html"))
    html = fixture_html("related_v2.html").replace("more than 40 homes", "more than 60 homes")
    changes = diff_snapshots(old, extract(html))
    assert [(c.kind, c.old_index, c.new_index) for c in changes] == [("edited", 0, 0)]
    assert "40" in changes[0].old and "60" in changes[0].new


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('<h1><a href="/">The Morning Ledger</a></h1>', "<h1>The Morning Ledger</h1>"),
        (" | The Morning Ledger</title>", "</title>"),
    ],
    ids=["h1-named-in-title-suffix", "h1-links-to-front-page"],
)
def test_either_sign_of_a_logo_h1_is_enough(old: str, new: str) -> None:
    html = fixture_html("site_h1_v1.html")
    assert old in html
    assert (
        extract(html.replace(old, new)).title == "Council approves new harbour bridge after decade of delays"
    )


def test_logo_h1_headline_from_json_ld_and_its_edit() -> None:
    """The <h1> is a link to the front page; JSON-LD states the headline, <title> a shorter one."""
    old_title, new_title = "Bridge vote: council says yes", "Bridge vote: council says yes, residents say no"
    old = with_json_ld(
        fixture_html("site_h1_v1.html"), "Council approves new harbour bridge after decade of delays"
    )
    old = old.replace("Council approves new harbour bridge after decade of delays |", f"{old_title} |")
    new = with_json_ld(
        fixture_html("site_h1_v2.html"), "Harbour bridge approved despite protests from Nordkai residents"
    )
    new = new.replace("Harbour bridge approved despite protests from Nordkai residents |", f"{new_title} |")
    a, b = extract(old), extract(new)
    assert a.title == "Council approves new harbour bridge after decade of delays"
    assert b.title == "Harbour bridge approved despite protests from Nordkai residents"
    changes = diff_snapshots(a, b)
    assert [c.kind for c in changes] == ["headline"]


NOT_ARTICLES = [
    pytest.param("section_front.html", extract_module.LINK_LIST, id="section-front"),
    pytest.param("paywall.html", extract_module.TOO_LITTLE_TEXT, id="paywall-stub"),
    pytest.param("empty.html", extract_module.NOT_AN_ARTICLE, id="empty-body"),
]


@pytest.mark.parametrize(("name", "message"), NOT_ARTICLES)
def test_not_an_article(name: str, message: str) -> None:
    with pytest.raises(NotAnArticle) as exc:
        extract(fixture_html(name))
    assert exc.value.args[0] == message
    assert message.endswith(".") and len(message) < 120  # one sentence a user can read


@pytest.mark.parametrize("html", ["", "   \n", "plain text, no markup at all", "<html></html>"])
def test_garbage_is_not_an_article(html: str) -> None:
    with pytest.raises(NotAnArticle):
        extract(html)


SAME_CONTENT = [
    pytest.param("article_v1.html", "article_noise.html", True, id="timestamps-counters-sidebar"),
    pytest.param("stamps_v1.html", "stamps_noise.html", True, id="stand-uhr-line"),
    pytest.param("article_v1.html", "article_v2.html", False, id="real-edit"),
    pytest.param("stamps_v1.html", "stamps_v3.html", False, id="changed-number"),
    pytest.param("related_v1.html", "related_v2.html", True, id="related-links-reordered"),
    pytest.param("gallery_v1.html", "gallery_v2.html", True, id="gallery-counter"),
]


@pytest.mark.parametrize(("a", "b", "same"), SAME_CONTENT)
def test_content_hash_ignores_noise_only(a: str, b: str, same: bool) -> None:
    ha = extract(fixture_html(a)).content_hash
    hb = extract(fixture_html(b)).content_hash
    assert (ha == hb) is same


def test_extract_same_page_twice_is_stable() -> None:
    """trafilatura's deduplication cache is process-wide; it must stay off."""
    html = fixture_html("article_v1.html")
    assert extract(html) == extract(html) == extract(html)


def test_crlf_line_endings_are_noise() -> None:
    html = fixture_html("article_v1.html")
    assert extract(html.replace("\n", "\r\n")).content_hash == extract(html).content_hash


# --------------------------------------------------------------------------------------------
# Snapshot
# --------------------------------------------------------------------------------------------


def test_snapshot_round_trips_through_json() -> None:
    snap = Snapshot("Überschrift “quoted” 🎉", ("Erster Absatz.", "中文段落。", "نص عربي"))
    data = json.loads(json.dumps(snap.to_dict()))
    back = Snapshot.from_dict(data)
    assert back == snap
    assert back.content_hash == snap.content_hash


BASE = Snapshot("Putin cancels Paris visit", ("He said “no” — twice.", "Second paragraph."))
HASH_CASES = [
    pytest.param(Snapshot("Putin  cancels\tParis visit ", BASE.paragraphs), True, id="whitespace"),
    pytest.param(
        Snapshot(BASE.title, ('He said "no" - twice.', "Second paragraph.")), True, id="quotes+dash"
    ),
    pytest.param(
        Snapshot(BASE.title, ("He said «no» – twice.", "Second\u00a0paragraph.")),
        True,
        id="guillemets-en-dash-nbsp",
    ),
    pytest.param(
        Snapshot(BASE.title, ("He said “no” — twice.\u200b", "Second paragraph.")),
        True,
        id="zero-width-space",
    ),
    pytest.param(
        Snapshot(unicodedata.normalize("NFD", "Putin cancels Paris visit"), BASE.paragraphs),
        True,
        id="unicode-form",
    ),
    pytest.param(Snapshot("Putin cancels Paris trip", BASE.paragraphs), False, id="word"),
    pytest.param(Snapshot("putin cancels Paris visit", BASE.paragraphs), False, id="case"),
    pytest.param(
        Snapshot(BASE.title, ("He said “no” — three times.", "Second paragraph.")),
        False,
        id="paragraph",
    ),
    pytest.param(Snapshot(BASE.title, ("Second paragraph.", "He said “no” — twice.")), False, id="order"),
]


@pytest.mark.parametrize(("other", "same"), HASH_CASES)
def test_content_hash(other: Snapshot, same: bool) -> None:
    assert (other.content_hash == BASE.content_hash) is same


def test_cjk_spacing_is_noise_but_hangul_spacing_is_not() -> None:
    assert comparison_form("子 どもへの 体罰") == comparison_form("子どもへの体罰")
    assert comparison_form("열정과 소통") != comparison_form("열정과소통")


# --------------------------------------------------------------------------------------------
# Helpers with many cases: site suffixes and update stamps
# --------------------------------------------------------------------------------------------

STRIP_SITE = [
    ("Foo rises again | World | The Daily Example", ["The Daily Example"], "Foo rises again"),
    ("武汉的声音：有英勇的你，才有英雄的城！-新华网", [], "武汉的声音：有英勇的你，才有英雄的城！"),
    ("Covid-19 cases rise in the north", [], "Covid-19 cases rise in the north"),
    ("BBC cuts 450 jobs - BBC News", ["BBC News", "bbc.com", "bbc"], "BBC cuts 450 jobs"),
    (
        "Chronik: Lotte Tobisch ist tot - wien.ORF.at",
        ["wien.ORF.at"],
        "Chronik: Lotte Tobisch ist tot",
    ),
    (
        "NEWS WEB EASY|子どもへの体罰を禁止する法律ができる",
        ["NEWS WEB EASY"],
        "子どもへの体罰を禁止する法律ができる",
    ),
    (
        "Tite diz que errou ao levar taça - 21/12/2018 - Esporte - Folha",
        ["Folha de S.Paulo"],
        "Tite diz que errou ao levar taça",
    ),
    (
        "[CEO&]창의적 열정과 소통, 초일류 기업이 간다 : 뉴스 : 동아닷컴",
        [],
        "[CEO&]창의적 열정과 소통, 초일류 기업이 간다",
    ),
    (
        "Daten von Rheinmetall gehackt - Interne Unterlagen im Netz",
        ["tagesschau.de"],
        "Daten von Rheinmetall gehackt - Interne Unterlagen im Netz",
    ),
]


@pytest.mark.parametrize(("title", "sites", "expected"), STRIP_SITE)
def test_strip_site(title: str, sites: list[str], expected: str) -> None:
    assert extract_module._strip_site(title, sites) == expected


STAMPS = [
    ("Stand: 28.04.2020 18:00 Uhr", True),
    ("08.04.2015 12:46", True),
    ("Updated 12:46 GMT, 8 April 2015", True),
    ("Mis à jour le 12/05/2015 à 18h32", True),
    ("5 minutes ago", True),
    ("2020年2月19日 10:05", True),
    ("Kickoff is at 20:00 on Saturday.", False),
    ("The vote is set for 12.05.2020 in parliament.", False),
    ("A long paragraph that mentions 12:30 in passing, which is not a stamp at all.", False),
]


@pytest.mark.parametrize(("text", "stamp"), STAMPS)
def test_update_stamps(text: str, stamp: bool) -> None:
    assert extract_module._is_update_stamp(text) is stamp


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", corpus_params({"headline_changed"}))
def test_corpus_headline(case) -> None:  # type: ignore[no-untyped-def]
    """The article's own headline, not <title> with a site suffix; it follows the v2 edit."""
    corpus = corpus_or_skip()
    page = next(p for p in load_manifest(corpus)["pages"] if p["slug"] == case.slug)
    pages = corpus / "pages" / case.slug
    before = extract((pages / "v1.html").read_text(encoding="utf-8"), case.url)
    after = extract((pages / "v2.html").read_text(encoding="utf-8"), case.url)
    assert comparison_form(case.old) in comparison_form(before.title)
    assert comparison_form(case.new) in comparison_form(after.title)
    carriers = page["extraction"]["page_headlines"]
    own = [*carriers.get("h1", []), carriers.get("og:title", "")]
    same_as_carrier = any(loose_form(before.title) == loose_form(c) for c in own if c)
    title_prefix = loose_form(carriers.get("title", "")).startswith(loose_form(before.title))
    assert same_as_carrier or title_prefix, (before.title, carriers)


def test_title_and_site_match_trafilatura_metadata() -> None:
    """The cheap title/site-name reading finds what trafilatura's full metadata pass finds, on
    every page of the corpus and on our fixtures (with the page's address and without)."""
    corpus = corpus_or_skip()
    pages = sorted((corpus / "pages").glob("*/*.html"))
    urls = {p["slug"]: p["url"] for p in load_manifest(corpus)["pages"]}
    found = 0
    for path in [*pages, *sorted(FIXTURES.glob("*.html"))]:
        tree = load_html(path.read_text(encoding="utf-8", errors="replace"))
        if tree is None:
            continue
        for url in (urls.get(path.parent.name), None):
            full = extract_metadata(tree, url)
            assert extract_module._title_and_site(tree, url) == (full.title, full.sitename), (path, url)
            found += bool(full.title and full.sitename)
    assert found > len(pages)  # most pages state both: the comparison is not of two Nones
