"""Everyday paths over the fake Bot API (issue #15, "In the chat"): a /list that pages through
every article, buttons under announcements, commands meant for other bots left alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import with_overrides
from bot.storage.engine import make_engine
from bot.storage.store import Storage
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2
from tests.storage_rows import track_article

ALICE = 1001
GROUP = -2002
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def seed_articles(db_path: Path, chat_id: int, count: int) -> None:
    """``count`` articles tracked by the chat, #k tracked k minutes after START (so #count is
    the newest), written through the repositories as /track writes them."""
    store = Storage(make_engine(f"sqlite:///{db_path}"))
    store.upgrade_schema()
    try:
        for k in range(1, count + 1):
            track_article(store, chat_id, f"example.com/story-{k}", now=START + timedelta(minutes=k))
    finally:
        store.engine.dispose()


def numbers(message: SentMessage) -> list[int]:
    """The /list numbers a page shows, top to bottom."""
    return [int(n) for n in re.findall(r"^#(\d+) ", message.plain_text, re.MULTILINE)]


async def test_every_one_of_200_articles_is_reachable_from_list(
    telegram: FakeTelegram, bots: RunningBots
) -> None:
    seed_articles(bots.db_path, ALICE, 200)
    await bots.start()
    page = await telegram.ask(ALICE, "/list")
    print("\n/list page 1:\n" + page.text + f"\nbuttons: {page.reply_markup}")
    seen = numbers(page)
    assert seen[0] == 200  # newest change first
    assert "untrack" not in page.plain_text.lower()  # nobody is told to drop what they cannot see
    shown = page
    while "ls:all:" + str(len(seen) // 10 + 1) in shown.button_data:
        after = len(telegram.sent)
        telegram.press_button(ALICE, page.message_id, f"ls:all:{len(seen) // 10 + 1}")
        shown = await telegram.wait_for(ALICE, method="editMessageText", after=after)
        assert shown.message_id == page.message_id  # edited in place
        if len(seen) == 20:
            print("\n/list page 3:\n" + shown.text + f"\nbuttons: {shown.reply_markup}")
        seen += numbers(shown)
    assert seen == list(range(200, 0, -1))


def article_buttons(article_id: int, old: int, new: int) -> dict[str, object]:
    return {
        "inline_keyboard": [
            [
                {"text": "Full diff", "callback_data": f"ad:{article_id}:{old}:{new}"},
                {"text": "History", "callback_data": f"ah:{article_id}"},
            ],
            [{"text": "Stop tracking", "callback_data": f"au:{article_id}"}],
        ]
    }


async def press(telegram: FakeTelegram, message: SentMessage, data: str, **kw: object) -> SentMessage:
    """Press a button under ``message``; the bot's next message in that chat."""
    after = len(telegram.sent)
    telegram.press_button(message.chat_id, message.message_id, data, **kw)  # type: ignore[arg-type]
    return await telegram.wait_for(message.chat_id, after=after, timeout=10)


async def refused_press(telegram: FakeTelegram, message: SentMessage, data: str, **kw: object) -> str:
    """Press a button the bot must refuse: its alert, and nothing sent."""
    answered, sent = len(telegram.callback_answers), len(telegram.sent)
    telegram.press_button(message.chat_id, message.message_id, data, **kw)  # type: ignore[arg-type]
    answer = await telegram.wait_for_callback_answer(answered + 1)
    assert answer.get("show_alert") is True
    assert telegram.sent[sent:] == []
    return str(answer["text"])


async def alice_tracks(telegram: FakeTelegram, articles: ArticleServer, path: str) -> None:
    """Alice tracks an article at ``path`` (with a bot already running)."""
    articles.set_page(path, article_html())
    await telegram.ask(ALICE, f"/track {articles.url(path)}")


