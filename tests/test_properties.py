"""Any input, no crash: random and malformed pages through extract → diff → render.

The output must always be HTML that Telegram accepts (checked with the fake Bot API's
port of Telegram's own parser) and within 4096 UTF-16 units and 100 entities.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.diff import diff_snapshots, summarize
from bot.core.extract import LINK_LIST, NOT_AN_ARTICLE, TOO_LITTLE_TEXT, NotAnArticle, Snapshot, extract
from bot.messages.announcement import MessageContext, render_announcement, render_diff, render_plain
from bot.messages.limits import utf16_len
from tests.fakes.telegram_api import parse_telegram_html

CTX = MessageContext(
    site="example.com",
    url="https://example.com/a?x=1&y=<2>",
    title="T",
    old_version=1,
    new_version=2,
    article_number=3,
)

# Text that stresses escaping and scripts: markup characters, entities, emoji, CJK, RTL, combining.
TRICKY = st.sampled_from(
    [
        "<",
        ">",
        "&",
        "&amp;",
        '"',
        "'",
        "<b>",
        "</s>",
        "😀",
        "👩‍👩‍👧",
        "中文",
        "日本語",
        "مرحبا",
        "שלום",
        "Привет",
        "e\u0301",
        "\u200b",
        "\u00a0",
        "\t",
        "\n",
        "…",
        "—",
    ]
)
WORDS = st.lists(
    st.one_of(st.text(alphabet=string.ascii_letters + string.digits + " .,?!", max_size=12), TRICKY),
    max_size=40,
).map(" ".join)
PARAGRAPHS = st.lists(WORDS, max_size=12)


def assert_valid_message(message: str) -> None:
    parsed = parse_telegram_html(message)  # raises on anything Telegram would refuse
    assert utf16_len(parsed.text) <= 4096
    assert len(parsed.entities) <= 100


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(WORDS, PARAGRAPHS), st.tuples(WORDS, PARAGRAPHS))
def test_any_snapshots_render_valid_messages(old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    a = Snapshot(title=old[0], paragraphs=tuple(old[1]))
    b = Snapshot(title=new[0], paragraphs=tuple(new[1]))
    changes = diff_snapshots(a, b)
    summarize(changes)
    if not changes:
        return
    for render in (render_announcement, render_diff):
        assert_valid_message(render(changes, CTX))
    assert utf16_len(render_plain(changes, CTX)) <= 4096


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=60), st.integers(min_value=200, max_value=3000))
def test_huge_paragraphs_and_many_changes_stay_within_limits(count: int, size: int) -> None:
    a = Snapshot(
        title="Headline", paragraphs=tuple(f"{i} " + "alpha & <beta> " * (size // 14) for i in range(count))
    )
    b = Snapshot(
        title="Headline <new> & improved",
        paragraphs=tuple(f"{i} " + "gamma & <delta> " * (size // 15) for i in range(count)),
    )
    changes = diff_snapshots(a, b)
    assert changes
    for render in (render_announcement, render_diff):
        assert_valid_message(render(changes, CTX))


HTML_BITS = st.sampled_from(
    [
        "<html>",
        "</html>",
        "<body>",
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<h1>",
        "</h1>",
        "<article>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<meta charset='x-bogus'>",
        "<title>",
        "</title>",
        "&#0;",
        "&#xD800;",
        "&bogus;",
        "<",
        ">",
        "\x00",
        "\ufeff",
        "<p/>",
    ]
)


REFUSALS = {NOT_AN_ARTICLE, TOO_LITTLE_TEXT, LINK_LIST}  # what a user can be told, word for word


def assert_extracts_sanely(html: str) -> None:
    """Either a snapshot a diff can use (plain stripped text, no NULs, the same every time) or
    one of the refusals a user is shown, word for word; never another exception."""
    try:
        snapshot = extract(html, "https://example.com/a")
    except NotAnArticle as exc:
        assert len(exc.args) == 1 and exc.args[0] in REFUSALS, exc.args
        return
    assert isinstance(snapshot.title, str) and "\x00" not in snapshot.title
    assert snapshot.paragraphs, "an article has text"
    for paragraph in snapshot.paragraphs:
        assert paragraph and paragraph == paragraph.strip() and "\x00" not in paragraph, repr(paragraph)
    assert extract(html, "https://example.com/a").content_hash == snapshot.content_hash


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(HTML_BITS, WORDS), max_size=60).map("".join))
def test_malformed_html_extracts_sanely_or_is_refused(html: str) -> None:
    assert_extracts_sanely(html)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_binary_junk_extracts_sanely_or_is_refused(junk: bytes) -> None:
    assert_extracts_sanely(junk.decode("latin-1"))


def test_deep_nesting_is_refused_as_not_an_article() -> None:
    html = (
        "<html><body>" + "<div>" * 5000 + "<p>" + "word " * 200 + "</p>" + "</div>" * 5000 + "</body></html>"
    )
    with pytest.raises(NotAnArticle) as refused:
        extract(html, "https://example.com/a")
    assert refused.value.args == (NOT_AN_ARTICLE,)
