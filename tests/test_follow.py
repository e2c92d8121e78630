"""Following a source end to end: the real Application over HTTP to the fake Bot API, feeds and
articles served from 127.0.0.1, SQLite on disk. Nothing inside the bot is patched."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

from bot.config import with_overrides
from bot.messages import replies
from bot.messages.opml import Outline, parse_opml, render_opml
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.feeds import ATOM_TYPE, RSS_TYPE, atom, rss, serve_big_feed
from tests.pages import PUTIN_P1_V1, PUTIN_REST, PUTIN_V1, PUTIN_V2, article_html, putin_v2
from tests.stories import UNSENT, served

ALICE = 1001
DESK, ADMIN, MEMBER = -3003, 501, 502
STORY = "/world/2026/dec/07/putin-postpones-paris-talks"


async def fetched(web: ArticleServer, path: str, timeout: float = 15.0) -> None:
    """Wait until the bot has asked the server for ``path`` (it read the page)."""
    async with asyncio.timeout(timeout):
        while web.hits(path) == 0:
            await asyncio.sleep(0.02)


async def list_until(telegram: FakeTelegram, holding: str, timeout: float = 15.0) -> SentMessage:
    """Ask /list until its follows block says ``holding``.

    Each ask waits for a /list answer itself, so a notice that arrives meanwhile is not taken
    for one and no answer is left over for the next question.
    """
    async with asyncio.timeout(timeout):
        while holding not in (listing := await telegram.ask(ALICE, "/list", contains="<b>Follows</b>")).text:
            await asyncio.sleep(0.1)
    return listing


async def test_a_followed_feed_brings_a_new_article_whose_edit_names_the_follow(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(follow_interval=1)
    old = "/world/2026/dec/06/an-older-story-already-listed"
    articles.set_page(old, article_html())
    articles.set_page(
        "/world/rss.xml", rss("World news", [(articles.url(old), "An older story")]), content_type=RSS_TYPE
    )
    feed = articles.url("/world/rss.xml")

    reply = await telegram.ask(ALICE, f"/follow {feed} 3 days")
    assert reply.text == (
        f'📡 Following F1: <a href="{feed}">World news</a> · it lists 1 article now.\n'
        "Those are skipped; every article that appears from now on is tracked here for 3 days, then let go "
        "quietly. I look at it every few minutes. /list shows follows, /unfollow 1 stops it."
    )
    print(f"\nREAL EXCHANGE:\n> /follow {feed} 3 days\n{reply.text}")

    articles.set_page(STORY, article_html())
    listed = [(articles.url(STORY), PUTIN_V1), (articles.url(old), "An older story")]
    articles.set_page("/world/rss.xml", rss("World news", listed), content_type=RSS_TYPE)
    await fetched(articles, STORY)
    articles.set_page(STORY, putin_v2())
    edit = await telegram.wait_for(ALICE, contains="cancels", timeout=20)
    assert edit.text.endswith("\n📡 via follow F1: World news")
    assert "<s>postpones</s>" in edit.text
    assert articles.hits(old) == 0  # the backlog was never fetched
    print(f"FIRST ANNOUNCEMENT OF A FOLLOWED ARTICLE:\n{edit.text}")

    digest = await telegram.ask(ALICE, "/digest")
    assert digest.text == (
        "🗞 The day's edits: 1 article changed in the last 24 hours\n"
        f"#1 <b>{PUTIN_V2}</b> — headline changed, 1 paragraph edited · v1 → v2 · /diff_1_1_2"
    )
    print(f"> /digest\n{digest.text}")

    listing = await telegram.ask(ALICE, "/list")
    assert "Tracked articles" not in listing.text  # the followed article sits under its follow
    assert listing.text.startswith(
        f'<b>Follows</b>\nF1. <a href="{feed}">World news</a> · 1 article held, the last until '
    )
    assert listing.text.endswith(" UTC · each for 3 days")

    exported = await telegram.ask(ALICE, "/export follows")
    assert exported.method == "sendDocument" and exported.file is not None and exported.file.data is not None
    assert exported.file.filename == "redline-follows.opml"
    assert parse_opml(exported.file.data) == [Outline(feed, "World news")]

    stopped = await telegram.ask(ALICE, "/unfollow 1")
    assert stopped.text == (
        f'Stopped following F1: <a href="{feed}">World news</a> and stopped tracking the 1 article it brought.'
    )
    assert (
        await telegram.ask(ALICE, "/list")
    ).text == "This chat tracks no articles yet. Send /track URL to start."
    assert (await telegram.ask(ALICE, "/unfollow 1")).text == "There is no follow F1 in /list."
    assert (await telegram.ask(ALICE, "/unfollow")).text == (
        "Say which follow to stop: /unfollow 2 (its number under Follows in /list)."
    )


async def test_in_a_group_only_admins_follow_and_unfollow(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    telegram.add_chat(DESK, "supergroup", title="Desk")
    telegram.set_chat_member(DESK, ADMIN, "administrator")
    telegram.set_chat_member(DESK, MEMBER, "member")
    articles.set_page("/f.xml", rss("Desk feed", []), content_type=RSS_TYPE)
    refused = await telegram.ask(DESK, f"/follow {articles.url('/f.xml')}", user_id=MEMBER, username="intern")
    assert refused.text == replies.admins_only("follow")
    assert articles.hits("/f.xml") == 0
    followed = await telegram.ask(DESK, f"/follow {articles.url('/f.xml')}", user_id=ADMIN, username="editor")
    assert followed.text.startswith("📡 Following F1")
    refused = await telegram.ask(DESK, "/unfollow 1", user_id=MEMBER, username="intern")
    assert refused.text == replies.admins_only("unfollow")
    listing = await telegram.ask(DESK, "/list", user_id=MEMBER, username="intern")
    assert listing.text.startswith("<b>Follows</b>\nF1. ")


async def test_a_feed_of_5000_items_keeps_the_cap_and_the_bot_answers_list_within_a_second(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    settings = with_overrides(
        e2e_settings(telegram, bots.db_path, follow_interval=1), limits={"max_articles_per_chat": 20}
    )
    await bots.start(settings)
    articles.set_page("/big.xml", rss("Big", []), content_type=RSS_TYPE)
    assert (await telegram.ask(ALICE, f"/follow {articles.url('/big.xml')}")).text.startswith(
        "📡 Following F1"
    )
    serve_big_feed(articles, "/big.xml", 5000, article_html())
    await fetched(articles, "/big/2026/dec/07/item-number-0-of-many")  # the bot is busy with it

    loop = asyncio.get_running_loop()
    asked = loop.time()
    listing = await telegram.ask(ALICE, "/list", contains="<b>Follows</b>")
    assert listing.at - asked < 1.0, f"/list took {listing.at - asked:.2f}s"
    print(f"\n/list answered in {1000 * (listing.at - asked):.0f} ms while the bot read a 5000-item feed")
    assert listing.text.startswith("<b>Follows</b>\nF1. ")

    await list_until(telegram, "20 articles held", timeout=60)
    told = await telegram.wait_for(ALICE, contains="has new articles", timeout=30)
    assert told.text == (
        f'📡 Follow F1, <a href="{articles.url("/big.xml")}">Big</a>, has new articles, but this chat already '
        "tracks 20 articles, the most I allow, so they are skipped. /untrack or /unfollow to make room."
    )
    full = await telegram.ask(ALICE, f"/track {articles.url('/big/2026/dec/07/item-number-4999-of-many')}")
    assert full.text == replies.too_many_articles(20)
    assert articles.hits("/big/2026/dec/07/item-number-20-of-many") == 0  # nothing past the cap


async def test_an_opml_file_sent_to_the_bot_follows_each_feed_in_it(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/a.xml", rss("Feed A", []), content_type=RSS_TYPE)
    articles.set_page("/b.xml", atom("Feed B", []), content_type=ATOM_TYPE)
    opml = render_opml(
        [
            Outline(articles.url("/a.xml"), "A"),
            Outline(articles.url("/b.xml"), "B"),
            Outline(articles.url("/gone.xml"), "Gone"),
        ],
        "From another reader",
    )
    after = len(telegram.sent)
    telegram.user_sends_document(ALICE, opml, "subscriptions.opml", "text/x-opml")
    answer = await telegram.wait_for(ALICE, after=after, timeout=15)
    assert answer.text.split("\n\n")[0].startswith(
        f'📡 Following F1: <a href="{articles.url("/a.xml")}">Feed A</a>'
    )
    assert answer.text.split("\n\n")[1].startswith(
        f'📡 Following F2: <a href="{articles.url("/b.xml")}">Feed B</a>'
    )
    assert answer.text.split("\n\n")[2].startswith("I can't follow that: ")

    after = len(telegram.sent)
    telegram.user_sends_document(ALICE, b"<html>no</html>", "feeds.opml", "text/x-opml")
    refused = await telegram.wait_for(ALICE, after=after, timeout=15)
    assert refused.text == "That file is not an OPML document."


async def test_a_feed_that_starts_failing_is_reported_to_the_chat_once(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(follow_interval=1, failures_before_notice=2)
    articles.set_page("/f.xml", rss("Wobbly <news>", []), content_type=RSS_TYPE)
    feed = articles.url("/f.xml")
    assert (await telegram.ask(ALICE, f"/follow {feed}")).text.startswith("📡 Following F1")
    articles.set_page("/f.xml", "<html><body>down</body></html>", status=503)
    told = await telegram.wait_for(ALICE, contains="I can't read follow F1", timeout=30)
    assert told.text.startswith(f'⚠️ I can\'t read follow F1, <a href="{feed}">Wobbly &lt;news&gt;</a>: ')
    assert told.text.endswith(" I'll keep trying, less often; the articles it brought are still tracked.")
    hits = articles.hits("/f.xml")
    async with asyncio.timeout(30):  # one more failed fetch (backing off), and no second notice
        while articles.hits("/f.xml") == hits:
            await asyncio.sleep(0.05)
    marker = await telegram.ask(ALICE, "/list")
    assert marker.text.startswith("<b>Follows</b>")
    assert [m for m in telegram.messages_to(ALICE) if "I can't read follow" in m.text] == [told]


async def test_a_failing_feed_notice_survives_telegram_refusing_it_for_a_while(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """The notice goes through the outbox: Telegram's 429s past the rate limiter's own retries
    put it back in the queue instead of losing it."""
    await bots.start(follow_interval=1, failures_before_notice=2)
    articles.set_page("/f.xml", rss("Wobbly", []), content_type=RSS_TYPE)
    feed = articles.url("/f.xml")
    assert (await telegram.ask(ALICE, f"/follow {feed}")).text.startswith("📡 Following F1")
    calls = len(telegram.calls_to(ALICE, "sendMessage"))
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", count=3)
    articles.set_page("/f.xml", "<html><body>down</body></html>", status=503)
    told = await telegram.wait_for(ALICE, contains="I can't read follow F1", timeout=30)
    assert told.text.startswith(f'⚠️ I can\'t read follow F1, <a href="{feed}">Wobbly</a>: ')
    assert len(telegram.calls_to(ALICE, "sendMessage")) - calls == 4  # three refused, then sent


REGRETS = "Hollande called the decision regrettable and said France would keep talking to Moscow."
MARKETS = [
    "Markets in Asia rose on Monday after a week of losses, led by technology shares in Tokyo.",
    "Analysts said the rally was fragile and depended on figures due from the US on Friday.",
]


async def test_a_follow_with_watchwords_tracks_matching_articles_and_announces_only_edits_of_its_words(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(follow_interval=1)
    articles.set_page("/world/rss.xml", rss("World news", []), content_type=RSS_TYPE)
    feed = articles.url("/world/rss.xml")
    reply = await telegram.ask(ALICE, f"/follow {feed} words: hollande, Élysée")
    assert reply.text.endswith(
        "\n🔎 Watchwords: <b>hollande</b>, <b>Élysée</b>. I track only its articles whose headline or text "
        "contains one, and post only edits whose changed words contain one; the others stay in /history."
    )
    markets = "/business/2026/dec/07/markets-rise-in-asia-today"
    articles.set_page(STORY, article_html())  # "François Hollande" in its first paragraph
    articles.set_page(markets, article_html("Markets rise in Asia", MARKETS))
    listed = [(articles.url(STORY), PUTIN_V1), (articles.url(markets), "Markets rise in Asia")]
    articles.set_page("/world/rss.xml", rss("World news", listed), content_type=RSS_TYPE)
    await fetched(articles, markets)
    await fetched(articles, STORY)
    listing = await list_until(telegram, "1 article held")
    assert listing.text.endswith(" UTC · each for 7 days · words: <b>hollande</b>, <b>Élysée</b>")
    assert articles.hits(markets) == 1  # read once, and left alone

    after = len(telegram.sent)
    articles.set_page(STORY, article_html(PUTIN_V2))  # the headline: no watchword in the change
    await served(articles, STORY, 2)
    articles.set_page(STORY, article_html(PUTIN_V2, [PUTIN_P1_V1, REGRETS, *PUTIN_REST]))
    told = await telegram.wait_for(ALICE, contains="regrettable", timeout=20, after=after)
    assert told.text.endswith("\n📡 via follow F1: World news")
    assert [m for m in telegram.sent[after:] if m.chat_id == ALICE] == [told]  # not the headline edit
    history = (await telegram.ask(ALICE, "/history 1")).text
    assert "v2 · " in history and "headline changed" in history
    assert "v3 · " in history and "1 paragraph added" in history


async def test_digest_only_keeps_followed_articles_out_of_the_chat_and_in_the_daily_digest(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    app = await bots.start(follow_interval=1)
    store = app.bot_data["redline"].store
    articles.set_page("/world/rss.xml", rss("World news", []), content_type=RSS_TYPE)
    assert (await telegram.ask(ALICE, f"/follow {articles.url('/world/rss.xml')}")).text.startswith("📡")
    own = "/own/2026/dec/07/the-chats-own-tracked-article"
    articles.set_page(own, article_html("Cathedral opens on the Seine"))
    assert (await telegram.ask(ALICE, f"/track {articles.url(own)}")).text.startswith("👀 Tracking #1")

    answer = await telegram.ask(ALICE, "/digest")
    telegram.press_button(ALICE, answer.message_id, "digest:times")
    await telegram.wait_for_callback_answer(1)
    after = len(telegram.sent)
    telegram.press_button(ALICE, answer.message_id, "digest:480")
    await telegram.wait_for(ALICE, method="editMessageText", after=after)
    assert telegram.buttons_of(ALICE, answer.message_id) == [
        ("📡 Followed articles: digest only", "digest:only:1")
    ]
    after = len(telegram.sent)
    telegram.press_button(ALICE, answer.message_id, "digest:only:1")
    chosen = await telegram.wait_for(ALICE, method="editMessageText", after=after)
    assert chosen.text.endswith(
        "\nEdits of articles your follows bring appear only in the daily digest (and /history, /digest)."
    )
    assert telegram.buttons_of(ALICE, answer.message_id) == [
        ("📡 Announce followed articles one by one", "digest:only:0")
    ]
    settings = await telegram.ask(ALICE, "/settings")
    assert "appear only in the daily digest" in settings.text
    assert ("📡 Announce followed articles one by one", "set:followed:0") in telegram.buttons_of(
        ALICE, settings.message_id
    )

    articles.set_page(STORY, article_html())
    items = [(articles.url(STORY), PUTIN_V1)]
    articles.set_page("/world/rss.xml", rss("World news", items), content_type=RSS_TYPE)
    await fetched(articles, STORY)
    await list_until(telegram, "1 article held")
    sent = len(telegram.sent)
    articles.set_page(STORY, putin_v2())
    articles.set_page(own, article_html("Cathedral opens on the Seine at last"))
    await telegram.wait_for(ALICE, contains="at last", timeout=20, after=sent)  # its own: announced
    await served(articles, STORY, 3)  # the followed one's edit was stored meanwhile…
    async with asyncio.timeout(15):  # …and nothing is on its way
        while any(d.status in UNSENT for d in await asyncio.to_thread(store.outbox.deliveries)):
            await asyncio.sleep(0.05)
    assert not [m.text for m in telegram.sent[sent:] if m.chat_id == ALICE and "cancels" in m.text]

    digest = await telegram.ask(ALICE, "/digest")
    assert f"<b>{PUTIN_V2}</b> — headline changed" in digest.text
    before = len(telegram.sent)
    with closing(sqlite3.connect(bots.db_path)) as db, db:  # eight o'clock comes
        db.execute("UPDATE chat SET digest_next_at = ? WHERE id = ?", ("2026-01-01 08:00:00.000000", ALICE))
    daily = await telegram.wait_for(ALICE, contains="The day's edits", timeout=15, after=before)
    assert f"<b>{PUTIN_V2}</b> — headline changed" in daily.text
    assert "<b>Cathedral opens on the Seine at last</b>" in daily.text

    telegram.press_button(ALICE, settings.message_id, "set:followed:0")  # /settings turns it back
    answered = await telegram.wait_for_callback_answer(4)
    assert answered["text"] == "Edits of articles your follows bring are announced one by one."
    assert not (await asyncio.to_thread(store.chats.get, ALICE)).digest_only


async def test_a_follows_notice_goes_to_its_topic_and_to_general_once_the_topic_is_deleted(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start(follow_interval=1, failures_before_notice=1)
    telegram.add_chat(DESK, "supergroup", title="Newsroom")
    telegram.set_chat_member(DESK, ADMIN, "administrator")
    world, sport = telegram.create_topic(DESK, "World"), telegram.create_topic(DESK, "Sport")
    for path, topic in (("/w.xml", world), ("/s.xml", sport)):
        articles.set_page(path, rss(f"Feed {path}", []), content_type=RSS_TYPE)
        reply = await telegram.ask(DESK, f"/follow {articles.url(path)}", user_id=ADMIN, thread_id=topic)
        assert reply.text.startswith("📡 Following F") and reply.params.get("message_thread_id") == topic
    telegram.delete_topic(DESK, sport)
    for path in ("/w.xml", "/s.xml"):
        articles.set_page(path, "<html><body>down</body></html>", status=503)
    told = {}
    for n in (1, 2):
        notice = await telegram.wait_for(DESK, contains=f"I can't read follow F{n}", timeout=30)
        told[n] = notice.params.get("message_thread_id")
    assert told == {1: world, 2: None}  # the deleted topic's notice went to General
    assert [f[2] for f in telegram.failures] == ["Bad Request: message thread not found"]
