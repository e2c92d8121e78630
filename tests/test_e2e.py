"""The product path end to end: the real Application over HTTP to a fake Bot API, articles
served over HTTP from 127.0.0.1, SQLite on disk. Nothing inside the bot is patched."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import with_overrides
from bot.messages.limits import visible_len
from bot.storage.models import utcnow
from tests.conftest import RunningBots, e2e_settings
from tests.corpus import fixture_html
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V1, PUTIN_V2, article_html, putin_v2
from tests.stories import quiet, served

ALICE = 1001
GROUP = -2002


def removal(message: SentMessage) -> bool:
    """An announcement of removed paragraphs (not just "a name removed")."""
    return re.search(r"\b\d+ (paragraphs? )?removed\b", message.text) is not None


async def track(telegram: FakeTelegram, chat_id: int, url: str, **kw: object) -> str:
    reply = await telegram.ask(chat_id, f"/track {url}", **kw)
    return reply.text


async def tracked_by_alice_and_group(telegram: FakeTelegram, articles: ArticleServer, path: str) -> None:
    """An article at ``path`` tracked by Alice and by the Desk group."""
    articles.set_page(path, article_html())
    url = articles.url(path)
    await track(telegram, ALICE, url)
    await track(telegram, GROUP, url, chat_type="group", title="Desk")


async def test_headline_story_announced_once_and_noise_ignored(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/world/putin", article_html())
    reply = await track(telegram, ALICE, articles.url("/world/putin?utm_source=twitter#comments"))
    assert "Tracking #1" in reply
    assert PUTIN_V1 in reply and "127.0.0.1" in reply

    # Only the timestamp, the counter and the "most read" box change: nothing is announced.
    articles.set_page(
        "/world/putin",
        article_html(updated="Updated 1 minute ago", comments=40, most_read=("Other", "Stories")),
    )
    await quiet(telegram, ALICE, bots, articles, "/world/putin")

    articles.set_page("/world/putin", putin_v2())
    message = await telegram.wait_for(ALICE, contains="cancels", timeout=15)
    assert message.parse_mode == "HTML"
    assert message.link_preview_disabled
    assert "<s>postpones</s>" in message.text
    assert "<b>cancels</b>" in message.text
    assert "Headline changed" in message.text
    assert "¶1" in message.text
    assert "v1 → v2" in message.text and "/diff_1" in message.text
    assert articles.url("/world/putin").split("?")[0] in message.text  # links the article
    print("\nREAL MESSAGE RECEIVED:\n" + message.text)
    await quiet(telegram, ALICE, bots, articles, "/world/putin")

    history = (await telegram.ask(ALICE, "/history 1")).text
    assert "v1" in history and "v2" in history and "headline changed" in history
    assert "1 paragraph edited" in history

    diff = (await telegram.ask(ALICE, "/diff 1")).text
    assert "<s>postpones</s>" in diff and "<b>cancels</b>" in diff
    same = (await telegram.ask(ALICE, "/diff 1 1 1")).text
    assert same == "Versions 1 and 1 of #1 have the same text."
    missing = (await telegram.ask(ALICE, "/diff 1 1 9")).text
    assert missing == "#1 has versions 1 to 2; there is no version 9."

    listing = (await telegram.ask(ALICE, "/list")).text
    assert "\n#1 " in listing and "cancels Paris visit" in listing and "v2, changed" in listing


async def test_one_fetch_per_check_for_many_chats_and_untrack(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/a", article_html())
    url = articles.url("/a")
    assert "Tracking #1" in await track(telegram, ALICE, url)
    assert "Tracking #1" in await track(telegram, GROUP, url, chat_type="group", title="Newsroom")
    again = await track(telegram, ALICE, url.replace("/a", "/a/") + "?fbclid=xyz")
    assert again.startswith("This chat already tracks that article as #1")

    # Every chat is told, but the page is read once per check however many chats track it.
    await asyncio.sleep(1.2)
    hits_before = articles.hits("/a")
    await asyncio.sleep(3)
    hits = articles.hits("/a") - hits_before
    assert 1 <= hits <= 4, hits  # ~1 check per second, never one per chat

    articles.set_page("/a", putin_v2())
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    await telegram.wait_for(GROUP, contains="<b>cancels</b>", timeout=15)

    assert (await telegram.ask(GROUP, "/untrack 1")).text.startswith("Stopped tracking #1")
    assert (await telegram.ask(GROUP, "/list")).text.startswith("This chat tracks no articles")
    articles.set_page("/a", article_html(paragraphs=[PUTIN_P1_V1, *PUTIN_REST[:2]]))
    await telegram.wait_for(ALICE, predicate=removal, timeout=15)
    assert not [m for m in telegram.messages_to(GROUP) if removal(m)]


async def test_restart_keeps_subscriptions_and_announces_once(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    app = await bots.start()
    articles.set_page("/story", article_html())
    assert "Tracking #1" in await track(telegram, ALICE, articles.url("/story"))
    await bots.stop(app)

    # Edited while the bot was down.
    articles.set_page("/story", putin_v2())
    await bots.start()
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    await quiet(telegram, ALICE, bots, articles, "/story")
    assert "cancels Paris visit" in (await telegram.ask(ALICE, "/list")).text

    # And a second restart sends nothing again.
    await bots.stop_all()
    await bots.start()
    await quiet(telegram, ALICE, bots, articles, "/story")
    announcements = [m for m in telegram.messages_to(ALICE) if "<b>cancels</b>" in m.text]
    assert len(announcements) == 1


async def test_blocked_chat_is_dropped_and_migrated_group_keeps_subscriptions(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    await tracked_by_alice_and_group(telegram, articles, "/m")
    blocked_at = len(telegram.requests)
    telegram.block(ALICE)
    telegram.migrate(GROUP, -1009999)
    articles.set_page("/m", putin_v2())
    message = await telegram.wait_for(-1009999, contains="<b>cancels</b>", timeout=15)
    assert message.chat_id == -1009999
    listing = await telegram.ask(-1009999, "/list", chat_type="supergroup", title="Desk")
    assert "cancels Paris visit" in listing.text
    # The blocked chat gets nothing more, and costs nothing on later edits.
    articles.set_page("/m", article_html(paragraphs=[PUTIN_P1_V1]))
    await telegram.wait_for(-1009999, predicate=removal, timeout=15)
    # Counted on the requests: the fake records no message to a blocked chat, so an assertion
    # on what Alice received could not fail. At most the first edit found her gone.
    tried = telegram.calls_to(ALICE, "sendMessage", "editMessageText", after=blocked_at)
    assert len(tried) <= 1, tried


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "/track",
            "Send the article's link after the command, like this:\n/track https://example.com/news/story",
        ),
        ("/untrack", "Say which article to stop tracking: /untrack 2 (its number in /list) or /untrack URL"),
        ("/history", "Say which article: /history 2 (its number in /list) or /history URL"),
        ("/diff", "Say which article: /diff 2 shows its last edit; /diff 2 1 3 compares versions 1 and 3."),
        ("/untrack 7", "There is no #7 in /list."),
        ("/history 7", "There is no #7 in /list."),
        ("/diff 3", "There is no #3 in /list."),
        ("/frobnicate", "I don't know /frobnicate. /help lists what I can do."),
        ("/list", "This chat tracks no articles yet. Send /track URL to start."),
    ],
)
async def test_usage_replies(telegram: FakeTelegram, bots: RunningBots, command: str, expected: str) -> None:
    await bots.start()
    reply = await telegram.ask(ALICE, command)
    assert reply.text == expected


async def test_track_replies_for_bad_pages(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/missing", "<html><body>Not here</body></html>", status=404)
    reply = await track(telegram, ALICE, articles.url("/missing"))
    assert "404" in reply
    articles.set_page("/empty", "<html><head><title>Home</title></head><body><nav>Home</nav></body></html>")
    reply = await track(telegram, ALICE, articles.url("/empty"))
    assert "doesn't look like an article" in reply
    # Nothing was tracked, and the bot still answers.
    assert (await telegram.ask(ALICE, "/list")).text.startswith("This chat tracks no articles")


async def test_links_as_people_share_them(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """A link after a headline, a link hidden behind words, a reply to someone's link, and
    replies to the bot's own edit message all name the article."""
    await bots.start()
    for path in ("/a", "/b", "/c"):
        articles.set_page(path, article_html())
    shared = await track(telegram, ALICE, f"Vladimir Putin postpones Paris talks {articles.url('/a')}")
    assert shared.startswith("👀 Tracking #1")

    linked = await telegram.ask(ALICE, "/track this story", links={"this story": articles.url("/b")})
    assert linked.text.startswith("👀 Tracking #2")

    telegram.user_says(GROUP, f"Look at this: {articles.url('/c')}", username="bob")
    posted = telegram.user_message_ids(GROUP)[-1]
    replied = await telegram.ask(GROUP, "/track", reply_to=posted)
    assert replied.text.startswith("👀 Tracking #1") and "127.0.0.1" in replied.text

    no_link = telegram.user_message_ids(GROUP)[-1]  # the "/track" itself has no link
    usage = await telegram.ask(GROUP, "/track", reply_to=no_link)
    assert usage.text.startswith("Send the article's link after the command")

    articles.set_page("/c", putin_v2())
    announcement = await telegram.wait_for(GROUP, contains="<b>cancels</b>", timeout=15)
    diff = await telegram.ask(GROUP, "/diff", reply_to=announcement.message_id)
    assert "<s>postpones</s> <b>cancels</b>" in diff.text and "v1 → v2" in diff.text
    history = await telegram.ask(GROUP, "/history", reply_to=announcement.message_id)
    assert history.text.startswith("<b>History of #1</b>") and "headline changed" in history.text
    untracked = await telegram.ask(GROUP, "/untrack", reply_to=announcement.message_id)
    assert untracked.text.startswith("Stopped tracking #1")
    listing = (await telegram.ask(ALICE, "/list")).plain_text
    assert re.findall(r"^#(\d+) ", listing, re.MULTILINE) == ["2", "1"]  # Alice keeps #1 and #2


