"""The messages room: Telegram's limits measured one way, replies that keep them, one time
formatter, one list of sensitivities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.diff import for_sensitivity
from bot.core.sensitivity import Sensitivity
from bot.messages import buttons, limits, notices, replies
from bot.messages.time import ago, duration
from bot.storage.chats import AwayChange
from bot.storage.models import Article

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_limits_measure_what_the_reader_sees_in_utf16_units() -> None:
    assert limits.utf16_len("🎉a") == 3
    assert limits.visible_text('<b>Tom &amp; Jerry</b> <a href="https://x/?a&amp;b">x</a>') == "Tom & Jerry x"
    assert limits.count_entities('<b>a</b> <s>b</s> <a href="u">c</a> <i>d</i>') == 4
    emoji = "🎉" * 2048  # 2048 code points, 4096 units
    assert limits.fits(f"<b>{emoji}</b>") and not limits.fits(f"<b>{emoji}x</b>")
    assert limits.fits(emoji, html=False) and not limits.fits(emoji + "x", html=False)
    assert not limits.fits("<b>x</b>" * 101) and limits.fits("<b>x</b>" * 100)
    # the HTML source may be longer than 4096 as long as what the reader sees is not
    long_link = f'<a href="https://example.com/{"p" * 3000}">{"x" * 4000}</a>'
    assert limits.fits(long_link) and not limits.fits(long_link, source=True)


def article(k: int) -> Article:
    return Article(
        url=f"https://example.com/{k}", url_key=f"example.com/{k}", site="example.com", title=f"Story {k}"
    )


def test_a_full_list_page_of_the_longest_rows_keeps_telegrams_limits() -> None:
    """A /list page of ten rows whose titles and sites are as long as they can be — emoji,
    two UTF-16 units each, and characters that grow when escaped — fits, as Telegram counts."""
    worst = Article(
        url="https://example.com/" + "p" * 2000,
        url_key="k",
        site="🎉&" * 200,
        title="🎉<&>" * 500,
        state="failing",
        last_changed_at=NOW - timedelta(days=400),
    )
    rows = [(k, worst, 1000) for k in range(1000, 1000 - replies.LIST_PAGE_SIZE, -1)]
    text = replies.list_page(rows, NOW, total=200, page=3, pages=20)
    assert limits.fits(text) and limits.count_entities(text) <= 1 + replies.LIST_PAGE_SIZE
    assert limits.utf16_len(limits.visible_text(text)) == 3151  # of 4096: the worst page there is
    first = text.split("\n")[1]
    assert first.startswith("#1000 <a href=") and first.endswith(
        " · v1000, changed 400 days ago · can't read it right now"
    )


def test_a_full_history_page_of_the_longest_lines_keeps_telegrams_limits() -> None:
    from zoneinfo import ZoneInfo

    class V:
        def __init__(self, number: int) -> None:
            self.number = number
            self.created_at = NOW
            self.summary = "🎉<&>" * 300
            self.content: dict[str, object] = {}

    worst = Article(url="https://example.com/" + "p" * 2000, url_key="k", site="x", title="🎉<&>" * 500)
    versions = [V(n) for n in range(100_000, 100_000 - 3 * replies.HISTORY_PAGE_SIZE, -1)]
    text = replies.history_page(
        99_999, worst, versions, page=2, tz=ZoneInfo("America/Argentina/ComodRivadavia")
    )
    assert limits.fits(text) and len(text.split("\n")) == replies.HISTORY_PAGE_SIZE + 2
    assert limits.utf16_len(limits.visible_text(text)) == 3375  # of 4096: the worst page there is


@pytest.mark.parametrize(
    ("wanted", "head", "empty"),
    [
        ("all", "<b>Tracked articles</b> · 3", "This chat tracks no articles yet. Send /track URL to start."),
        (
            "changed",
            "<b>Edited articles</b> · 3",
            "None of this chat's articles has been edited yet. /list shows them all.",
        ),
        (
            "failing",
            "<b>Articles I can't read</b> · 3",
            "I can read every article this chat tracks. /list shows them all.",
        ),
    ],
)
def test_list_pages_say_what_they_show(wanted: str, head: str, empty: str) -> None:
    rows = [(k, article(k), 1) for k in (3, 2, 1)]
    text = replies.list_page(rows, NOW, wanted=wanted, total=3)
    assert text.split("\n")[0] == head + " · newest change first"  # one page: no page count
    assert replies.list_page([], NOW, wanted=wanted, total=0) == empty


def test_a_history_page_shows_times_in_the_chats_zone_newest_first() -> None:
    from zoneinfo import ZoneInfo

    class V:
        def __init__(self, number: int) -> None:
            self.number = number
            self.created_at = datetime(2026, 7, 1, 12, 0) + timedelta(hours=number)  # naive: UTC
            self.summary = "first version" if number == 1 else "headline changed"
            self.content: dict[str, object] = {}

    versions = [V(n) for n in range(1, 41)]
    page1 = replies.history_page(7, article(7), versions, page=1)
    lines = page1.split("\n")
    assert (
        lines[0]
        == '<b>History of #7</b>: <a href="https://example.com/7">Story 7</a> · page 1 of 3, newest first'
    )
    assert lines[1] == "v40 · 2026-07-03 04:00 UTC · headline changed · /diff_7_39_40"
    berlin = replies.history_page(7, article(7), versions, page=3, tz=ZoneInfo("Europe/Berlin"))
    assert berlin.split("\n")[-2] == "v1 · 2026-07-01 15:00 CEST · first version"
    assert replies.history_page(7, article(7), versions, page=99) == replies.history_page(
        7, article(7), versions, page=3
    )  # a page past the end (versions pruned meanwhile) is the last one


def test_every_sensitivity_has_a_label_and_a_filter() -> None:
    assert set(replies.SENSITIVITY_LABELS) == set(Sensitivity)
    for choice in Sensitivity:
        assert (
            replies.sensitivity_saved(choice)
            == f"This chat now gets: <b>{replies.SENSITIVITY_LABELS[choice]}</b>."
        )
        assert for_sensitivity([], choice) == []
    assert replies.sensitivity_button(Sensitivity.HEADLINE, "headline") == "✅ Headline only"
    assert replies.sensitivity_button(Sensitivity.EVERYTHING, "headline") == "Everything"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (None, "never"),
        (NOW + timedelta(minutes=2), "just now"),  # another machine's clock ran ahead
        (NOW - timedelta(seconds=59), "just now"),
        (NOW - timedelta(minutes=5), "5 min ago"),
        (NOW - timedelta(hours=3, minutes=59), "3 h ago"),
        (NOW - timedelta(days=1), "1 day ago"),
        (NOW - timedelta(days=2, hours=5), "2 days ago"),
    ],
)
def test_ago(moment: datetime | None, text: str) -> None:
    assert ago(moment, NOW) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-5), "0 s"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=12), "12 min"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(hours=3), "3 h 0 min"),
        (timedelta(days=1), "1 days"),  # today's wording, kept as it is
        (timedelta(days=3, hours=2), "3 days"),
    ],
)
def test_duration(delta: timedelta, text: str) -> None:
    assert duration(delta) == text


def test_gone_and_failing_notices_word_the_article_once_for_html_and_plain() -> None:
    gone = notices.article_gone(3, "", "https://x.org/a?b&c", "x.org", "HTTP 404 <not found>")
    assert gone == (
        '🚫 Article #3 is gone · x.org\n<a href="https://x.org/a?b&amp;c">https://x.org/a?b&amp;c</a>\n'
        "HTTP 404 &lt;not found&gt;\nI've stopped checking it. /untrack_3 removes it.",
        "Article #3 is gone · x.org\nhttps://x.org/a?b&c\nhttps://x.org/a?b&c\nHTTP 404 <not found>\n"
        "I've stopped checking it. /untrack_3 removes it.",
    )
    failing = notices.article_failing(2, "Tom & Jerry", "https://x.org/t", "x.org", "timed out")
    assert failing == (
        "⚠️ Article #2 can't be read right now · x.org\n"
        '<a href="https://x.org/t">Tom &amp; Jerry</a>\ntimed out\n'
        "I'll keep trying and tell you when it changes.",
        "Article #2 can't be read right now · x.org\nTom & Jerry\nhttps://x.org/t\ntimed out\n"
        "I'll keep trying and tell you when it changes.",
    )


def test_welcome_back_plain_text_keeps_the_limit_in_utf16_units() -> None:
    """The plain fallback of a long "Back in touch" is cut by Telegram's measure: emoji
    titles count two units each."""
    away = [AwayChange(k, k, "🎉" * 60, 1, 2) for k in range(1, 80)]
    html, plain = replies.welcome_back(away)
    assert limits.fits(html)
    assert limits.utf16_len(plain) <= limits.MAX_LENGTH
    assert plain.startswith(
        "👋 Back in touch. While I could not post here, 79 tracked articles changed:\n#1 🎉"
    )


def test_truncate_counts_utf16_units_and_keeps_emoji_whole() -> None:
    assert limits.truncate("abc", 2) == "ab" and limits.truncate("abc", 3) == "abc"
    assert limits.truncate("a🎉b", 2) == "a" and limits.truncate("a🎉b", 3) == "a🎉"


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        ("ad:12:3:4", buttons.ArticlePress(buttons.ArticleAction.DIFF, 12, 3, 4)),
        ("ah:12", buttons.ArticlePress(buttons.ArticleAction.HISTORY, 12)),
        ("au:12", buttons.ArticlePress(buttons.ArticleAction.UNTRACK, 12)),
        ("ad:12", None),  # a diff names its versions
        ("ah:12:1", None),
        ("au:-1", None),
        ("ah:x", None),
        ("zz:1", None),
        ("ls:all:1", None),
    ],
)
def test_button_data_is_read_back_or_refused(data: str, parsed: buttons.ArticlePress | None) -> None:
    assert buttons.parse_article(data) == parsed


def test_button_data_names_stable_ids_within_64_bytes() -> None:
    huge = 2**63 - 1  # the largest id a BIGINT holds
    for row in buttons.announcement_keyboard(huge, huge - 1, huge):
        for _label, data in row:
            assert len(data.encode()) <= buttons.MAX_DATA_BYTES
    press = buttons.parse_article(buttons.announcement_keyboard(huge, 1, 2)[0][0][1])
    assert press == buttons.ArticlePress(buttons.ArticleAction.DIFF, huge, 1, 2)
    assert buttons.parse_list("ls:changed:3") == buttons.ListPress(buttons.ListFilter.CHANGED, 3)
    assert buttons.parse_list("ls:bogus:3") is None and buttons.parse_list("ls:all:x") is None
    assert (
        buttons.parse_history("hs:7:2") == buttons.HistoryPress(7, 2)
        and buttons.parse_history("hs:7") is None
    )
    assert buttons.list_keyboard(buttons.ListFilter.ALL, 1, 1) == []  # one page: no buttons
    assert buttons.pager("ls:all", 2, 3) == [("◀", "ls:all:1"), ("▶", "ls:all:3")]


def test_a_coalesced_message_keeps_its_buttons_and_its_diff_spans_both_edits() -> None:
    earlier, latest = buttons.announcement_keyboard(5, 1, 2), buttons.announcement_keyboard(5, 2, 3)
    assert buttons.coalesced_keyboard(earlier, latest) == buttons.announcement_keyboard(5, 1, 3)
    assert buttons.coalesced_keyboard(None, latest) == latest  # the earlier one had none (before 0010)
    assert buttons.coalesced_keyboard(earlier, None) == earlier
    assert buttons.coalesced_keyboard(buttons.notice_keyboard(5), latest) == latest
