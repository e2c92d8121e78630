"""The web pages from Telegram, end to end: `redline run`'s Application (fake Bot API, articles
from 127.0.0.1, SQLite) serving pages beside the bot; /feed, /feed revoke, /history and an
announcement link to them, and every link opens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import feedparser
from aiohttp import ClientSession

from bot.app import build_application
from bot.config import with_overrides
from bot.messages import replies
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.ports import free_port, taken_port
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_V2, article_html, putin_v2
from tests.test_cli import redline
from tests.test_stats import bot_env
from tests.test_tg_access import ADMIN, DESK, MEMBER, desk_with_admin
from tests.test_tg_channels import CHANNEL, EDITOR, pick_the_channel, press_watch

ALICE = 1001


def links(message: SentMessage) -> list[str]:
    return [e["url"] for e in message.entities if e["type"] == "text_link"]


async def start_with_pages(bots: RunningBots, telegram: FakeTelegram, tmp_path: Path) -> str:
    """`redline run` serving its pages on a free port, linked from Telegram; their address."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = with_overrides(
        e2e_settings(telegram, tmp_path / "redline.db"),
        web={"listen": f"127.0.0.1:{port}", "public_url": public},
    )
    await bots.start(settings)
    return public


async def fetch(url: str) -> tuple[int, str]:
    async with ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def test_feed_history_and_announcements_link_to_pages_that_open(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    public = await start_with_pages(bots, telegram, tmp_path)
    articles.set_page("/world/putin", article_html())
    assert (await telegram.ask(ALICE, f"/track {articles.url('/world/putin')}")).text.startswith(
        "👀 Tracking #1"
    )

    feed = await telegram.ask(ALICE, "/feed")
    (feed_url,) = links(feed)
    assert feed_url.startswith(f"{public}/c/") and feed_url.endswith("/feed.atom")
    token = feed_url.removeprefix(f"{public}/c/").removesuffix("/feed.atom")
    assert feed.text == replies.feed_address(feed_url)

    articles.set_page("/world/putin", putin_v2())
    announcement = await telegram.wait_for(ALICE, contains="cancels", timeout=20)
    page = f"{public}/c/{token}/a/1"
    assert announcement.plain_text.endswith("\n🌐 Every version, word by word")
    assert links(announcement)[-1] == page + "#v2"
    status, html = await fetch(page + "#v2")
    assert status == 200 and "<del>postpones</del>" in html and "<ins>cancels</ins>" in html

    history = await telegram.ask(ALICE, "/history 1")
    assert links(history)[-1] == page
    assert history.plain_text.splitlines()[-1] == "🌐 Every version, word by word"

    status, body = await fetch(feed_url)
    parsed = feedparser.parse(body)
    assert status == 200 and not parsed.bozo
    assert [e.title for e in parsed.entries] == [f"Headline changed, 1 paragraph edited: {PUTIN_V2}"]

    revoked = await telegram.ask(ALICE, "/feed revoke")
    (new_feed,) = links(revoked)
    assert revoked.text == replies.feed_revoked(new_feed) and new_feed != feed_url
    assert (await fetch(feed_url))[0] == 404
    assert (await fetch(page))[0] == 404
    assert (await fetch(new_feed))[0] == 200
    assert (await telegram.ask(ALICE, "/feed please")).text == replies.USAGE["feed"]


async def test_without_a_public_address_feed_says_so_and_messages_carry_no_page_link(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/p", article_html())
    await telegram.ask(ALICE, f"/track {articles.url('/p')}")
    reply = await telegram.ask(ALICE, "/feed")
    assert reply.text == (
        "This bot has no web pages: its operator has not given them an address ([web] public_url)."
    )
    assert (await telegram.ask(ALICE, "/feed revoke")).text == reply.text
    articles.set_page("/p", putin_v2())
    announcement = await telegram.wait_for(ALICE, contains="cancels", timeout=20)
    assert "🌐" not in announcement.text
    assert "🌐" not in (await telegram.ask(ALICE, "/history 1")).text


async def test_run_with_the_web_port_taken_is_one_line(telegram: FakeTelegram, tmp_path: Path) -> None:
    with taken_port() as port:
        env = bot_env(
            telegram, f"sqlite:///{tmp_path / 'redline.db'}", REDLINE_WEB_LISTEN=f"127.0.0.1:{port}"
        )
        result = await asyncio.to_thread(redline, "run", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith(
        f"redline: error: cannot serve web pages on 127.0.0.1:{port}: Address already in use\n"
    )


def test_only_redline_run_serves_the_pages(telegram: FakeTelegram, tmp_path: Path) -> None:
    """`redline worker` builds the same bot with serve_web=False: two processes never race for
    web.listen, and the worker's announcements still link to the pages run serves."""
    settings = with_overrides(
        e2e_settings(telegram, tmp_path / "redline.db"),
        web={"listen": "127.0.0.1:0", "public_url": "https://redline.example.org"},
    )
    run, worker = build_application(settings), build_application(settings, serve_web=False)
    assert run.bot_data["redline"].web is not None
    assert worker.bot_data["redline"].web is None
    for app in (run, worker):
        redline = app.bot_data["redline"]
        assert redline.scheduler.checker.links is not None and redline.scheduler.checker.links.enabled
        redline.parser.close()
        redline.store.engine.dispose()


async def test_in_a_group_anyone_reads_the_feed_address_only_admins_revoke_it(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    await start_with_pages(bots, telegram, tmp_path)
    await desk_with_admin(telegram, articles)
    shown = await telegram.ask(DESK, "/feed", user_id=MEMBER, username="intern")
    (feed_url,) = links(shown)
    refused = await telegram.ask(DESK, "/feed revoke", user_id=MEMBER, username="intern")
    assert refused.text == (
        "Only this group's admins can use /feed revoke here. Everyone can use /list, /history and /diff."
    )
    assert (await fetch(feed_url))[0] == 200  # still the group's address
    revoked = await telegram.ask(DESK, "/feed revoke", user_id=ADMIN, username="editor")
    assert revoked.text.startswith("🔒 The old feed address and the old page links no longer work.")
    assert (await fetch(feed_url))[0] == 404


async def test_feed_in_a_private_chat_that_manages_a_channel_is_the_channels(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    public = await start_with_pages(bots, telegram, tmp_path)
    press_watch(telegram)
    await pick_the_channel(telegram, [])
    articles.set_page("/p", article_html())
    await telegram.ask(EDITOR, f"/track {articles.url('/p')}", username="editor")
    shown = await telegram.ask(EDITOR, "/feed", username="editor")
    (feed_url,) = links(shown)
    assert "Press Watch" in shown.plain_text
    store = bots.running[0].bot_data["redline"].store
    assert feed_url == f"{public}/c/{store.chats.web_token(CHANNEL)}/feed.atom"
    articles.set_page("/p", putin_v2())
    await telegram.wait_for(CHANNEL, contains="cancels", timeout=20)
    status, body = await fetch(feed_url)
    assert status == 200 and len(feedparser.parse(body).entries) == 1