async def test_channel_and_addressed_commands(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """A channel's admins post /track in the channel and its readers get the edit there; in a
    group, commands addressed to the bot by name work, and ones for another bot are left alone."""
    channel = -1005551234
    await bots.start()
    articles.set_page("/ch", article_html())
    reply = await telegram.ask(channel, f"/track {articles.url('/ch')}", chat_type="channel", title="Edits")
    assert reply.text.startswith("👀 Tracking #1")
    bot = telegram.bot_username
    listed = await telegram.ask(GROUP, f"/list@{bot}", chat_type="group", title="Desk")
    assert listed.text == "This chat tracks no articles yet. Send /track URL to start."
    before = len(telegram.requests)
    telegram.user_says(GROUP, "/list@some_other_bot")
    again = await telegram.ask(GROUP, f"/list@{bot}")  # a known later event
    assert again.text == listed.text
    # Every request since the other bot's command: only the answer to ours went to the group.
    assert [m for m, p in telegram.requests[before:] if p.get("chat_id") == GROUP] == ["sendMessage"]
    articles.set_page("/ch", putin_v2())
    message = await telegram.wait_for(channel, contains="<b>cancels</b>", timeout=15)
    assert "v1 → v2" in message.text
    assert (await telegram.ask(channel, "/list")).text.startswith("<b>Tracked articles</b>")


async def test_help_and_commands_registered(telegram: FakeTelegram, bots: RunningBots) -> None:
    await bots.start()
    reply = await telegram.ask(ALICE, "/start")
    for command in ("/track", "/untrack", "/list", "/history", "/diff", "/sensitivity"):
        assert command in reply.text
    assert {c["command"] for c in telegram.commands} >= {"track", "untrack", "list", "history", "diff"}


async def test_sensitivity_buttons_filter_what_a_chat_gets(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    await tracked_by_alice_and_group(telegram, articles, "/s")
    menu = await telegram.ask(GROUP, "/sensitivity")
    assert "Now: <b>Substantive edits" in menu.text
    assert menu.button_data == ["sens:headline", "sens:substantive", "sens:everything"]
    telegram.press_button(GROUP, menu.message_id, "sens:headline")
    edited = await telegram.wait_for(GROUP, method="editMessageText", timeout=10)
    assert edited.text == "This chat now gets: <b>Headline only</b>."

    # A paragraph edit reaches the default chat but not the headline-only one.
    articles.set_page("/s", article_html(paragraphs=[PUTIN_P1_V1, *PUTIN_REST[:3]]))
    await telegram.wait_for(ALICE, predicate=removal, timeout=15)
    # A headline edit reaches both.
    articles.set_page("/s", article_html(PUTIN_V2, [PUTIN_P1_V1, *PUTIN_REST[:3]]))
    await telegram.wait_for(GROUP, contains="<b>cancels</b>", timeout=15)
    # The known later event: a chat's messages leave in order, so had the paragraph edit been
    # queued for the headline-only group it would have arrived before this one.
    assert not [m for m in telegram.messages_to(GROUP) if removal(m)]
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)


async def test_story_on_postgresql(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, postgres_server
) -> None:  # type: ignore[no-untyped-def]
    """The same path on a real PostgreSQL server, as a user who scaled out would run it."""
    from bot.config import with_overrides
    from tests.conftest import e2e_settings

    url = postgres_server.create_database("e2e")
    await bots.start(with_overrides(e2e_settings(telegram, bots.db_path), database={"url": url}))
    articles.set_page("/pg", article_html())
    assert "Tracking #1" in await track(telegram, ALICE, articles.url("/pg"))
    articles.set_page("/pg", putin_v2())
    message = await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    assert "<s>postpones</s>" in message.text
    await quiet(telegram, ALICE, bots, articles, "/pg")


async def test_revert_and_headline_ab_test(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    a, b = article_html(PUTIN_V1), article_html(PUTIN_V2)
    articles.set_page("/ab", a)
    await track(telegram, ALICE, articles.url("/ab"))

    articles.set_page("/ab", b)
    edit = await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    assert edit.text.startswith("✏️ Headline changed") and "v1 → v2" in edit.text

    # Back to the first headline: a revert, not a new edit.
    articles.set_page("/ab", a)
    revert = await telegram.wait_for(ALICE, contains="Reverted", timeout=15)
    assert revert.text.startswith("↩️ Reverted to v1\n✏️ Headline changed")
    assert "v2 → v3" in revert.text

    # The second alternation makes it a headline test: said once, with both headlines.
    articles.set_page("/ab", b)
    test = await telegram.wait_for(ALICE, contains="A/B test", timeout=15)
    assert test.text.startswith(f"🔀 Headline A/B test: “{PUTIN_V2}” ⇄ “{PUTIN_V1}”")

    # Further flips are quiet.
    before = len(telegram.messages_to(ALICE))
    for page in (a, b, a, b, a):
        articles.set_page("/ab", page)
        await served(articles, "/ab", 2)
    await quiet(telegram, ALICE, bots, articles, "/ab")
    assert len(telegram.messages_to(ALICE)) == before

    # But a real edit during the test is still announced, without the flip in it.
    articles.set_page("/ab", article_html(PUTIN_V1, [PUTIN_P1_V2, *PUTIN_REST]))
    edit = await telegram.wait_for(ALICE, contains="¶1 edited", timeout=15)
    assert edit.text.startswith("✏️ 1 paragraph edited")

    history = (await telegram.ask(ALICE, "/history 1")).text
    assert "reverted to v1" in history and "headline A/B test" in history


async def test_withdrawal_is_announced_only_when_it_persists(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(withdrawal_checks=3)
    full = article_html()
    stub = article_html(
        paragraphs=[
            "This article is available to subscribers only. Subscribe today for unlimited access "
            "to our journalism, the daily newsletter and the full archive of our reporting from "
            "Moscow, Paris and around the world, from just one euro a week."
        ]
    )
    articles.set_page("/w", full)
    await track(telegram, ALICE, articles.url("/w"))
    await served(articles, "/w", 1)

    # A paywall page served once, then the article again: nothing is said.
    articles.set_page("/w", stub)
    await served(articles, "/w", 1)
    articles.set_page("/w", full)
    await quiet(telegram, ALICE, bots, articles, "/w")

    # The same loss over three checks in a row is announced once, as a withdrawal.
    articles.set_page("/w", stub)
    hits = articles.hits("/w")
    message = await telegram.wait_for(ALICE, contains="withdrawn", timeout=20)
    assert articles.hits("/w") - hits >= 3
    assert message.text.startswith("🗑 The article was withdrawn or replaced\n✏️ ")
    assert "v1 → v2" in message.text
    await quiet(telegram, ALICE, bots, articles, "/w")
    assert "withdrawn or replaced" in (await telegram.ask(ALICE, "/history 1")).text


async def test_a_rewrite_is_announced_within_the_configured_budget(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    settings = e2e_settings(telegram, tmp_path / "redline.db")
    await bots.start(with_overrides(settings, telegram={"max_announcement_chars": 700}))
    articles.set_page("/edu", fixture_html("desk_rewrite_v1.html"))
    assert "Tracking #1" in await track(telegram, ALICE, articles.url("/edu"))
    articles.set_page("/edu", fixture_html("desk_rewrite_v2.html"))
    message = await telegram.wait_for(ALICE, contains="strikes loom", timeout=20)
    assert visible_len(message.text) <= 700
    lines = message.text.split("\n")
    # the summary names the kind of rewrite (issue 14: was "4 paragraphs edited, 2 added, 1 removed")
    assert lines[2:4] == ["", "The lede was rewritten, 3 more paragraphs edited, 2 new paragraphs, 1 removed"]
    assert lines[4].startswith("¶1 edited: ")
    assert re.fullmatch(r"and \d+ more (paragraphs? changed|changes? not shown)(, .*)? — /diff_1", lines[-2])


def article_rows(bots: RunningBots, column: str) -> dict[str, str]:
    """``url → column`` for every article, read from the bot's database file."""
    with closing(sqlite3.connect(bots.db_path)) as db:
        return dict(db.execute(f"SELECT url, {column} FROM article"))


async def fetched(articles: ArticleServer, path: str, more: int) -> None:
    """Wait until ``path`` has been requested ``more`` more times: proof that checks went on."""
    target = articles.hits(path) + more
    async with asyncio.timeout(15):
        while articles.hits(path) < target:
            await asyncio.sleep(0.05)


async def test_dormant_article_tracked_again_wakes_and_its_edit_is_announced(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/d", article_html())
    articles.set_page("/other", article_html())
    await track(telegram, ALICE, articles.url("/d"))
    await track(telegram, ALICE, articles.url("/other"))
    # Nothing has changed on /d for 31 days (monitor.stop_after_days is 30).
    month_ago = (utcnow() - timedelta(days=31)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with closing(sqlite3.connect(bots.db_path)) as db, db:
        db.execute(
            "UPDATE article SET last_changed_at = ?, created_at = ? WHERE url = ?",
            (month_ago, month_ago, articles.url("/d")),
        )
    async with asyncio.timeout(15):
        while article_rows(bots, "state")[articles.url("/d")] != "dormant":
            await asyncio.sleep(0.05)
    assert "dormant" in (await telegram.ask(ALICE, "/list")).text
    # Dormant: edited, but not fetched while the other article is checked on.
    hits = articles.hits("/d")
    articles.set_page("/d", putin_v2())
    await fetched(articles, "/other", 2)
    assert articles.hits("/d") == hits
    assert not [m for m in telegram.messages_to(ALICE) if "cancels" in m.text]

    again = await track(telegram, ALICE, articles.url("/d"))
    assert again.startswith("This chat already tracks that article as #1")
    message = await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    assert "v1 → v2" in message.text and "/diff_1" in message.text
    assert article_rows(bots, "state")[articles.url("/d")] == "active"


async def test_an_article_nobody_tracks_is_no_longer_fetched(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/left", article_html())
    articles.set_page("/kept", article_html())
    await track(telegram, ALICE, articles.url("/left"))
    await track(telegram, GROUP, articles.url("/kept"), chat_type="group", title="Desk")
    await fetched(articles, "/left", 1)
    assert (await telegram.ask(ALICE, "/untrack 1")).text.startswith("Stopped tracking #1")
    await fetched(articles, "/kept", 2)  # a check of /left begun before /untrack has ended
    hits = articles.hits("/left")
    await fetched(articles, "/kept", 3)
    assert articles.hits("/left") == hits


async def test_untrack_history_and_diff_by_url(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """README: /untrack, /history and /diff take the article's URL as well as its number
    (any spelling of it: tracking parameters, a fragment, http for https)."""
    await bots.start()
    articles.set_page("/u", article_html())
    articles.set_page("/keep", article_html("Another story"))
    url = articles.url("/u")
    await track(telegram, ALICE, articles.url("/keep"))
    assert "Tracking #2" in await track(telegram, ALICE, url)
    articles.set_page("/u", putin_v2())
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    spelled = f"{url}?utm_source=x#top"
    history = (await telegram.ask(ALICE, f"/history {spelled}")).text
    assert history.startswith("<b>History of #2</b>") and "headline changed" in history
    diff = (await telegram.ask(ALICE, f"/diff {spelled}")).text
    assert "<s>postpones</s>" in diff and "<b>cancels</b>" in diff
    untracked = (await telegram.ask(ALICE, f"/untrack {spelled}")).text
    assert untracked.startswith("Stopped tracking #2")
    listing = (await telegram.ask(ALICE, "/list")).text
    assert "\n#1 " in listing and "#2 " not in listing
