"""Faults a running bot meets: pages that vanish or fail, a chat that floods it, and its token."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.ops.logs import setup_logging
from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2
from tests.stories import quiet

ALICE = 1001


async def test_gone_article_is_announced_once_and_no_longer_fetched(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/g", article_html())
    articles.set_page("/alive", article_html("Another story"))
    await telegram.ask(ALICE, f"/track {articles.url('/g')}")
    await telegram.ask(ALICE, f"/track {articles.url('/alive')}")
    articles.set_page("/g", "<html><body>Gone</body></html>", status=410)
    notice = await telegram.wait_for(ALICE, contains="is gone", timeout=15)
    assert notice.text.startswith("🚫 Article #1 is gone · 127.0.0.1")
    assert notice.button_data == ["ah:1", "au:1"]  # History and Stop tracking; no diff to show
    hits = articles.hits("/g")
    await quiet(telegram, ALICE, bots, articles, "/alive")  # the other article checked meanwhile
    assert articles.hits("/g") == hits
    assert len([m for m in telegram.messages_to(ALICE) if "is gone" in m.text]) == 1
    assert "gone" in (await telegram.ask(ALICE, "/list")).text


async def test_failing_article_is_told_once_and_recovers_quietly(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(failures_before_notice=2, max_interval=1)
    articles.set_page("/f", article_html())
    await telegram.ask(ALICE, f"/track {articles.url('/f')}")
    articles.set_page("/f", "<html><body>Oops</body></html>", status=503)
    notice = await telegram.wait_for(ALICE, contains="can't be read right now", timeout=15)
    assert notice.text.startswith("⚠️ Article #1 can't be read right now")
    await quiet(telegram, ALICE, bots, articles, "/f")  # more failed checks: told once
    assert len([m for m in telegram.messages_to(ALICE) if "can't be read" in m.text]) == 1
    # It comes back unchanged: nothing to say. Then it is edited: announced as usual.
    articles.set_page("/f", article_html())
    await quiet(telegram, ALICE, bots, articles, "/f")
    articles.set_page("/f", putin_v2())
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)


async def test_one_broken_article_does_not_stop_the_others(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/ok", article_html())
    articles.set_page("/bad", article_html())
    await telegram.ask(ALICE, f"/track {articles.url('/bad')}")
    await telegram.ask(ALICE, f"/track {articles.url('/ok')}")
    articles.set_page("/bad", b"\x00\xff\xfe garbage \x00" * 1000, content_type="text/html")
    articles.set_page("/ok", putin_v2())
    message = await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    assert "/diff_2" in message.text
    assert (await telegram.ask(ALICE, "/list")).text.count("· 127.0.0.1 ·") == 2


async def test_flooding_chat_is_asked_to_wait(telegram: FakeTelegram, bots: RunningBots) -> None:
    from bot.config import with_overrides
    from tests.conftest import e2e_settings

    settings = with_overrides(e2e_settings(telegram, bots.db_path), limits={"commands_per_minute": 3})
    await bots.start(settings)
    for _ in range(3):
        assert (await telegram.ask(ALICE, "/list")).text.startswith("This chat tracks no articles")
    refused = await telegram.ask(ALICE, "/list")
    assert refused.text == "Too many commands — please wait a minute and try again."
    # Another chat is not affected.
    assert (await telegram.ask(2002, "/list")).text.startswith("This chat tracks no articles")


async def test_overlong_message_and_url_are_refused(telegram: FakeTelegram, bots: RunningBots) -> None:
    await bots.start()
    reply = await telegram.ask(ALICE, "/track https://example.com/" + "a" * 3000)
    assert reply.text == "That message is too long. Send one command with one link."


async def test_token_never_logged_at_debug(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG", telegram.token)
    try:
        await bots.start()
        articles.set_page("/t", article_html())
        await telegram.ask(ALICE, f"/track {articles.url('/t')}")
        articles.set_page("/t", putin_v2())
        await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
        telegram.fail_next("sendMessage", 500, "Internal Server Error")
        await telegram.ask(ALICE, "/list")
        # A proxy's error page that echoes the request URL, token and all, for the next edit.
        echo = f"Bad Gateway: upstream {telegram.base_url}{telegram.token}/sendMessage timed out"
        telegram.fail_next("sendMessage", 502, echo)
        articles.set_page("/t", article_html())
        async with asyncio.timeout(15):
            while not stored_errors(bots.db_path):
                await asyncio.sleep(0.1)
        await bots.stop_all()
    finally:
        logging.getLogger().handlers.clear()
    out, err = capfd.readouterr()
    logs = out + err
    assert "check article=1" in logs  # the capture really holds the bot's log lines
    assert "send_retry" in logs
    secret = telegram.token.split(":", 1)[1]
    assert telegram.token not in logs and secret not in logs
    # Nor in any stored row: the error was kept, with the token blanked.
    assert any("/bot<token>/sendMessage" in e for e in stored_errors(bots.db_path))
    for path in bots.db_path.parent.glob(bots.db_path.name + "*"):
        assert secret.encode() not in path.read_bytes(), path


def stored_errors(db_path: Path) -> list[str]:
    with closing(sqlite3.connect(db_path)) as db:
        return [row[0] for row in db.execute("SELECT error FROM delivery WHERE error != ''")]


async def test_an_unknown_command_is_echoed_escaped(telegram: FakeTelegram, bots: RunningBots) -> None:
    """Before the fix the command went into the HTML reply as typed: Telegram refused the
    reply ("can't parse entities") and the user got no answer at all."""
    await bots.start()
    reply = await telegram.ask(ALICE, "/x<b>&")
    assert reply.text == "I don't know /x&lt;b&gt;&amp;. /help lists what I can do."
    assert telegram.failures == []


async def test_a_command_for_another_bot_gets_no_answer(telegram: FakeTelegram, bots: RunningBots) -> None:
    """Found when a sleep gave way to a known later event: the catch-all answered
    "/list@some_other_bot" with "I don't know /list." (and counted it towards the limit)."""
    await bots.start()
    group = -2002
    telegram.add_chat(group, "group", title="Desk")
    before = len(telegram.messages_to(group))
    telegram.user_says(group, "/list@some_other_bot")
    telegram.user_says(group, "/frobnicate@some_other_bot now")
    # Known later events: two answers to commands sent after them (updates are handled side by
    # side, so one later answer alone could overtake an answer to them).
    later = [await telegram.ask(group, f"/help@{telegram.bot_username}") for _ in range(2)]
    assert telegram.messages_to(group)[before:] == later
