"""bot.core.fingerprint: what changes it (everything extraction reads) and what does not (per-fetch
noise extraction never reads). One row per case, applied to one small page. That no corpus edit
hides behind an unchanged fingerprint is checked by tests/test_corpus.py, whose judging
(benchmarks.corpus.evaluate) skips extraction when the fingerprint is unchanged, as the monitor
does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import fingerprint as fingerprint_module
from bot.core.extract import extract
from bot.core.fingerprint import fingerprint

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Storm hits the coast | The Daily Example</title>
  <meta property="og:title" content="Storm hits the coast">
  <meta property="og:site_name" content="The Daily Example">
  <meta name="csrf-token" content="a1b2c3">
  <link rel="stylesheet" href="/site.css?v=101">
  <style nonce="n1">.para { margin: 0 }</style>
  <script nonce="n1">window.__REQ__ = "req-1";</script>
  <script type="application/ld+json">{"@type": "NewsArticle", "headline": "Storm hits the coast"}</script>
</head>
<body>
  <!-- rendered at 10:00:01 -->
  <div id="ad-slot" data-slot="8812"></div>
  <article itemprop="articleBody">
    <h1>Storm hits the coast</h1>
    <h2>Thousands without power</h2>
    <div class="para">The storm reached the coast on Tuesday night.</div>
    <p>Winds of 120 km/h were measured.</p>
    <p>Emergency services said they had answered more than four thousand calls overnight, most of them about fallen trees, flooded cellars and roofs torn away by the wind.</p>
    <ul><li>Schools are closed.</li></ul>
    <table><tr><td>Deaths</td><td>2</td></tr></table>
    <blockquote>It was the worst night in years.</blockquote>
    <pre>Route 1 closed</pre>
    <p>Rainfall grew with the square of the wind: <math alttext="r = w^2"><mi>r</mi></math>.</p>
    <noscript>Enable JavaScript to see the map.</noscript>
  </article>
  <img src="/pixel.gif?t=1700000000" alt="">
</body>
</html>
"""


def _edit(old: str, new: str) -> str:
    assert old in PAGE, old
    return PAGE.replace(old, new)


CHANGES_IT = [
    ("title", "<title>Storm hits the coast |", "<title>Storm lashes the coast |"),
    ("og:title", 'og:title" content="Storm hits', 'og:title" content="Storm lashes'),
    ("site name", 'content="The Daily Example">', 'content="The Weekly Example">'),
    ("JSON-LD headline", '"headline": "Storm hits', '"headline": "Storm lashes'),
    ("h1", "<h1>Storm hits", "<h1>Storm lashes"),
    ("h2", "Thousands without power", "Millions without power"),
    ("div paragraph", "on Tuesday night", "on Wednesday night"),
    ("p paragraph", "120 km/h", "130 km/h"),
    ("list item", "Schools are closed.", "Schools are open."),
    ("table cell", "<td>2</td>", "<td>3</td>"),
    ("blockquote", "worst night", "best night"),
    ("pre", "Route 1 closed", "Route 2 closed"),
    ("noscript (readability reads it)", "see the map", "see the chart"),
    ("a word added", "Winds of", "Strong winds of"),
    ("paragraph split", "night.</div>", "night.</div><div class='para'>Later:</div>"),
    ("block boundary moved", "night.</div>\n    <p>Winds", "night. <span>Winds"),
    ("class (boilerplate rules read it)", '<div class="para">', '<div class="comments">'),
    ("hidden (visibility check)", '<div class="para">', '<div class="para" hidden>'),
    ("style display:none", '<div class="para">', '<div class="para" style="display:none">'),
    ("MathML alttext (extraction turns formulas into text)", "w^2", "w^3"),
    ("itemprop articleBody", 'itemprop="articleBody"', 'itemprop="text"'),
    ("space removed between words", "Schools are", "Schoolsare"),
]

LEAVES_IT = [
    ("script payload", 'window.__REQ__ = "req-1"', 'window.__REQ__ = "req-2"'),
    ("inline script added", "</head>", '<script>window.__BUILD__ = "b7";</script></head>'),
    ("nonce attributes", 'nonce="n1">window', 'nonce="n2">window'),
    ("style contents", ".para { margin: 0 }", ".para { margin: 1px }"),
    ("HTML comment", "rendered at 10:00:01", "rendered at 10:00:02"),
    ("data-* attribute", 'data-slot="8812"', 'data-slot="9921"'),
    ("cache-busting asset URL", "/site.css?v=101", "/site.css?v=102"),
    ("tracking pixel URL", "t=1700000000", "t=1700000001"),
    ("CSRF meta tag", 'content="a1b2c3"', 'content="z9y8x7"'),
    ("re-indented markup", "\n    <h2>", "\n        <h2>"),
    ("CRLF line endings", "\n", "\r\n"),
    ("doubled space in text", "reached the coast", "reached  the coast"),
]


@pytest.mark.parametrize(("name", "old", "new"), CHANGES_IT, ids=[c[0] for c in CHANGES_IT])
def test_what_extraction_reads_changes_the_fingerprint(name: str, old: str, new: str) -> None:
    assert fingerprint(_edit(old, new)) != fingerprint(PAGE)


@pytest.mark.parametrize(("name", "old", "new"), LEAVES_IT, ids=[c[0] for c in LEAVES_IT])
def test_per_fetch_noise_leaves_the_fingerprint(name: str, old: str, new: str) -> None:
    assert fingerprint(_edit(old, new)) == fingerprint(PAGE)


def test_noise_rows_leave_the_extraction_alone_too() -> None:
    """The other half of the rule: what the fingerprint ignores, extraction ignores."""
    before = extract(PAGE)
    for _name, old, new in LEAVES_IT:
        assert extract(_edit(old, new)) == before


def test_empty_and_unparseable_pages_have_a_fingerprint() -> None:
    assert fingerprint("") == fingerprint("   ")
    assert fingerprint("<html></html>") != fingerprint("")
    assert fingerprint("just text") != fingerprint("other text")


_SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000\u200bab"


@given(st.text(alphabet=st.sampled_from(_SPACES), max_size=20) | st.text(max_size=20))
def test_whitespace_runs_squash_as_the_regular_expression_would(text: str) -> None:
    """The fast squash gives what ``\\s+`` → one space gives, ends included (stored
    fingerprints stay valid)."""
    assert fingerprint_module._squash(text) == re.sub(r"\s+", " ", text)
