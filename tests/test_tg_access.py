"""Who may change what: in groups only administrators /track, /untrack and change settings
(buttons included); everyone reads. Over the fake Bot API, plus the pure decision."""

from __future__ import annotations

import pytest
from telegram.error import TimedOut

from bot.config import with_overrides
from bot.messages import replies
from bot.tg.access import AdminCache, AdminLookupFailed, decided_without_lookup
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html

DESK = -1003004005
ADMIN = 5001
MEMBER = 5002


def admin_lookups(telegram: FakeTelegram) -> int:
    return sum(1 for method, _ in telegram.requests if method == "getChatAdministrators")


async def desk_with_admin(telegram: FakeTelegram, articles: ArticleServer) -> tuple[str, str]:
    """The Desk supergroup: ADMIN administers it, MEMBER is a plain member; two articles."""
    telegram.add_chat(DESK, "supergroup", title="Desk")
    telegram.set_chat_admins(DESK, [ADMIN])
    telegram.set_chat_member(DESK, MEMBER, "member")
    for path in ("/one", "/two"):
        articles.set_page(path, article_html())
    return articles.url("/one"), articles.url("/two")


async def test_plain_member_reads_but_cannot_change_the_group(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    one, two = await desk_with_admin(telegram, articles)
    tracked = await telegram.ask(DESK, f"/track {one}", user_id=ADMIN, username="editor")
    assert tracked.text.startswith("👀 Tracking #1")

    untrack = await telegram.ask(DESK, "/untrack 1", user_id=MEMBER, username="intern")
    assert untrack.text == (
        "Only this group's admins can use /untrack here. Everyone can use /list, /history and /diff."
    )
    track = await telegram.ask(DESK, f"/track {two}", user_id=MEMBER, username="intern")
    assert track.text == replies.admins_only("track")
    settings = await telegram.ask(DESK, "/sensitivity", user_id=MEMBER, username="intern")
    assert settings.text == replies.admins_only("sensitivity")

    listing = await telegram.ask(DESK, "/list", user_id=MEMBER, username="intern")
    assert listing.text.startswith("<b>Tracked articles</b>") and "\n#1 " in listing.text
    assert "\n2. " not in listing.text  # the member's /track changed nothing
    history = await telegram.ask(DESK, "/history 1", user_id=MEMBER, username="intern")
    assert history.text.startswith("<b>History of #1</b>")
    diff = await telegram.ask(DESK, "/diff 1", user_id=MEMBER, username="intern")
    assert diff.text == "#1 has only one version so far: no edits seen yet."

    # The administrator list was asked for once and then cached.
    assert admin_lookups(telegram) == 1


async def test_anonymous_admin_changes_the_group(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    one, _ = await desk_with_admin(telegram, articles)
    tracked = await telegram.ask(DESK, f"/track {one}", anonymous=True)
    assert tracked.text.startswith("👀 Tracking #1")
    untracked = await telegram.ask(DESK, "/untrack 1", anonymous=True)
    assert untracked.text.startswith("Stopped tracking #1")
    assert admin_lookups(telegram) == 0  # writing as the group proves it: no lookup needed


async def test_plain_members_button_press_changes_nothing(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    await desk_with_admin(telegram, articles)
    menu = await telegram.ask(DESK, "/sensitivity", user_id=ADMIN, username="editor")
    assert menu.button_data == ["sens:headline", "sens:substantive", "sens:everything"]

    telegram.press_button(DESK, menu.message_id, "sens:headline", user_id=MEMBER)
    await telegram.wait_for_callback_answer(1)
    assert telegram.callback_answers[0]["text"] == "Only this group's admins can change its settings."
    assert telegram.callback_answers[0]["show_alert"] is True
    assert not [m for m in telegram.sent if m.method == "editMessageText"]

    telegram.press_button(DESK, menu.message_id, "sens:everything", user_id=ADMIN)
    edited = await telegram.wait_for(DESK, method="editMessageText")
    assert edited.text == "This chat now gets: <b>Everything</b>."
    again = await telegram.ask(DESK, "/sensitivity", user_id=ADMIN, username="editor")
    assert "Now: <b>Everything</b>" in again.text  # the member's press was not saved


async def test_admin_lookup_failure_changes_nothing(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    one, _ = await desk_with_admin(telegram, articles)
    telegram.fail_next("getChatAdministrators", 500, "Internal Server Error")
    reply = await telegram.ask(DESK, f"/track {one}", user_id=ADMIN, username="editor")
    assert reply.text == "I couldn't check who this group's admins are. Please try again in a minute."
    assert articles.hits("/one") == 0
    # The failure is not cached: the next try asks again and succeeds.
    reply = await telegram.ask(DESK, f"/track {one}", user_id=ADMIN, username="editor")
    assert reply.text.startswith("👀 Tracking #1")


async def test_everyone_may_change_when_the_setting_is_off(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(
        with_overrides(e2e_settings(telegram, bots.db_path), telegram={"group_admins_only": False})
    )
    one, _ = await desk_with_admin(telegram, articles)
    tracked = await telegram.ask(DESK, f"/track {one}", user_id=MEMBER, username="intern")
    assert tracked.text.startswith("👀 Tracking #1")
    assert admin_lookups(telegram) == 0


@pytest.mark.parametrize(
    ("chat_type", "chat_id", "sender_chat_id", "admins_only", "pressed", "decided"),
    [
        ("private", 1001, None, True, False, True),
        ("private", 1001, None, True, True, True),
        ("channel", -1005, -1005, True, False, True),
        ("channel", -1005, None, True, True, False),  # any subscriber can press a button
        ("channel", -1005, None, False, True, False),  # group_admins_only is about groups
        ("group", -2002, None, True, False, False),
        ("group", -2002, None, True, True, False),
        ("supergroup", -1003, None, True, False, False),
        ("supergroup", -1003, -1003, True, False, True),  # anonymous admin: the group itself
        ("supergroup", -1003, -1009, True, False, False),  # posted as some other channel
        ("group", -2002, None, False, False, True),
    ],
)
def test_who_is_decided_without_asking_telegram(
    chat_type: str, chat_id: int, sender_chat_id: int | None, admins_only: bool, pressed: bool, decided: bool
) -> None:
    assert (
        decided_without_lookup(chat_type, chat_id, sender_chat_id, admins_only=admins_only, pressed=pressed)
        is decided
    )


CHANNEL = -1005551234


async def test_a_channel_subscriber_cannot_press_the_settings_buttons(
    telegram: FakeTelegram, bots: RunningBots
) -> None:
    """Tried from outside before the fix: a subscriber who is no admin pressed "Headline only"
    under the channel's /sensitivity and it was saved."""
    await bots.start()
    telegram.add_chat(CHANNEL, "channel", title="Edits")
    telegram.set_chat_admins(CHANNEL, [ADMIN])
    menu = await telegram.ask(CHANNEL, "/sensitivity")  # a channel post: from its admins
    telegram.press_button(CHANNEL, menu.message_id, "sens:headline", user_id=MEMBER)
    answer = await telegram.wait_for_callback_answer(1)
    assert (answer["text"], answer["show_alert"]) == (replies.ADMINS_ONLY_CHANNEL_BUTTON, True)
    assert not [m for m in telegram.sent if m.method == "editMessageText"]

    telegram.press_button(CHANNEL, menu.message_id, "sens:everything", user_id=ADMIN)
    edited = await telegram.wait_for(CHANNEL, method="editMessageText")
    assert edited.text == "This chat now gets: <b>Everything</b>."
    again = await telegram.ask(CHANNEL, "/sensitivity")
    assert "Now: <b>Everything</b>" in again.text  # the subscriber's press was not saved


async def test_button_presses_count_towards_the_command_limit(
    telegram: FakeTelegram, bots: RunningBots
) -> None:
    await bots.start(with_overrides(e2e_settings(telegram, bots.db_path), limits={"commands_per_minute": 2}))
    menu = await telegram.ask(1001, "/sensitivity")  # one command
    telegram.press_button(1001, menu.message_id, "sens:everything")  # two
    assert (await telegram.wait_for_callback_answer(1))["text"] == "Saved."
    telegram.press_button(1001, menu.message_id, "sens:headline")  # three: over the limit
    answer = await telegram.wait_for_callback_answer(2)
    assert answer["text"] == "Too many commands — please wait a minute and try again."
    again = await telegram.ask(1001, "/help")
    assert again.text == "Too many commands — please wait a minute and try again."
    assert len([m for m in telegram.sent if m.method == "editMessageText"]) == 1


async def test_admin_cache_expires_and_failures_are_not_kept() -> None:
    now = [0.0]
    calls: list[int] = []
    admins = [7]

    async def fetch(chat_id: int) -> list[int]:
        calls.append(chat_id)
        if not admins:
            raise TimedOut("Timed out")
        return list(admins)

    cache = AdminCache(ttl=60, clock=lambda: now[0])
    assert await cache.is_admin(-1, 7, fetch) and not await cache.is_admin(-1, 8, fetch)
    assert calls == [-1]
    now[0] = 59.9
    admins[:] = [8]
    assert await cache.is_admin(-1, 7, fetch)  # still cached
    now[0] = 60.0
    assert await cache.is_admin(-1, 8, fetch) and not await cache.is_admin(-1, 7, fetch)
    assert calls == [-1, -1]
    now[0] = 200.0
    admins.clear()
    with pytest.raises(AdminLookupFailed):
        await cache.is_admin(-1, 8, fetch)
    admins.append(9)
    assert await cache.is_admin(-1, 9, fetch)
