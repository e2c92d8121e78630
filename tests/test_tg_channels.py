"""A channel managed from a private chat: /channel picks it with Telegram's chat-request button,
then /track, /list, /untrack and /sensitivity act on it; the channel sees only announcements,
and the user's admin rights are asked of Telegram at every command. Over the fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.messages import channels as words
from bot.storage.engine import make_engine
from bot.storage.store import Storage
from bot.tg.channels import PICK_REQUEST_ID
from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2
from tests.test_cli import redline

CHANNEL = -1001234500001
EDITOR = 7001  # an admin of the channel, writing to the bot in private


def transcript(telegram: FakeTelegram, lines: list[str], said: str, answer: SentMessage) -> SentMessage:
    """Keep the exchange as a person reads it (printed with ``pytest -s``)."""
    lines += [f"user: {said}", f"bot:  {answer.plain_text}"]
    if answer.params.get("reply_markup"):
        lines.append(f"      markup: {answer.params['reply_markup']}")
    return answer


def press_watch(telegram: FakeTelegram) -> None:
    telegram.add_chat(CHANNEL, "channel", title="Press Watch")
    telegram.set_chat_member(CHANNEL, EDITOR, "administrator")


async def pick_the_channel(telegram: FakeTelegram, lines: list[str]) -> None:
    picker = transcript(
        telegram, lines, "/channel", await telegram.ask(EDITOR, "/channel", username="editor")
    )
    assert picker.text == words.PICK
    button = picker.params["reply_markup"]["keyboard"][0][0]
    request = button["request_chat"]
    assert button["text"] == words.PICK_BUTTON
    assert request["request_id"] == PICK_REQUEST_ID
    assert request["chat_is_channel"] is True and request["bot_is_member"] is True
    assert request["user_administrator_rights"]["can_post_messages"] is True
    assert request["bot_administrator_rights"]["can_post_messages"] is True
    after = len(telegram.sent)
    telegram.share_chat(EDITOR, PICK_REQUEST_ID, CHANNEL)
    chosen = await telegram.wait_for(EDITOR, after=after)
    transcript(telegram, lines, "(taps 📣 Pick a channel, chooses Press Watch)", chosen)
    assert chosen.text == words.managing_now("Press Watch")
    assert chosen.params["reply_markup"] == {"remove_keyboard": True}
    assert telegram.keyboard_of(EDITOR) is None


async def test_admin_tracks_for_a_channel_from_a_private_chat(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    await bots.start()
    press_watch(telegram)
    articles.set_page("/p", article_html())
    url = articles.url("/p")
    lines: list[str] = []
    await pick_the_channel(telegram, lines)

    said = f"/track {url}"
    tracked = transcript(telegram, lines, said, await telegram.ask(EDITOR, said, timeout=30))
    assert tracked.text.startswith("📣 For <b>Press Watch</b>:\n👀 Tracking #1")
    assert tracked.text.endswith(
        "\nI'll post in <b>Press Watch</b> when the headline or a paragraph changes. /list shows what it tracks."
    )
    listing = transcript(telegram, lines, "/list", await telegram.ask(EDITOR, "/list"))
    assert listing.text.startswith(
        "📣 For <b>Press Watch</b>:\n<b>Tracked articles</b> · 1 · newest change first\n#1 "
    )

    question = transcript(telegram, lines, "/sensitivity", await telegram.ask(EDITOR, "/sensitivity"))
    assert question.text.startswith("📣 For <b>Press Watch</b>:\nWhat should count as an edit")
    choice = f"sens:headline@{CHANNEL}"
    assert choice in question.button_data
    telegram.press_button(EDITOR, question.message_id, choice)
    saved = await telegram.wait_for(EDITOR, method="editMessageText")
    transcript(telegram, lines, "(taps Headline only)", saved)
    assert saved.text == "📣 For <b>Press Watch</b>:\n<b>Press Watch</b> now gets: <b>Headline only</b>."

    menu = transcript(telegram, lines, "/settings", await telegram.ask(EDITOR, "/settings"))
    assert menu.text.startswith("📣 For <b>Press Watch</b>:\n<b>Settings of this chat</b>")
    telegram.press_button(EDITOR, menu.message_id, "set:quiet:1")
    quiet = await telegram.wait_for(EDITOR, method="editMessageText", after=len(telegram.sent))
    transcript(telegram, lines, "(taps Announce without sound)", quiet)
    assert quiet.text.startswith("📣 For <b>Press Watch</b>:\n") and "🔕 without sound" in quiet.text

    store = Storage(make_engine(f"sqlite:///{bots.db_path}"))
    try:
        channel, private = store.chats.get(CHANNEL), store.chats.get(EDITOR)
        assert channel is not None and channel.type == "channel" and channel.sensitivity == "headline"
        assert private is not None and private.managing == CHANNEL and private.sensitivity != "headline"
        assert channel.quiet and not private.quiet  # the settings are the channel's
        owners = {c.id: c.articles for c in store.chats.overview()}
        assert owners[EDITOR] == []  # nothing tracked in the private chat itself
        assert [(n, u) for n, _url, u in owners[CHANNEL]] == [(1, EDITOR)]  # the editor owns it
    finally:
        store.engine.dispose()

    report = await asyncio.to_thread(
        redline, "chats", env={"REDLINE_DATABASE_URL": f"sqlite:///{bots.db_path}"}
    )
    assert report.returncode == 0, report.stderr
    assert report.stdout == (
        "2 chats, 1 subscriptions, 1 owners\n"
        "\n"
        f"7001 private 'Editor' · manages channel {CHANNEL} · 0 articles\n"
        "\n"
        f"{CHANNEL} channel 'Press Watch' · 1 article\n"
        f"  #1 {url} · user 7001\n"
    )

    articles.set_page("/p", putin_v2())
    announcement = await telegram.wait_for(CHANNEL, contains="<b>cancels</b>", timeout=30)
    assert announcement.params.get("disable_notification") is True
    lines.append(f"channel: {announcement.plain_text}")

    untracked = transcript(telegram, lines, "/untrack 1", await telegram.ask(EDITOR, "/untrack 1"))
    assert untracked.text.startswith("📣 For <b>Press Watch</b>:\nStopped tracking #1")
    off = transcript(telegram, lines, "/channel off", await telegram.ask(EDITOR, "/channel off"))
    assert off.text == words.stopped_managing("Press Watch")
    own = transcript(telegram, lines, "/list", await telegram.ask(EDITOR, "/list"))
    assert own.text == "This chat tracks no articles yet. Send /track URL to start."

    # The channel itself saw the announcement and nothing else: no command, no reply.
    assert [m.message_id for m in telegram.messages_to(CHANNEL)] == [announcement.message_id]
    print("\n".join(["", *lines]))


async def test_an_admin_who_lost_the_role_changes_nothing(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """Checked at every change, never cached: demoted between two commands, refused at once."""
    await bots.start()
    press_watch(telegram)
    articles.set_page("/p", article_html())
    await pick_the_channel(telegram, [])
    question = await telegram.ask(EDITOR, "/sensitivity")

    telegram.set_chat_member(CHANNEL, EDITOR, "member")
    refused = await telegram.ask(EDITOR, f"/track {articles.url('/p')}")
    assert refused.text == (
        "You're not an admin of <b>Press Watch</b> any more, so I can't change it for you. "
        "/channel off brings /track and the rest back to this chat."
    )
    untrack = await telegram.ask(EDITOR, "/untrack 1")
    assert untrack.text == refused.text
    telegram.press_button(EDITOR, question.message_id, f"sens:everything@{CHANNEL}")
    answer = await telegram.wait_for_callback_answer()
    assert answer["show_alert"] is True
    assert answer["text"] == (
        "You're not an admin of Press Watch any more, so I can't change it for you. "
        "/channel off brings /track and the rest back to this chat."
    )
    lookups = [p for m, p in telegram.requests if m == "getChatMember" and p["user_id"] == EDITOR]
    assert len(lookups) == 1 + 2 + 2  # the pick, /sensitivity and /track, /untrack, the button
    assert telegram.messages_to(CHANNEL) == []

    off = await telegram.ask(EDITOR, "/channel off")
    assert off.text == words.stopped_managing("Press Watch")
    own = await telegram.ask(EDITOR, f"/track {articles.url('/p')}", timeout=30)
    assert own.text.startswith("👀 Tracking #1")  # in the private chat again


async def test_channel_outside_a_private_chat_points_to_one(
    telegram: FakeTelegram, bots: RunningBots
) -> None:
    await bots.start()
    reply = await telegram.ask(-2002, "/channel", chat_type="group", title="Desk")
    assert reply.text == (
        "Manage a channel from a private chat with me: open it and send /channel. "
        "The channel then sees only my announcements."
    )
    nothing = await telegram.ask(EDITOR, "/channel off")
    assert nothing.text == "You're not managing a channel: /track, /list and the rest act on this chat."
