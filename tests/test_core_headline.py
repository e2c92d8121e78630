"""Headline identity (issue #14, section 1): the display headline is read from the element the
article was tracked with, whatever the metadata says; the search/social title is a second field
with a line of its own; a redesign that takes the element away is recorded, never announced.

One table of edits on our own page (``headline_v1.html``), then the same edits on real
templates of the shared corpus, generated at test time from each page's v1 and v2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks.corpus import (
    KNOWN_HEADLINE_FAILURES,
    corpus_dir,
    evaluate_headline,
    headline_variants,
    load_manifest,
)
from bot.core.diff import Change, diff_snapshots, for_sensitivity
from bot.core.edits import EventKind, classify
from bot.core.extract import META_CARRIER, Snapshot, extract
from bot.core.headline import CarrierSwitch, announceable, carrier_switch
from bot.core.sensitivity import Sensitivity
from bot.messages.announcement import SEARCH_TITLE_LINE, MessageContext, render_announcement
from tests.corpus import SKIP_REASON, corpus_or_skip, fixture_html

URL = "https://www.example.com/world/2016/oct/11/putin-paris"
H1 = "Putin cancels Paris visit amid Syria row"
SEO = "Vladimir Putin cancels Paris visit amid row over Syria"
H1_REWRITTEN = "Putin calls off Paris trip as Syria row deepens"
SEO_REWRITTEN = "Vladimir Putin scraps Paris visit amid row over Syria"


def display(html: str, headline: str) -> str:
    """The visible <h1> rewritten, the metadata left alone."""
    return html.replace(
        f'<h1 class="article-headline">{H1}</h1>', f'<h1 class="article-headline">{headline}</h1>'
    )


def metadata(html: str, title: str) -> str:
    """<title>, og:/twitter: titles and the JSON-LD headline rewritten, the <h1> left alone."""
    return html.replace(SEO, title)


def message(changes: list[Change], new: Snapshot) -> str:
    ctx = MessageContext(
        site="example.com",
        url=URL,
        title=new.title,
        old_version=1,
        new_version=2,
        elapsed=timedelta(minutes=35),
        article_number=4,
    )
    return render_announcement(changes, ctx)


@dataclass(frozen=True)
class Row:
    edit: Callable[[str], str]
    kinds: list[str]  # the changes announced, in order
    shows: list[str]  # in the message, in this order
    hides: list[str]  # never in the message


EDITS = {
    "display-headline-only": Row(
        lambda h: display(h, H1_REWRITTEN),
        ["headline"],
        [
            "✏️ Headline changed",
            "Putin <s>cancels</s> <b>calls off</b> Paris <s>visit amid</s> <b>trip as</b>",
        ],
        [SEARCH_TITLE_LINE, "scraps"],
    ),
    "metadata-title-only": Row(
        lambda h: metadata(h, SEO_REWRITTEN),
        ["search_title"],
        [
            "✏️ Title in search and social changed",
            f"<i>{H1}</i>",
            f"{SEARCH_TITLE_LINE}Vladimir Putin <s>cancels</s> <b>scraps</b> Paris visit",
        ],
        ["Headline changed", "calls off"],
    ),
    "both-changed": Row(
        lambda h: metadata(display(h, H1_REWRITTEN), SEO_REWRITTEN),
        ["headline", "search_title"],
        [
            "✏️ Headline changed",
            "<b>calls off</b>",
            f"{SEARCH_TITLE_LINE}Vladimir Putin <s>cancels</s> <b>scraps</b>",
        ],
        [],
    ),
    # The same words edited in both: the search line would only repeat the headline's.
    "both-changed-word-for-word": Row(
        lambda h: h.replace("cancels", "scraps"),
        ["headline"],
        ["✏️ Headline changed", "Putin <s>cancels</s> <b>scraps</b> Paris visit amid Syria row"],
        [SEARCH_TITLE_LINE],
    ),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_headline_edits_on_our_page(name: str) -> None:
    row = EDITS[name]
    v1 = fixture_html("headline_v1.html")
    before = extract(v1, URL)
    assert (before.carrier, before.title, before.search_title) == ("h1", H1, SEO)
    after = extract(row.edit(v1), URL, carrier=before.carrier)
    assert after.carrier == "h1"
    changes = diff_snapshots(before, after)
    assert [c.kind for c in changes] == row.kinds
    text = message(changes, after)
    print(f"\n{name}:\n{text}")
    positions = [text.find(s) for s in row.shows]
    assert -1 not in positions, text
    assert positions == sorted(positions), text
    assert not [s for s in row.hides if s in text], text


def test_a_rewritten_h1_stays_the_headline_though_no_metadata_agrees_with_it() -> None:
    """The case an agreement vote lost: the new <h1> shares little with the metadata."""
    v1 = fixture_html("headline_v1.html")
    after = extract(display(v1, "Kremlin snubs Hollande"), URL, carrier="h1")
    assert (after.title, after.search_title, after.carrier) == ("Kremlin snubs Hollande", SEO, "h1")


def test_headline_only_sensitivity_covers_the_display_headline_only() -> None:
    v1 = fixture_html("headline_v1.html")
    before = extract(v1, URL)
    search_only = diff_snapshots(before, extract(metadata(v1, SEO_REWRITTEN), URL, carrier="h1"))
    display_only = diff_snapshots(before, extract(display(v1, H1_REWRITTEN), URL, carrier="h1"))
    assert [c.kind for c in for_sensitivity(search_only, Sensitivity.SUBSTANTIVE)] == ["search_title"]
    assert for_sensitivity(search_only, Sensitivity.HEADLINE) == []
    assert [c.kind for c in for_sensitivity(display_only, Sensitivity.HEADLINE)] == ["headline"]


def test_a_redesign_that_removes_the_h1_is_recorded_not_announced() -> None:
    before = extract(fixture_html("headline_v1.html"), URL)
    after = extract(fixture_html("headline_redesign.html"), URL, carrier=before.carrier)
    # The new template's only <h1> is the site's logo: the metadata carries the headline now.
    assert (after.carrier, after.title) == (META_CARRIER, SEO)
    switch = carrier_switch(before.carrier, after.carrier)
    assert switch is CarrierSwitch.REDESIGN
    changes = diff_snapshots(before, after)
    assert [c.kind for c in changes] == ["headline"]  # what a naive check would announce
    assert announceable(changes, switch) == []


@pytest.mark.parametrize(
    ("stored", "used", "switch", "search_title", "kept"),
    [
        pytest.param("h1", "h1", CarrierSwitch.SAME, "d", ["headline", "search_title", "edited"], id="same"),
        pytest.param("h1", "meta", CarrierSwitch.REDESIGN, "d", ["search_title", "edited"], id="redesign"),
        # The stored headline was the metadata's title, and the page still says so: a new reading.
        pytest.param(None, "h1", CarrierSwitch.ADOPTED, "a", ["edited"], id="adopted"),
        # The stored headline is nowhere on the page any more: it was edited.
        pytest.param(None, "h1", CarrierSwitch.ADOPTED, "d", ["headline", "edited"], id="adopted-edited"),
    ],
)
def test_what_a_carrier_switch_may_announce(
    stored: str | None, used: str, switch: CarrierSwitch, search_title: str, kept: list[str]
) -> None:
    changes = [
        Change("headline", None, None, "a", "b"),
        Change("search_title", None, None, "c", "d"),
        Change("edited", 0, 0, "e", "f"),
    ]
    assert carrier_switch(stored, used) is switch
    assert [c.kind for c in announceable(changes, switch, search_title)] == kept


def test_an_ab_flip_of_the_display_headline_is_recognised() -> None:
    v1 = fixture_html("headline_v1.html")
    a = extract(v1, URL)
    b = extract(display(v1, H1_REWRITTEN), URL, carrier=a.carrier)
    index: list[tuple[int, str, str]] = [(1, a.content_hash, a.title)]
    kinds = []
    ab_titles = None
    for number, (old, new) in enumerate([(a, b), (b, a), (a, b), (b, a), (a, b)], start=2):
        event = classify(index, old, new, diff_snapshots(old, new), ab_titles)
        kinds.append(event.kind)
        ab_titles = event.ab_titles or ab_titles
        index.append((number, new.content_hash, new.title))
    assert kinds == [
        EventKind.EDIT,
        EventKind.REVERT,
        EventKind.AB_TEST,
        EventKind.AB_FLIP,
        EventKind.AB_FLIP,
    ]
    assert ab_titles == (H1_REWRITTEN, H1)


# -- the corpus: real templates ------------------------------------------------------------------


def _corpus_cases() -> list[object]:
    path = corpus_dir()
    if path is None:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=SKIP_REASON), id="no-corpus")]
    params = []
    for page in load_manifest(path)["pages"]:
        for how in ("retouch", "rewrite"):
            reason = KNOWN_HEADLINE_FAILURES.get(f"{page['slug']}/visible-{how}")
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            params.append(pytest.param(page["slug"], how, marks=marks, id=f"{page['slug']}-{how}"))
    return params


@pytest.mark.parametrize(("slug", "how"), _corpus_cases())
def test_headline_edits_on_real_templates(slug: str, how: str) -> None:
    """v2 retouches every headline carrier (or, rewritten, each says another sentence); applied
    to the visible headline alone it is announced as the headline with its words, applied to the
    metadata alone only as the search/social title."""
    result = evaluate_headline(slug, corpus_or_skip(), rewrite=how == "rewrite")
    assert result.visible == [], result.messages.get("visible")
    assert result.metadata in ([], None), result.messages.get("metadata")
    assert "Headline changed" in result.messages["visible"]
    if result.metadata is not None:
        assert SEARCH_TITLE_LINE in result.messages["metadata"]
        assert "Headline changed" not in result.messages["metadata"]


def test_variants_touch_only_their_carriers() -> None:
    """The Washington Post's v2: "Attack stokes" became "Museum attack stokes" everywhere."""
    page = Path(corpus_or_skip()) / "pages" / "washingtonpost"
    v1, v2 = (page / "v1.html").read_text(encoding="utf-8"), (page / "v2.html").read_text(encoding="utf-8")
    variants = headline_variants(v1, v2)
    assert variants is not None
    visible, meta = variants
    og = '<meta property="og:title" content="'
    assert "<h1>Museum attack stokes" in visible and f"{og}Attack stokes" in visible
    assert "<h1>Attack stokes" in meta and f"{og}Museum attack stokes" in meta
    assert visible.count("Museum attack stokes") + meta.count("Museum attack stokes") == v2.count(
        "Museum attack stokes"
    )