async def test_buttons_under_an_announcement_work_after_a_restart(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    app = await bots.start()
    await alice_tracks(telegram, articles, "/p")
    articles.set_page("/p", putin_v2())
    announcement = await telegram.wait_for(ALICE, contains="v1 → v2", timeout=15)
    print(f"\nannouncement:\n{announcement.text}\nbuttons: {announcement.reply_markup}")
    assert announcement.text.endswith(" · /diff_1")  # a tap on it carries the number
    assert announcement.reply_markup == article_buttons(1, 1, 2)

    await bots.stop(app)
    await bots.start()  # the buttons name stable ids: a new process understands them
    tapped = await press(telegram, announcement, "ad:1:1:2")
    print(f"\nFull diff tap:\n{tapped.text}")
    assert telegram.callback_answers[-1] == {
        "callback_query_id": telegram.callback_answers[-1]["callback_query_id"]
    }
    typed = await telegram.ask(ALICE, "/diff 1 1 2")
    assert tapped.text == typed.text and "<s>postpones</s> <b>cancels</b>" in tapped.text
    assert (await telegram.ask(ALICE, "/diff_1")).text == typed.text
    assert (await telegram.ask(ALICE, "/diff_1_1_2")).text == typed.text

    history = await press(telegram, announcement, "ah:1")
    assert history.text.startswith("<b>History of #1</b>") and " · /diff_1_1_2" in history.text
    assert (await telegram.ask(ALICE, "/history_1")).text == history.text

    stopped = await press(telegram, announcement, "au:1")
    assert stopped.text.startswith("Stopped tracking #1")
    for data in ("ad:1:1:2", "ah:1", "au:1"):
        assert await refused_press(telegram, announcement, data) == (
            "This chat no longer tracks that article (or it was deleted). /list shows what it tracks."
        )
    assert (await telegram.ask(ALICE, "/untrack_1")).text == "There is no #1 in /list."


async def test_stop_tracking_takes_an_admin_and_channel_buttons_check_who_pressed(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    admin, member = 4001, 4002
    channel = -1005551234
    await bots.start()
    articles.set_page("/p", article_html())
    await telegram.ask(GROUP, f"/track {articles.url('/p')}", chat_type="group", title="Desk", user_id=admin)
    await telegram.ask(channel, f"/track {articles.url('/p')}", chat_type="channel", title="Edits")
    telegram.set_chat_admins(GROUP, [admin])
    telegram.set_chat_admins(channel, [admin])
    articles.set_page("/p", putin_v2())
    in_group = await telegram.wait_for(GROUP, contains="v1 → v2", timeout=15)
    in_channel = await telegram.wait_for(channel, contains="v1 → v2", timeout=15)
    assert in_group.reply_markup == in_channel.reply_markup == article_buttons(1, 1, 2)

    # A group member may read, not stop; the admin may.
    assert (await press(telegram, in_group, "ad:1:1:2", user_id=member)).text.startswith("✏️")
    refusal = await refused_press(telegram, in_group, "au:1", user_id=member)
    assert refusal == "Only this group's admins can change its settings."
    assert (await press(telegram, in_group, "au:1", user_id=admin)).text.startswith("Stopped tracking #1")

    # In a channel any subscriber can press: only an admin's press posts anything there.
    for data in ("ad:1:1:2", "ah:1", "au:1"):
        refusal = await refused_press(telegram, in_channel, data, user_id=member)
        assert refusal == "Only this channel's admins can use its buttons."
    assert (await press(telegram, in_channel, "ad:1:1:2", user_id=admin)).text.startswith("✏️")


async def test_commands_for_other_bots_get_no_reply_and_cost_nothing(
    telegram: FakeTelegram, bots: RunningBots
) -> None:
    """Three commands a minute: the foreign ones, answered before, also used the allowance up."""
    await bots.start(with_overrides(e2e_settings(telegram, bots.db_path), limits={"commands_per_minute": 3}))
    listed = await telegram.ask(GROUP, "/list", chat_type="group", title="Desk")
    before = len(telegram.requests)
    for text in ("/list@some_other_bot", "/ban", "/warn@modbot", "/ban@some_other_bot 42", "/diff_1@modbot"):
        telegram.user_says(GROUP, text)
    helped = await telegram.ask(GROUP, f"/help@{telegram.bot_username}")  # the known later events
    again = await telegram.ask(GROUP, "/list")
    assert helped.text.startswith("<b>Redline</b>") and again.text == listed.text
    calls = [(method, params.get("chat_id")) for method, params in telegram.requests[before:]]
    assert [c for c in calls if c[0] != "getUpdates"] == [("sendMessage", GROUP)] * 2
    # In a private chat an unknown command is surely meant for us: it gets the pointer to /help.
    assert (await telegram.ask(ALICE, "/ban")).text == "I don't know /ban. /help lists what I can do."


async def test_menus_by_scope_descriptions_and_help(telegram: FakeTelegram, bots: RunningBots) -> None:
    await bots.start()
    every = [c["command"] for c in telegram.menu()]
    assert every == [
        "track", "untrack", "list", "history", "diff", "export", "sensitivity", "digest", "follow", "unfollow",
        "channel", "feed", "settings", "help",
    ]  # fmt: skip
    in_groups = [c for c in every if c != "channel"]  # /channel works in a private chat only
    assert [c["command"] for c in telegram.menu("all_chat_administrators")] == in_groups
    # Any member may read the feed's address and the day's edits (turning the daily digest on is for admins).
    everyone = ["list", "history", "diff", "export", "digest", "feed", "help"]
    assert [c["command"] for c in telegram.menu("all_group_chats")] == everyone
    assert telegram.description.startswith("I tell you when a news article is edited after publication")
    assert (
        telegram.short_description
        == "Tells you when a news article is edited after publication. Send me a link."
    )
    helped = await telegram.ask(ALICE, "/help")
    assert (
        "<b>Quickest:</b> send or forward me a link in a private chat and tap <i>Track this article</i>."
        in (helped.text)
    )


async def test_list_filters_and_a_long_history_page(telegram: FakeTelegram, bots: RunningBots) -> None:
    seed_articles(bots.db_path, ALICE, 12)
    store = Storage(make_engine(f"sqlite:///{bots.db_path}"))
    try:
        for k in range(2, 33):  # #5 edited 31 times; #7 failing
            store.articles.store_version(
                5,
                title=f"T{k}",
                content={"title": f"T{k}", "paragraphs": ["One."]},
                content_hash=f"h{k}",
                summary="headline changed",
                deliveries=[],
                article_fields={"last_changed_at": START + timedelta(days=1)},
                now=START + timedelta(hours=k),
            )
        store.queue.update_article(7, state="failing")
    finally:
        store.engine.dispose()
    await bots.start()
    changed = await telegram.ask(ALICE, "/list changed")
    assert numbers(changed) == [5] and changed.plain_text.startswith(
        "Edited articles · 1 · newest change first\n"
    )
    assert changed.reply_markup is None  # one page: no buttons
    failing = await telegram.ask(ALICE, "/list failing")
    assert numbers(failing) == [7] and "can't read it right now" in failing.plain_text
    assert numbers(await telegram.ask(ALICE, "/list"))[:2] == [5, 12]  # the edited one is the newest change
    assert (await telegram.ask(ALICE, "/list everything")).text == (
        "/list shows every article, /list changed the edited ones, /list failing those I can't read."
    )

    history = await telegram.ask(ALICE, "/history 5")
    assert history.plain_text.splitlines()[1].startswith("v32 · 2026-12-02 16:00 UTC · headline changed")
    assert history.button_data == ["hs:5:2"]
    page2 = await press(telegram, history, "hs:5:2")
    assert page2.method == "editMessageText" and page2.button_data == ["hs:5:1", "hs:5:3"]
    page3 = await press(telegram, page2, "hs:5:3")  # a press on the message as edited
    assert page3.plain_text.splitlines()[-2].startswith("v1 · 2026-12-01 08:05 UTC · first version")
    assert page3.button_data == ["hs:5:2"]
    assert (await telegram.ask(ALICE, "/untrack_5")).text.startswith("Stopped tracking #5")
    assert await refused_press(telegram, page3, "hs:5:2") == (
        "This chat no longer tracks that article (or it was deleted). /list shows what it tracks."
    )


async def test_settings_quiet_announcements_and_the_time_zone(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    await alice_tracks(telegram, articles, "/q")
    menu = await telegram.ask(ALICE, "/settings")
    assert menu.text == (
        "<b>Settings of this chat</b>\nAnnouncements arrive 🔔 with sound.\n"
        "Times in /history are shown in UTC.\nTap to change. Any other time zone: /timezone Europe/Paris"
    )
    assert menu.button_data == [
        "set:quiet:1",
        *(
            f"set:tz:{z}"
            for z in (
                "UTC",
                "Europe/London",
                "Europe/Berlin",
                "Europe/Moscow",
                "America/New_York",
                "Asia/Kolkata",
            )
        ),
    ]
    answered = len(telegram.callback_answers)
    telegram.press_button(ALICE, menu.message_id, "set:tz:UTC")  # what is set already
    assert (await telegram.wait_for_callback_answer(answered + 1))[
        "text"
    ] == "Times in /history are now shown in UTC."
    quiet = await press(telegram, menu, "set:quiet:1")
    assert [m.text for m in telegram.sent if m.chat_id == ALICE and "went wrong" in m.text] == []
    assert quiet.method == "editMessageText" and "Announcements arrive 🔕 without sound." in quiet.text
    assert telegram.callback_answers[-1]["text"] == "Announcements now arrive without sound."
    berlin = await press(telegram, quiet, "set:tz:Europe/Berlin")  # a press on the edited message
    assert "shown in Europe/Berlin." in berlin.text and berlin.button_data[0] == "set:quiet:0"
    labels = [b["text"] for row in berlin.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert "✅ Berlin" in labels and "UTC" in labels

    assert (await telegram.ask(ALICE, "/timezone Mars/Olympus_Mons")).text == (
        "I don't know the time zone “Mars/Olympus_Mons”. Use a name like Europe/Berlin or "
        "America/New_York (the IANA list), or UTC."
    )
    assert (
        await telegram.ask(ALICE, "/timezone asia/tokyo")
    ).text == "Times in /history are now shown in Asia/Tokyo."
    assert (await telegram.ask(ALICE, "/timezone")).text == (
        "Times here are shown in Asia/Tokyo. Change it: /timezone Europe/Berlin"
    )

    articles.set_page("/q", putin_v2())
    announcement = await telegram.wait_for(ALICE, contains="v1 → v2", timeout=15)
    assert announcement.params.get("disable_notification") is True
    history = await telegram.ask(ALICE, "/history 1")
    assert re.search(r"^v2 · \d{4}-\d\d-\d\d \d\d:\d\d JST · ", history.plain_text, re.MULTILINE)


async def test_settings_in_a_group_take_an_admin(telegram: FakeTelegram, bots: RunningBots) -> None:
    admin, member = 4001, 4002
    await bots.start()
    menu = await telegram.ask(GROUP, "/settings", chat_type="group", user_id=admin)
    telegram.set_chat_admins(GROUP, [admin])
    refusal = await refused_press(telegram, menu, "set:quiet:1", user_id=member)
    assert refusal == "Only this group's admins can change its settings."
    assert (await telegram.ask(GROUP, "/timezone Europe/Paris", user_id=member)).text == (
        "Only this group's admins can use /timezone here. Everyone can use /list, /history and /diff."
    )


async def test_in_a_channel_only_an_admin_turns_the_page(telegram: FakeTelegram, bots: RunningBots) -> None:
    """Every subscriber sees the channel's /list: a page turned is turned for all of them."""
    admin, subscriber, channel = 4001, 4003, -1005551234
    seed_articles(bots.db_path, channel, 12)
    await bots.start()
    listing = await telegram.ask(channel, "/list", chat_type="channel", title="Edits")
    telegram.set_chat_admins(channel, [admin])
    assert numbers(listing) == list(range(12, 2, -1)) and listing.button_data == ["ls:all:2"]
    refusal = await refused_press(telegram, listing, "ls:all:2", user_id=subscriber)
    assert refusal == "Only this channel's admins can use its buttons."
    turned = await press(telegram, listing, "ls:all:2", user_id=admin)
    assert turned.method == "editMessageText" and numbers(turned) == [2, 1]
