"""What a bot under test is told and what a first user does with it, shared by the tests that
start Redline as a process or a container."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.storage.models import DeliveryStatus
from bot.storage.store import Storage
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2

if TYPE_CHECKING:
    from tests.conftest import RunningBots


def fast_bot_env(telegram: FakeTelegram) -> dict[str, str]:
    """REDLINE_ settings for a bot that talks to the fake Bot API and checks every second."""
    return {
        "REDLINE_TELEGRAM_TOKEN": telegram.token,
        "REDLINE_TELEGRAM_BASE_URL": telegram.base_url,
        "REDLINE_TELEGRAM_BASE_FILE_URL": telegram.base_file_url,
        "REDLINE_TELEGRAM_POLL_TIMEOUT": "1",
        "REDLINE_MONITOR_INTERVAL": "1",
        "REDLINE_MONITOR_MIN_INTERVAL": "1",
        "REDLINE_MONITOR_MAX_INTERVAL": "2",
        "REDLINE_MONITOR_TICK": "0.2",
        "REDLINE_MONITOR_TIMEOUT": "5",
        "REDLINE_MONITOR_ALLOW_PRIVATE_ADDRESSES": "true",
    }


async def first_user_sees_an_edit(
    telegram: FakeTelegram, articles: ArticleServer, chat_id: int = 1001
) -> None:
    """/start, /track an article, the headline is edited, the edit is announced."""
    articles.set_page("/p", article_html())
    start = await telegram.ask(chat_id, "/start", timeout=60)
    assert "/track" in start.text
    tracked = await telegram.ask(chat_id, f"/track {articles.url('/p')}", timeout=30)
    assert tracked.text.startswith("👀 Tracking #1")
    articles.set_page("/p", putin_v2())
    await telegram.wait_for(chat_id, contains="<b>cancels</b>", timeout=30)


async def served(articles: ArticleServer, path: str, times: int, timeout: float = 15) -> None:
    """Wait until the bot has read ``path`` ``times`` more times."""
    target = articles.hits(path) + times
    async with asyncio.timeout(timeout):
        while articles.hits(path) < target:
            await asyncio.sleep(0.05)


async def quiet(
    telegram: FakeTelegram, chat_id: int, bots: RunningBots, articles: ArticleServer, path: str
) -> None:
    """Assert the bot sends nothing more to ``chat_id``, on known later events instead of a
    sleep: it read ``path`` three more times (so two checks of what the page shows finished,
    and whatever they found was stored), and then its outbox held nothing unsent (so nothing
    more is on its way: a message is in the fake before its row says sent)."""
    before = len(telegram.messages_to(chat_id))
    await served(articles, path, 3)
    store: Storage = bots.running[-1].bot_data["redline"].store
    async with asyncio.timeout(15):
        while any(d.status in UNSENT for d in await asyncio.to_thread(store.outbox.deliveries)):
            await asyncio.sleep(0.05)
    extra = telegram.messages_to(chat_id)[before:]
    assert not extra, [m.text for m in extra]


UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
