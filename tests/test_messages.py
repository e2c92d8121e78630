"""The messages room: Telegram's limits measured one way, replies that keep them, one time
formatter, one list of sensitivities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.diff import for_sensitivity
from bot.core.sensitivity import Sensitivity
from bot.messages import limits, notices, replies
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


def test_a_long_list_is_cut_within_telegrams_limits() -> None:
    """150 tracked articles do not fit one message: the oldest rows give way to the pointer,
    and what is left keeps Telegram's limits."""
    text = replies.list_text([(k, article(k), 1) for k in range(1, 151)], NOW)
    assert limits.count_entities(text) <= 100 and limits.fits(text)
    lines = text.split("\n")
    assert lines[:2] == ["<b>Tracked articles</b>", "…and more. /untrack articles you no longer need."]
    assert lines[-1].startswith('150. <a href="https://example.com/150">Story 150</a>')


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
        "HTTP 404 &lt;not found&gt;\nI've stopped checking it. /untrack 3 to remove it.",
        "Article #3 is gone · x.org\nhttps://x.org/a?b&c\nhttps://x.org/a?b&c\nHTTP 404 <not found>\n"
        "I've stopped checking it. /untrack 3 to remove it.",
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
