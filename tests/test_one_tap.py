"""One tap to track: a link sent or forwarded to the bot in a private chat, without a command,
gets a "Track this article" button that does what /track does. Over the fake Bot API."""

from __future__ import annotations

from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_V1, article_html

ALICE = 1001


async def tap_track(telegram: FakeTelegram, offer: SentMessage, presses: int) -> SentMessage:
    """Press the offer's button; return the bot's reply after the answered callback."""
    assert offer.button_data == ["track"]
    assert offer.reply_markup == {
        "inline_keyboard": [[{"text": "Track this article", "callback_data": "track"}]]
    }
    after = len(telegram.sent)
    telegram.press_button(offer.chat_id, offer.message_id, "track")
    answer = await telegram.wait_for_callback_answer(presses)
    assert answer["text"] == "Reading the article…"
    return await telegram.wait_for(offer.chat_id, method="sendMessage", after=after, timeout=15)


async def bot_and_page(bots: RunningBots, articles: ArticleServer, path: str) -> str:
    """A running bot and an article at ``path``; its address."""
    await bots.start()
    articles.set_page(path, article_html())
    return articles.url(path)


async def test_a_sent_link_is_tracked_with_one_tap(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    url = await bot_and_page(bots, articles, "/world/putin")
    offer = await telegram.ask(ALICE, f"Have you seen this? {url}")
    assert offer.text == f'Track this article? <a href="{url}">{url.split("://")[1]}</a>'
    assert offer.entities[0]["url"] == url  # the link rides in the offer itself

    reply = await tap_track(telegram, offer, presses=1)
    assert reply.text.startswith("👀 Tracking #1") and PUTIN_V1 in reply.text
    assert ("editMessageReplyMarkup", offer.message_id) in [
        (method, params.get("message_id")) for method, params in telegram.requests
    ]  # the button is gone, so a second tap cannot come by accident
    listing = await telegram.ask(ALICE, "/list")
    assert "\n#1 " in listing.text and PUTIN_V1 in listing.text


async def test_a_forwarded_post_with_a_hidden_link_is_tracked_with_one_tap(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    url = await bot_and_page(bots, articles, "/fwd")
    offer = await telegram.ask(
        ALICE, "Breaking: Putin postpones Paris talks", links={"Breaking": url}, forwarded_from="Daily News"
    )
    assert offer.text.startswith(f'Track this article? <a href="{url}">')
    reply = await tap_track(telegram, offer, presses=1)
    assert reply.text.startswith("👀 Tracking #1")


async def test_the_button_gives_the_replies_of_track(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """A page /track refuses is refused the same way from the button; a tracked one is
    "already tracked", in the very words of /track."""
    await bot_and_page(bots, articles, "/a")
    articles.set_page("/missing", "<html><body>Not here</body></html>", status=404)
    missing = articles.url("/missing")
    typed = await telegram.ask(ALICE, f"/track {missing}")
    offer = await telegram.ask(ALICE, missing)
    assert (await tap_track(telegram, offer, presses=1)).text == typed.text
    assert "404" in typed.text

    await telegram.ask(ALICE, f"/track {articles.url('/a')}")
    typed = await telegram.ask(ALICE, f"/track {articles.url('/a')}")
    offer = await telegram.ask(ALICE, articles.url("/a"))
    assert (await tap_track(telegram, offer, presses=2)).text == typed.text
    assert typed.text.startswith("This chat already tracks that article as #1")


async def test_messages_without_a_followable_link(telegram: FakeTelegram, bots: RunningBots) -> None:
    await bots.start()
    plain = await telegram.ask(ALICE, "hello there")
    assert plain.text == "Send /track with an article's link. /help explains everything."
    assert plain.reply_markup is None
    odd = await telegram.ask(ALICE, "open this", links={"this": "tg://resolve?domain=news"})
    assert odd.text == "I can only follow http:// and https:// links."
    assert odd.reply_markup is None