REDESIGN_SLUGS = ["bbc", "guardian", "nytimes", "lemonde", "spiegel", "nhk", "yonhap", "elpais"]


@pytest.mark.parametrize("slug", REDESIGN_SLUGS)
def test_a_redesign_without_h1_on_real_templates_is_not_announced(slug: str) -> None:
    """Every <h1> of the page turned into a <div> (its classes kept): the carrier is chosen
    again, and whatever the new one says is not announced as a headline edit."""
    corpus = corpus_or_skip()
    page = next(p for p in load_manifest(corpus)["pages"] if p["slug"] == slug)
    v1 = (Path(corpus) / "pages" / slug / "v1.html").read_text(encoding="utf-8")
    redesigned = re.sub(r"<(/?)h1\b", r"<\1div", v1, flags=re.IGNORECASE)
    before = extract(v1, page["url"])
    after = extract(redesigned, page["url"], carrier=before.carrier)
    assert before.carrier == "h1" and after.carrier != "h1"
    switch = carrier_switch(before.carrier, after.carrier)
    assert switch is CarrierSwitch.REDESIGN
    shown = for_sensitivity(announceable(diff_snapshots(before, after), switch), Sensitivity.SUBSTANTIVE)
    assert [c for c in shown if c.kind == "headline"] == []
