"""The fake Bot API, driven by the real python-telegram-bot over HTTP.

If PTB accepts the fake's answers and raises the same exceptions it raises against Telegram,
tests built on the fake exercise the bot's real request and error paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from tests.fakes.telegram_api import (
    EntityParseError,
    FakeTelegram,
    parse_telegram_html,
    utf16_len,
)

ALICE = 1001
GROUP = -2002


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


async def reply_hello(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    user = update.effective_user.first_name if update.effective_user else "?"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Stop", callback_data="stop:1")]])
    await update.effective_message.reply_text(f"Hello <b>{user}</b> &amp; welcome", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Stopped")
    await query.edit_message_text(f"Stopped by <i>{query.from_user.first_name}</i>")


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A real Application polling the fake, built the way the bot builds its own."""
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(CommandHandler("start", reply_hello))
    application.add_handler(CallbackQueryHandler(on_button))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            await application.stop()


# -- startup, polling and the Application ---------------------------------------------------------


async def test_get_me_and_startup_methods(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "redline_test_bot" and me.id == 123456
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.set_my_commands([BotCommand("track", "Watch an article")])
    assert fake.commands == [{"command": "track", "description": "Watch an article"}]
    assert ("setMyCommands", {"commands": fake.commands}) in fake.requests
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Track-It", "bad name")])


async def test_command_menus_by_scope_and_descriptions(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(GROUP, "group")
    everyone, admins = (
        [BotCommand("list", "The list")],
        [BotCommand("list", "The list"), BotCommand("track", "T")],
    )
    assert await bot.set_my_commands(everyone, scope=BotCommandScopeAllGroupChats())
    assert await bot.set_my_commands(admins, scope=BotCommandScopeChatAdministrators(GROUP))
    assert [c["command"] for c in fake.menu("all_group_chats")] == ["list"]
    assert [c["command"] for c in fake.menu("chat_administrators", chat_id=GROUP)] == ["list", "track"]
    assert fake.menu() == fake.commands == []  # the default scope was never set
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())] == ["list"]
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(everyone, scope=BotCommandScopeChat(-999))
    with pytest.raises(BadRequest, match="Bot_command_description_invalid"):
        await bot.set_my_commands([BotCommand("list", "x" * 257)])
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{k}", "x") for k in range(101)])

    assert await bot.set_my_description("What I do") and fake.description == "What I do"
    assert await bot.set_my_short_description("Short") and fake.short_description == "Short"
    with pytest.raises(BadRequest, match="Description is too long"):
        await bot.set_my_description("x" * 513)
    with pytest.raises(BadRequest, match="Short description is too long"):
        await bot.set_my_short_description("x" * 121)


