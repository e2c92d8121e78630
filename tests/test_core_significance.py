"""The first line says what matters, and whether the publisher declared the edit."""

from __future__ import annotations

import pytest

from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.core.significance import assess
from bot.messages.announcement import MessageContext, render_announcement
from tests.fakes.telegram_api import parse_telegram_html

BASE = (
    "At least 12 people were killed in the attack, officials said.",
    "“We will not be intimidated,” said Mayor Anna Kowalska at a press conference.",
    "The city council will meet on Monday to discuss security.",
)


def snap(*paragraphs: str, title: str = "Attack in the city centre") -> Snapshot:
    return Snapshot(title=title, paragraphs=paragraphs)


@pytest.mark.parametrize(
    ("new", "tags", "declared"),
    [
        (snap(BASE[0].replace("12", "15"), *BASE[1:]), ("a number changed",), None),
        (snap(BASE[0], BASE[2]), ("a quote removed",), None),
        (
            snap(BASE[0], "Officials said they would not be intimidated.", BASE[2]),
            ("a quote removed", "a name removed"),
            None,
        ),
        (snap(*BASE, title="Deadly attack in the city centre"), ("headline changed",), None),
        (
            snap(
                BASE[0].replace("12", "15"), *BASE[1:], "Correction: an earlier version gave the wrong toll."
            ),
            ("a number changed",),
            "Correction: an earlier version gave the wrong toll.",
        ),
        (
            snap(*BASE, "Update: the council meeting was moved to Tuesday."),
            (),
            "Update: the council meeting was moved to Tuesday.",
        ),
        (snap(BASE[0], BASE[1], "The city council will meet to discuss security."), (), None),
        # "French" and "the Kremlin" are not names; "François Hollande" is.
        (snap("At least 12 people were killed, the French president said.", *BASE[1:]), (), None),
        (snap(BASE[0].replace("officials", "the Kremlin"), *BASE[1:]), (), None),
        (
            snap(BASE[0], BASE[1].replace("Mayor Anna Kowalska", "the mayor"), BASE[2]),
            ("a name removed",),
            None,
        ),
        (snap(*BASE, "A spokesperson did not respond to a request for comment."), (), None),
    ],
)
def test_assess(new: Snapshot, tags: tuple[str, ...], declared: str | None) -> None:
    result = assess(diff_snapshots(snap(*BASE), new))
    assert result.tags == tags
    assert result.declared == declared


def test_first_line_says_what_matters_and_escapes_notes() -> None:
    changes = diff_snapshots(snap(*BASE), snap(BASE[0].replace("12", "15"), *BASE[1:]))
    ctx = MessageContext(
        site="example.com",
        url="https://example.com/a",
        title="T",
        old_version=1,
        new_version=2,
        note="🔀 Headline A/B test: “<X>” ⇄ “Y & Z”",
    )
    message = render_announcement(changes, ctx)
    first, second = message.splitlines()[:2]
    assert first == "🔀 Headline A/B test: “&lt;X&gt;” ⇄ “Y &amp; Z”"
    assert second.startswith("✏️ A number changed, 1 paragraph edited — unannounced edit · <a href=")
    parse_telegram_html(message)
