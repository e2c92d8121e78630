"""telegram.allowed_users / allowed_chats: the operator's list of who the bot serves, over the
fake Bot API; everyone else gets one polite line and costs nothing (no fetch, no row)."""

from __future__ import annotations

import pytest

from bot.config import load_settings, with_overrides
from bot.storage.engine import make_engine
from bot.storage.store import Storage
from bot.tg.allowlist import admitted
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html

OPERATOR, STRANGER, DESK = 8001, 8002, -1008000001
REFUSAL = "Sorry, this bot is private: its operator hasn't given you access."


@pytest.mark.parametrize(
    ("user", "chat", "users", "chats", "expected"),
    [
        (STRANGER, STRANGER, (), (), True),  # both lists empty: everyone
        (OPERATOR, OPERATOR, (OPERATOR,), (), True),
        (STRANGER, STRANGER, (OPERATOR,), (), False),
        (OPERATOR, -5, (OPERATOR,), (), True),  # a listed user in any chat
        (STRANGER, DESK, (OPERATOR,), (DESK,), True),  # anyone in a listed chat
        (None, DESK, (), (DESK,), True),  # a listed channel's own posts
        (None, -7, (OPERATOR,), (DESK,), False),
    ],
)
def test_who_is_admitted(
    user: int | None, chat: int, users: tuple[int, ...], chats: tuple[int, ...], expected: bool
) -> None:
    assert admitted(user, chat, frozenset(users), frozenset(chats)) is expected


def test_lists_come_from_the_environment() -> None:
    env = {"REDLINE_TELEGRAM_ALLOWED_USERS": "8001, 8003", "REDLINE_TELEGRAM_ALLOWED_CHATS": "-1008000001"}
    settings = load_settings(None, env=env)
    assert settings.telegram.allowed_users == (8001, 8003)
    assert settings.telegram.allowed_chats == (DESK,)
    assert load_settings(None, env={}).telegram.allowed_users == ()


async def test_strangers_get_one_polite_line_and_cost_nothing(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    settings = e2e_settings(telegram, bots.db_path)
    await bots.start(
        with_overrides(settings, telegram={"allowed_users": (OPERATOR,), "allowed_chats": (DESK,)})
    )
    articles.set_page("/p", article_html())
    url = articles.url("/p")

    refused = await telegram.ask(STRANGER, f"/track {url}", username="stranger")
    assert refused.text == REFUSAL
    link = await telegram.ask(STRANGER, url, username="stranger")  # a bare link in private
    assert link.text == REFUSAL
    assert articles.hits("/p") == 0

    ok = await telegram.ask(OPERATOR, f"/track {url}", username="operator", timeout=30)
    assert ok.text.startswith("👀 Tracking #1")
    member = await telegram.ask(DESK, "/list", user_id=STRANGER, chat_type="supergroup", title="Desk")
    assert member.text.startswith("This chat tracks no articles yet")  # the Desk is listed: all its members

    outsider = await telegram.ask(-7, "/list", user_id=STRANGER, chat_type="group", title="Elsewhere")
    assert outsider.text == REFUSAL
    after = len(telegram.sent)
    telegram.user_says(-7, "just chatting", user_id=STRANGER)  # not a command: no reply at all
    telegram.user_says(-7, "/warn@modbot", user_id=STRANGER)  # nor a command for another bot
    telegram.user_says(-7, "/ban 42", user_id=STRANGER)
    marker = await telegram.ask(OPERATOR, "/list")
    assert marker.chat_id == OPERATOR and [m.chat_id for m in telegram.sent[after:]] == [OPERATOR]

    store = Storage(make_engine(f"sqlite:///{bots.db_path}"))
    try:
        assert store.chats.get(STRANGER) is None and store.chats.get(-7) is None  # no rows for them
    finally:
        store.engine.dispose()