async def test_a_press_on_an_edited_message_carries_it_as_edited(
    fake: FakeTelegram,
    bot: Bot,
) -> None:
    fake.add_chat(ALICE)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data="p:1")]])
    sent = await bot.send_message(ALICE, "Page 1", reply_markup=keyboard)
    turned = InlineKeyboardMarkup([[InlineKeyboardButton("2", callback_data="p:2")]])
    await bot.edit_message_text("Page 2", chat_id=ALICE, message_id=sent.message_id, reply_markup=turned)
    with pytest.raises(AssertionError, match="no button"):  # the old button is gone
        fake.press_button(ALICE, sent.message_id, "p:1")
    fake.press_button(ALICE, sent.message_id, "p:2")
    query = fake.pending_updates[-1]["callback_query"]
    assert query["message"]["text"] == "Page 2" and "edit_date" in query["message"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Page 2", chat_id=ALICE, message_id=sent.message_id, reply_markup=turned)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALICE, "Too much data", reply_markup=too_long)


async def test_wrong_token_and_unknown_method(fake: FakeTelegram, bot: Bot) -> None:
    # Bot.initialize() calls getMe; PTB re-raises the 401 with the token in the message.
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_command_reaches_handler_and_reply_is_recorded(
    fake: FakeTelegram,
    app: Application,  # type: ignore[type-arg]
) -> None:
    reply = await fake.ask(ALICE, "/start")
    assert reply.chat_id == ALICE and reply.method == "sendMessage"
    assert reply.parse_mode == "HTML" and reply.link_preview_disabled
    assert reply.text == "Hello <b>Alice</b> &amp; welcome"
    assert reply.plain_text == "Hello Alice & welcome"
    assert reply.entities == [{"type": "bold", "offset": 6, "length": 5}]
    assert reply.button_data == ["stop:1"]

    # In groups, /cmd@this_bot is for us and /cmd@other_bot is not (PTB checks the entity).
    mine = await fake.ask(GROUP, "/start@redline_test_bot", chat_type="group", user_id=7, username="bob")
    assert mine.chat_id == GROUP and "Bob" in mine.text
    before = len(fake.sent)
    fake.user_says(GROUP, "/start@other_bot")
    with pytest.raises(AssertionError, match="no message matching"):
        await fake.wait_for(GROUP, after=before, timeout=0.5)


async def test_button_press_answer_and_edit(
    fake: FakeTelegram,
    app: Application,  # type: ignore[type-arg]
) -> None:
    hello = await fake.ask(ALICE, "/start")
    before = len(fake.sent)
    fake.press_button(ALICE, hello.message_id, "stop:1")
    edited = await fake.wait_for(ALICE, method="editMessageText", after=before)
    assert edited.message_id == hello.message_id
    assert edited.plain_text == "Stopped by Alice" and edited.reply_markup is None
    assert fake.callback_answers[0]["text"] == "Stopped"
    with pytest.raises(AssertionError, match="no button"):
        fake.press_button(ALICE, hello.message_id, "nope")


async def test_polling_stop_acknowledges_fetched_updates(
    fake: FakeTelegram,
    app: Application,  # type: ignore[type-arg]
) -> None:
    update_id = fake.user_says(ALICE, "/start")
    await fake.wait_for(ALICE)
    assert app.updater is not None
    await app.updater.stop()
    # PTB's last call confirms what it fetched, without long polling.
    assert fake.requests[-1] == ("getUpdates", {"offset": update_id + 1, "timeout": 0})
    assert fake.pending_updates == []


async def test_long_polling_holds_until_timeout_or_update(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    update_id = fake.user_says(ALICE, "hi")
    updates = await poll
    assert time.monotonic() - started < 1
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None and updates[0].message.text == "hi"


async def test_get_updates_offset_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.user_says(ALICE, f"m{i}") for i in range(3)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[2] + 1)] == []
    assert fake.pending_updates == []


async def test_newer_get_updates_terminates_older_one(fake: FakeTelegram, bot: Bot) -> None:
    old = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    # A second client: PTB's own getUpdates connection pool holds one connection only.
    async with httpx.AsyncClient() as client:
        newer = await client.post(f"{fake.base_url}{fake.token}/getUpdates", json={"timeout": 0})
    assert newer.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await old


