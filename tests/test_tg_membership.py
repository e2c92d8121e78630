"""Chats as Telegram changes them, end to end over the fake Bot API: removed and re-added,
blocked and unblocked, gone, muted, upgraded to a supergroup, split into forum topics; and
an article's announcements threaded (or updated in place) in each chat."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from telegram import ChatMemberUpdated

from bot.app import Redline
from bot.config import with_overrides
from bot.messages import replies
from bot.storage.chats import AwayChange
from bot.tg.membership import reach_change
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram, SentMessage, _chat_member
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V2, article_html, putin_v2
from tests.test_e2e import ALICE, GROUP, removal, track

SUPER = -1009999
BYSTANDER = 3003
FORUM = -1005555

# Successive versions of one article, each a different edit.
V3 = article_html(PUTIN_V2, [PUTIN_P1_V2, *PUTIN_REST[:2]])  # two paragraphs removed
V4 = article_html(PUTIN_V2, [PUTIN_P1_V1, *PUTIN_REST[:2]])  # the first paragraph edited back


async def until(condition: Callable[[], bool], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def redline(bots: RunningBots) -> Redline:
    return bots.running[0].bot_data["redline"]  # type: ignore[no-any-return]


async def stored_versions(bots: RunningBots, count: int) -> None:
    """Wait until the (only) article has ``count`` versions: a known point after a check."""
    store = redline(bots).store
    await until(lambda: len(store.articles.versions(1)) == count)


def thread_of(message: SentMessage) -> int | None:
    return message.params.get("message_thread_id")


def replied_to(message: SentMessage) -> int | None:
    return (message.params.get("reply_parameters") or {}).get("message_id")


@pytest.mark.parametrize(("chat_id", "kind"), [(ALICE, "private"), (GROUP, "group")])
async def test_removed_or_blocked_then_back_gets_one_digest_and_the_next_edit(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, chat_id: int, kind: str
) -> None:
    """A user blocks the bot (or a group removes it): nothing is sent there, not even tried.
    Unblocked (re-added), with no command typed: one message lists what changed meanwhile
    (another chat kept the article checked), and the next edit is announced as usual."""
    await bots.start()
    articles.set_page("/p", article_html())
    await track(telegram, chat_id, articles.url("/p"), chat_type=kind, title="Desk")
    await track(telegram, BYSTANDER, articles.url("/p"))
    store = redline(bots).store
    telegram.block(chat_id)  # Telegram sends the bot a my_chat_member update
    await until(lambda: store.chats.get(chat_id).paused)  # type: ignore[union-attr]
    before = len(telegram.requests)
    articles.set_page("/p", putin_v2())
    await stored_versions(bots, 2)
    articles.set_page("/p", V3)
    await stored_versions(bots, 3)
    assert telegram.calls_to(chat_id, after=before) == []

    telegram.unblock(chat_id)
    digest = await telegram.wait_for(chat_id, contains="Back in touch")
    assert digest.text == (
        "👋 Back in touch. While I could not post here, 1 tracked article changed:\n"
        f"#1 <b>{PUTIN_V2}</b> — v1 → v3 · /diff_1_1_3"
    )
    articles.set_page("/p", V4)
    edit = await telegram.wait_for(chat_id, contains="v3 → v4")
    assert [m.text for m in telegram.messages_to(chat_id)][-2:] == [digest.text, edit.text]


@pytest.mark.parametrize(
    ("fault", "refusal"),
    [
        (lambda t: t.forget(GROUP), "Chat not found"),
        (lambda t: t.mute_bot(GROUP), "Not enough rights to send text messages to the chat"),
        (lambda t: t.block(GROUP, notify=False), "Forbidden: bot was kicked from the group chat"),
    ],
    ids=["chat_not_found", "no_rights", "kicked_unnoticed"],
)
async def test_a_refusing_chat_is_paused_after_one_call(
    telegram: FakeTelegram,
    articles: ArticleServer,
    bots: RunningBots,
    fault: Callable[[FakeTelegram], None],
    refusal: str,
) -> None:
    """A chat Telegram will not deliver to costs one refused call, then none on later edits
    (which another chat still gets)."""
    await bots.start()
    articles.set_page("/p", article_html())
    await track(telegram, GROUP, articles.url("/p"), chat_type="group", title="Desk")
    await track(telegram, BYSTANDER, articles.url("/p"))
    fault(telegram)
    before = len(telegram.requests)
    articles.set_page("/p", putin_v2())
    store = redline(bots).store
    await until(lambda: store.chats.get(GROUP).paused)  # type: ignore[union-attr]
    articles.set_page("/p", V3)
    await telegram.wait_for(BYSTANDER, predicate=removal)
    assert len(telegram.calls_to(GROUP, after=before)) == 1
    assert [d.error for d in store.outbox.deliveries(GROUP)] == [f"chat paused: {refusal}"]


@pytest.mark.parametrize("service_message", [False, True], ids=["by_error", "by_service_message"])
async def test_group_upgraded_into_a_supergroup_that_already_tracks(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, service_message: bool
) -> None:
    """The group tracks /a (#1) and /b (#2); the supergroup it becomes already tracks /b (#1).
    Afterwards the supergroup tracks both once (/a renumbered #2) and gets each edit once,
    learnt from the service message before any send fails, or from the failed send."""
    await bots.start()
    for path in ("/a", "/b"):
        articles.set_page(path, article_html())
        await track(telegram, GROUP, articles.url(path), chat_type="group", title="Desk")
    await track(telegram, SUPER, articles.url("/b"), chat_type="supergroup", title="Desk")
    telegram.migrate(GROUP, SUPER, notify=service_message)
    store = redline(bots).store
    if service_message:
        await until(lambda: len(store.articles.tracked(SUPER)) == 2)
    for path in ("/a", "/b"):
        articles.set_page(path, putin_v2())
    await until(lambda: len([m for m in telegram.messages_to(SUPER) if "<b>cancels</b>" in m.text]) == 2)
    listing = await telegram.ask(SUPER, "/list")
    rows = {line.split(" ", 1)[0]: line for line in listing.text.splitlines()[1:-1]}  # newest change first
    assert sorted(rows) == ["#1", "#2"]
    assert articles.url("/b") in rows["#1"] and articles.url("/a") in rows["#2"]
    announced = sorted(
        m.text.rsplit("/diff_", 1)[1] for m in telegram.messages_to(SUPER) if "<b>cancels</b>" in m.text
    )
    assert announced == ["1", "2"]
    migrated = [f for f in telegram.failures if "upgraded to a supergroup" in f[2]]
    assert len(migrated) == (0 if service_message else 1)


async def test_forum_topics(telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots) -> None:
    """Each article is announced in the topic it was tracked in; once its topic is deleted,
    in General (one refused try, then straight there)."""
    await bots.start(with_overrides(e2e_settings(telegram, bots.db_path), telegram={"coalesce_minutes": 0}))
    telegram.add_chat(FORUM, "supergroup", title="Newsroom")
    world, sport = telegram.create_topic(FORUM, "World"), telegram.create_topic(FORUM, "Sport")
    for path, topic in (("/w", world), ("/s", sport)):
        articles.set_page(path, article_html())
        reply = await telegram.ask(FORUM, f"/track {articles.url(path)}", thread_id=topic)
        assert reply.text.startswith("👀 Tracking #") and thread_of(reply) == topic
    for path in ("/w", "/s"):
        articles.set_page(path, putin_v2())
    await until(lambda: len([m for m in telegram.messages_to(FORUM) if "<b>cancels</b>" in m.text]) == 2)
    topics = {
        m.text.rsplit("/diff_", 1)[1]: thread_of(m)
        for m in telegram.messages_to(FORUM)
        if "cancels" in m.text
    }
    assert topics == {"1": world, "2": sport}

    telegram.delete_topic(FORUM, sport)
    articles.set_page("/s", V3)
    general = await telegram.wait_for(FORUM, predicate=removal)
    assert thread_of(general) is None
    assert [f[2] for f in telegram.failures] == ["Bad Request: message thread not found"]
    articles.set_page("/s", V4)
    again = await telegram.wait_for(FORUM, contains="v3 → v4")
    assert thread_of(again) is None and len(telegram.failures) == 1


async def alice_sees_a_first_edit(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, *, coalesce_minutes: float
) -> SentMessage:
    """A bot with this coalescing window; Alice tracks /p and gets its v1 → v2 announcement."""
    await bots.start(
        with_overrides(e2e_settings(telegram, bots.db_path), telegram={"coalesce_minutes": coalesce_minutes})
    )
    articles.set_page("/p", article_html())
    await track(telegram, ALICE, articles.url("/p"))
    articles.set_page("/p", putin_v2())
    return await telegram.wait_for(ALICE, contains="v1 → v2")


async def test_edits_of_one_article_thread_as_replies(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    first = await alice_sees_a_first_edit(telegram, articles, bots, coalesce_minutes=0)
    articles.set_page("/p", V3)
    second = await telegram.wait_for(ALICE, contains="v2 → v3")
    assert second.method == "sendMessage" and replied_to(second) == first.message_id


async def test_a_burst_of_edits_updates_the_last_announcement_until_someone_replies(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """Within telegram.coalesce_minutes the second edit updates the announcement in place
    (newest first, the earlier one below); after a reply to it the third is a new message,
    in reply to it."""
    await bots.start()
    articles.set_page("/p", article_html())
    await track(telegram, GROUP, articles.url("/p"), chat_type="group", title="Desk")
    articles.set_page("/p", putin_v2())
    first = await telegram.wait_for(GROUP, contains="v1 → v2")
    articles.set_page("/p", V3)
    updated = await telegram.wait_for(GROUP, contains="v2 → v3")
    assert updated.method == "editMessageText" and updated.message_id == first.message_id
    assert first.button_data == ["ad:1:1:2", "ah:1", "au:1"]
    assert updated.button_data == ["ad:1:1:3", "ah:1", "au:1"]  # kept, its Full diff spans both edits
    assert (
        updated.text.index("v2 → v3") < updated.text.index("<i>Earlier:</i>") < updated.text.index("v1 → v2")
    )

    telegram.user_says(GROUP, "Quite a change!", reply_to=first.message_id)
    await until(lambda: redline(bots).store.chats.get(GROUP).last_message_id > first.message_id)  # type: ignore[union-attr, operator]
    articles.set_page("/p", V4)
    third = await telegram.wait_for(GROUP, contains="v3 → v4")
    assert third.method == "sendMessage" and replied_to(third) == first.message_id


def test_welcome_back_lists_each_article_once_with_its_gap() -> None:
    html, plain = replies.welcome_back(
        [AwayChange(2, 10, "Tom & Jerry <live>", 3, 5), AwayChange(4, 11, "Storm hits", 1, 2)]
    )
    assert html == (
        "👋 Back in touch. While I could not post here, 2 tracked articles changed:\n"
        "#2 <b>Tom &amp; Jerry &lt;live&gt;</b> — v3 → v5 · /diff_2_3_5\n"
        "#4 <b>Storm hits</b> — v1 → v2 · /diff_4_1_2"
    )
    assert plain.splitlines()[1] == "#2 Tom & Jerry <live> — v3 → v5 · /diff_2_3_5"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("member", "kicked", False),  # blocked, or removed from the group
        ("administrator", "left", False),
        ("kicked", "member", True),  # unblocked, or added back
        ("left", "administrator", True),
        ("member", "administrator", None),  # promoted: could post before and after
        ("member", "restricted", False),  # muted: the fake's restricted bot cannot send
    ],
)
def test_reach_change(old: str, new: str, expected: bool | None) -> None:
    me = {"id": 1, "is_bot": True, "first_name": "Redline"}
    change = ChatMemberUpdated.de_json(
        {
            "chat": {"id": GROUP, "type": "group", "title": "Desk"},
            "from": {"id": 2, "is_bot": False, "first_name": "Ann"},
            "date": 0,
            "old_chat_member": _chat_member(old, me, "group"),
            "new_chat_member": _chat_member(new, me, "group"),
        },
        None,
    )
    assert reach_change(change) is expected


async def test_an_edit_after_its_announcement_was_deleted_is_posted_anew(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """Someone deleted the announcement a second edit would update (Telegram does not tell
    the bot): the update meets "message to edit not found" and the edit is posted as a new
    message, not in reply to the deleted one, not lost."""
    first = await alice_sees_a_first_edit(telegram, articles, bots, coalesce_minutes=10)
    telegram.delete_message(ALICE, first.message_id)
    articles.set_page("/p", V3)
    again = await telegram.wait_for(ALICE, contains="v2 → v3", method="sendMessage")
    shown = telegram.message_in_chat(ALICE, again.message_id)
    assert shown is not None and "reply_to_message" not in shown and "Earlier" not in again.text
    assert ("editMessageText", 400, "Bad Request: message to edit not found") in telegram.failures
    assert await telegram.ask(ALICE, "/list")  # and nothing else went wrong on the way


async def test_an_edit_after_the_coalescing_window_is_a_new_reply(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """The window (telegram.coalesce_minutes, here 0.6 s) has passed when the next edit is
    announced (checks are a second apart): a new message in reply, the first one untouched."""
    first = await alice_sees_a_first_edit(telegram, articles, bots, coalesce_minutes=0.01)
    articles.set_page("/p", V3)
    second = await telegram.wait_for(ALICE, contains="v2 → v3")
    assert second.method == "sendMessage" and replied_to(second) == first.message_id
    assert not [m for m in telegram.sent if m.method == "editMessageText"]


@pytest.mark.parametrize(
    ("command", "answered"), [("/start", "/track"), ("/list", "<b>Tracked articles</b>")]
)
async def test_any_command_from_a_paused_chat_resumes_it_with_a_digest(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, command: str, answered: str
) -> None:
    """README: a paused chat comes back by /start or any command, even when Telegram said
    nothing (the user unblocked the bot silently): the digest of what changed meanwhile,
    and the command is answered."""
    await bots.start()
    articles.set_page("/p", article_html())
    await track(telegram, ALICE, articles.url("/p"))
    await track(telegram, BYSTANDER, articles.url("/p"))
    store = redline(bots).store
    telegram.block(ALICE)
    await until(lambda: store.chats.get(ALICE).paused)  # type: ignore[union-attr]
    articles.set_page("/p", putin_v2())
    await stored_versions(bots, 2)
    telegram.unblock(ALICE, notify=False)
    after = len(telegram.sent)
    telegram.user_says(ALICE, command)
    await telegram.wait_for(ALICE, contains=answered, after=after)
    digest = await telegram.wait_for(ALICE, contains="Back in touch", after=after)
    assert f"#1 <b>{PUTIN_V2}</b> — v1 → v2" in digest.text
    assert not store.chats.get(ALICE).paused  # type: ignore[union-attr]