async def test_updates_look_like_telegrams(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_says(-100777, "/track@redline_test_bot https://example.com/a", chat_type="supergroup")
    fake.user_says(-100888, "/track https://example.com/b", chat_type="channel", title="News")
    group, channel = await bot.get_updates()
    assert group.message is not None and group.message.chat.type == "supergroup"
    assert group.message.from_user is not None and not group.message.from_user.is_bot
    assert [(e.type, e.offset) for e in group.message.entities] == [("bot_command", 0), ("url", 24)]
    assert group.message.date.year >= 2024  # seconds, not milliseconds
    assert channel.channel_post is not None and channel.channel_post.from_user is None
    assert channel.channel_post.sender_chat is not None
    assert channel.channel_post.sender_chat.title == "News"


# -- what Telegram refuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # PTB strips "Bad Request: " and str.capitalize()s the rest: only the first letter
        # stays upper case.
        ("line one<br>line two", 'unsupported start tag "br" at byte offset 8'),
        ("<p>para</p>", 'unsupported start tag "p" at byte offset 0'),
        ("é<b>bold", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("a < b", 'unsupported start tag "" at byte offset 2'),
        ("1 <2", "unclosed start tag at byte offset 2"),
        ("x</b>", "unexpected end tag at byte offset 1"),
        ("AT&T", 'unescaped "&" at byte offset 2'),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_refused_like_telegram(
    fake: FakeTelegram, bot: Bot, text: str, reason: str
) -> None:
    fake.add_chat(ALICE)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ALICE, text, parse_mode=ParseMode.HTML)
    assert caught.value.message == f"Can't parse entities: {reason}"
    assert fake.failures[-1][2] == f"Bad Request: can't parse entities: {reason[0].upper()}{reason[1:]}"
    assert fake.sent == []


async def test_length_is_counted_on_visible_text_in_utf16(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fits = "<b>" + "x" * 4095 + "</b>y"
    await bot.send_message(ALICE, fits, parse_mode=ParseMode.HTML)
    assert fake.sent[-1].plain_text == "x" * 4095 + "y"
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(ALICE, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode=ParseMode.HTML)
    message = await bot.send_message(ALICE, "ok")
    with pytest.raises(BadRequest, match=r"^Message_too_long$"):  # edits say MESSAGE_TOO_LONG
        await bot.edit_message_text("x" * 4097, ALICE, message.message_id)
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text("ok", ALICE, message.message_id)


async def test_entities_past_the_hundredth_are_counted_and_dropped(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    message = await bot.send_message(ALICE, "<b>x</b> " * 150, parse_mode=ParseMode.HTML)
    assert fake.sent[-1].entities_count == 150
    assert len(message.entities) == 100


async def test_chat_faults(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(ALICE, "hi")

    fake.add_chat(ALICE)
    fake.block(ALICE)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(ALICE, "hi")
    fake.user_says(ALICE, "/start")  # writing to the bot again unblocks it, as in Telegram
    await bot.send_message(ALICE, "welcome back")

    fake.add_chat(GROUP, "group", title="Desk")
    fake.migrate(GROUP, -1002002)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "hi")
    assert migrated.value.new_chat_id == -1002002
    message = await bot.send_message(-1002002, "hi")
    assert message.chat.type == "supergroup" and message.chat.title == "Desk"


async def test_bot_membership_topics_and_refusals(fake: FakeTelegram, bot: Bot) -> None:
    """Blocking, removal and re-adding come as my_chat_member updates; a muted bot, a deleted
    chat and a deleted topic are refused with Telegram's words."""
    fake.add_chat(ALICE)
    fake.block(ALICE)
    fake.unblock(ALICE)
    fake.add_chat(GROUP, "group", title="Desk")
    fake.block(GROUP)
    changes = [u["my_chat_member"] for u in fake.pending_updates]
    assert [
        (c["chat"]["id"], c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes
    ] == [
        (ALICE, "member", "kicked"),
        (ALICE, "kicked", "member"),
        (GROUP, "member", "kicked"),
    ]
    updates = await bot.get_updates()
    assert updates[0].my_chat_member is not None and updates[0].my_chat_member.new_chat_member.user.is_bot
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await bot.send_message(GROUP, "hi")

    fake.add_chat(-1003, "supergroup")
    fake.mute_bot(-1003)
    with pytest.raises(BadRequest, match="Not enough rights to send text messages to the chat"):
        await bot.send_message(-1003, "hi")
    fake.forget(ALICE)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(ALICE, "hi")

    forum = -1004
    fake.add_chat(forum, "supergroup", title="Forum")
    sport = fake.create_topic(forum, "Sport")
    fake.user_says(forum, "/track x", thread_id=sport)
    assert fake.pending_updates[-1]["message"]["message_thread_id"] == sport
    message = await bot.send_message(forum, "in topic", message_thread_id=sport)
    assert message.message_thread_id == sport and message.is_topic_message
    fake.delete_topic(forum, sport)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum, "in topic", message_thread_id=sport)
    await bot.send_message(forum, "in general")


async def test_flood_window_answers_429_with_the_rest_of_the_window(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fake.flood(0.4)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ALICE, "hi")
    assert flood.value.retry_after in (1, timedelta(seconds=1))  # whole seconds, rounded up
    assert await bot.get_me()  # not about a chat: answered
    await asyncio.sleep(0.45)
    await bot.send_message(ALICE, "hi")
    assert [m.text for m in fake.sent] == ["hi"] and len(fake.flood_answers) == 1


async def test_injected_failures(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ALICE, "hi")
    assert flood.value.retry_after == 3

    fake.fail_next("sendMessage", 500, "Internal Server Error", count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(ALICE, "hi")
    await bot.send_message(ALICE, "hi")
    assert len(fake.sent) == 1

    fake.answer_late("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "slow", read_timeout=0.2)
    assert [m.text for m in fake.sent] == ["hi", "slow"]  # it arrived all the same


# -- chats, members, files ------------------------------------------------------------------------


async def test_chat_and_member_answers(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_says(GROUP, "hello", chat_type="group", user_id=7, username="bob")
    assert (await bot.get_chat_member(GROUP, 7)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, fake.bot_id)).status == "member"

    fake.set_chat_admins(GROUP, [8], creator_id=9)
    assert (await bot.get_chat_member(GROUP, 7)).status == "member"
    assert {m.user.id: m.status for m in await bot.get_chat_administrators(GROUP)} == {
        8: "administrator",
        9: "creator",
    }
    fake.user_says(ALICE, "hi")
    assert (await bot.get_chat_member(ALICE, ALICE)).status == "member"
    with pytest.raises(BadRequest, match="no administrators in the private chat"):
        await bot.get_chat_administrators(ALICE)


async def test_document_upload_is_recorded_and_downloadable(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(ALICE)
    message = await bot.send_document(
        ALICE, b"v1\nv2\n", filename="diff.txt", caption="<b>Diff</b>", parse_mode=ParseMode.HTML
    )
    sent = fake.sent[-1]
    assert sent.method == "sendDocument" and sent.file is not None
    assert sent.file.data == b"v1\nv2\n" and sent.file.filename == "diff.txt"
    assert sent.plain_text == "Diff" and message.caption == "Diff"
    assert message.document is not None and message.document.file_name == "diff.txt"


# -- raw HTTP -------------------------------------------------------------------------------------


async def test_raw_http_encodings_and_errors(fake: FakeTelegram) -> None:
    fake.add_chat(ALICE)
    api = f"{fake.base_url}{fake.token}"
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
    async with httpx.AsyncClient() as client:
        as_json = await client.post(f"{api}/sendMessage", json={"chat_id": ALICE, "text": "json"})
        as_form = await client.post(
            f"{api}/sendMessage", data={"chat_id": str(ALICE), "text": "form", "reply_markup": markup}
        )
        as_get = await client.get(f"{api}/getMe")
        missing = await client.post(f"{api}/sendSticker")
        outside = await client.get(f"{fake.base_url.rsplit('/', 1)[0]}/elsewhere")
    assert as_json.json()["result"]["text"] == "json"
    assert as_form.json()["ok"] and fake.sent[-1].button_data == ["go"]
    assert fake.sent[-1].params["chat_id"] == ALICE  # typed, not the form's string
    assert as_get.json()["result"]["is_bot"] is True
    assert (missing.status_code, missing.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert outside.status_code == 404 and outside.json()["ok"] is False


async def test_a_crash_in_the_fake_is_a_500_answer(
    fake: FakeTelegram, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(params: dict[str, Any], files: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    fake._handlers["getchat"] = broken
    with pytest.raises(NetworkError, match="boom"):
        await bot.get_chat(ALICE)
    assert "fake Telegram crashed on getChat" in caplog.text
    assert fake.token not in caplog.text


async def test_webhook_delivery(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        update_id = fake.user_says(ALICE, "via hook")
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 1 and received[0][1] == "s3cret"
        assert received[0][0]["update_id"] == update_id
        assert fake.pending_updates == []
        assert await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_stop_answers_a_pending_long_poll(bot: Bot) -> None:
    server = FakeTelegram()
    await server.start()
    async with Bot(server.token, base_url=server.base_url) as other:
        poll = asyncio.create_task(other.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await server.stop()
        assert await poll == ()
        assert time.monotonic() - started < 2


# -- the HTML parser on its own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#x27;", "a <b> & \"c\" 'd'", []),
        ("😀 <b>x</b>", "😀 x", [{"type": "bold", "offset": 3, "length": 1}]),
        (
            '<a href="https://e.com/?a=1&amp;b=2">l</a>',
            "l",
            [{"type": "text_link", "offset": 0, "length": 1, "url": "https://e.com/?a=1&b=2"}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            "<s>old</s><B>new</B>",
            "oldnew",
            [
                {"type": "strikethrough", "offset": 0, "length": 3},
                {"type": "bold", "offset": 3, "length": 3},
            ],
        ),
        ("<b></b>x", "x", []),  # empty entities vanish
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
    ],
)
def test_parse_telegram_html(html: str, text: str, entities: list[dict[str, Any]]) -> None:
    parsed = parse_telegram_html(html)
    assert (parsed.text, parsed.entities) == (text, entities)


def test_lenient_ampersand_matches_telegram_exactly() -> None:
    assert parse_telegram_html("AT&T &nbsp;", strict_ampersand=False).text == "AT&T &nbsp;"
    with pytest.raises(EntityParseError):
        parse_telegram_html("AT&T")
    assert utf16_len("😀a") == 3


async def test_reply_keyboards_and_chat_requests(fake: FakeTelegram, bot: Bot) -> None:
    """A chat-request button is checked as Telegram checks it; picking a chat sends a
    ``chat_shared`` message only for a chat the request lists; a one-time keyboard hides."""
    from telegram import (
        ChatAdministratorRights,
        KeyboardButton,
        KeyboardButtonRequestChat,
        ReplyKeyboardMarkup,
        ReplyKeyboardRemove,
    )

    fake.add_chat(ALICE)
    fake.add_chat(-1009, "channel", title="News")
    fake.add_chat(-1008, "channel", title="Other")
    fake.set_chat_member(-1009, ALICE, "administrator")
    rights = ChatAdministratorRights(*([False] * 11), can_post_messages=True)
    request = KeyboardButtonRequestChat(
        1, True, bot_is_member=True, user_administrator_rights=rights, request_title=True
    )
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Pick", request_chat=request)]], one_time_keyboard=True)
    await bot.send_message(ALICE, "pick one", reply_markup=keyboard)
    assert fake.keyboard_of(ALICE) is not None
    with pytest.raises(AssertionError, match="lacks the requested rights"):
        fake.share_chat(ALICE, 1, -1008)  # Alice is no admin there: her client does not list it
    with pytest.raises(AssertionError, match="no chat-request button with request_id 2"):
        fake.share_chat(ALICE, 2, -1009)
    fake.share_chat(ALICE, 1, -1009)
    update = Update.de_json((await bot.get_updates())[-1].to_dict(), bot)
    assert update.message is not None and update.message.chat_shared is not None
    shared = update.message.chat_shared
    assert (shared.request_id, shared.chat_id, shared.title) == (1, -1009, "News")
    assert fake.keyboard_of(ALICE) is None  # one-time: hidden once used

    await bot.send_message(ALICE, "again", reply_markup=keyboard)
    await bot.send_message(ALICE, "done", reply_markup=ReplyKeyboardRemove())
    assert fake.keyboard_of(ALICE) is None
    with pytest.raises(BadRequest, match=r"(?i)request_id_invalid"):
        big = KeyboardButtonRequestChat(2**31, True)
        await bot.send_message(
            ALICE, "x", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("P", request_chat=big)]])
        )
    member = await bot.get_chat_member(-1009, ALICE)
    assert member.status == "administrator" and member.can_post_messages is True  # type: ignore[attr-defined]


async def test_gateway_blip_and_revoked_token(fake: FakeTelegram, bot: Bot) -> None:
    """Telegram's 502 is an HTML page (PTB: NetworkError); a revoked token answers 401 to all."""
    fake.gateway_down("getMe", count=1)
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
        await bot.get_me()
    assert (await bot.get_me()).username == fake.bot_username
    fake.revoke_token()
    with pytest.raises(InvalidToken):
        await bot.get_me()


@pytest.mark.parametrize(
    ("chat_type", "chat_id", "allowed"),
    [("private", ALICE, 5), ("group", GROUP, 20), ("channel", -1005001, 20)],
)
async def test_flood_limits_answer_429_with_retry_after(
    fake: FakeTelegram, bot: Bot, chat_type: str, chat_id: int, allowed: int
) -> None:
    """Telegram's limits hold in every test, not only in the flood test: a burst past about
    one message a second in a chat (20 a minute in a group or channel) is refused with 429
    and the seconds to wait; the same burst spread over other chats goes through."""
    fake.add_chat(chat_id, chat_type)
    for n in range(allowed):
        await bot.send_message(chat_id, f"m{n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(chat_id, "one too many")
    wait = caught.value.retry_after
    seconds = wait.total_seconds() if isinstance(wait, timedelta) else wait
    assert 1 <= seconds <= (5 if chat_type == "private" else 60)
    assert fake.rate_limited == [("sendMessage", chat_id, seconds)]
    assert len(fake.messages_to(chat_id)) == allowed
    fake.add_chat(ALICE + 1)
    await bot.send_message(ALICE + 1, "another chat")  # counted per chat


async def test_flood_limit_overall_is_thirty_a_second(fake: FakeTelegram, bot: Bot) -> None:
    chats = list(range(2001, 2032))
    for chat_id in chats:
        fake.add_chat(chat_id)
    results = await asyncio.gather(*(bot.send_message(c, "hi") for c in chats), return_exceptions=True)
    refused = [r for r in results if isinstance(r, RetryAfter)]
    assert len(refused) == 1 and len(fake.sent) == 30


async def test_refused_html_is_reported_unless_expected(fake: FakeTelegram, bot: Bot) -> None:
    """The ``telegram`` fixture fails a test on refused HTML it did not expect."""
    fake.add_chat(ALICE)
    with pytest.raises(BadRequest):
        await bot.send_message(ALICE, "<b>unclosed", parse_mode=ParseMode.HTML)
    assert fake.unexpected_refusals() == [
        "sendMessage: Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    ]
    fake.expect_parse_refusals(1)
    assert fake.unexpected_refusals() == []


async def test_delete_message_then_edits_and_replies_to_it(fake: FakeTelegram, bot: Bot) -> None:
    """As Telegram: a deleted message cannot be edited or deleted again, and a reply to it is
    refused unless the sender allows sending without the reply."""
    fake.add_chat(ALICE)
    sent = await bot.send_message(ALICE, "announcement")
    assert await bot.delete_message(ALICE, sent.message_id)
    assert fake.message_in_chat(ALICE, sent.message_id) is None
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("updated", chat_id=ALICE, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ALICE, "reply", reply_to_message_id=sent.message_id)
    anyway = await bot.send_message(
        ALICE, "reply", reply_parameters=ReplyParameters(sent.message_id, allow_sending_without_reply=True)
    )
    assert anyway.reply_to_message is None
    fake.delete_message(ALICE, anyway.message_id)  # someone in the chat deletes it
    assert fake.message_in_chat(ALICE, anyway.message_id) is None
