"""Watchwords through the running bot (fake Bot API, pages over HTTP, SQLite on disk): a chat
that tracks with "words:" hears only the edits whose changed words hold one (case and accents
aside); another chat tracking the same article hears every edit; /history keeps them all."""

from __future__ import annotations

from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_REST, PUTIN_V2, article_html

ALICE = 8201  # watches two words
BOB = 8202  # every edit

SANCTIONS = "The EU announced new SANCTIONS on Russian banks on Wednesday."


async def test_a_chat_with_watchwords_hears_only_edits_that_change_one(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/putin", article_html())
    url = articles.url("/putin")
    tracked = await telegram.ask(ALICE, f"/track {url} words: Sanctíons, Hollande")
    print("\nTRACK WITH WORDS:\n" + tracked.text)
    assert tracked.text.startswith("👀 Tracking #1")
    assert tracked.text.endswith(
        "🔎 Watchwords: <b>Sanctíons</b>, <b>Hollande</b>. I'll post only edits whose changed words "
        "contain one; the others stay in /history."
    )
    assert (await telegram.ask(BOB, f"/track {url}")).text.startswith("👀 Tracking #1")
    sent = len(telegram.sent)

    # The headline changes, in words neither watchword is in: Bob hears it, Alice does not.
    articles.set_page("/putin", article_html(PUTIN_V2))
    headline = await telegram.wait_for(BOB, contains="Headline changed", timeout=15, after=sent)
    # A paragraph with "sanctions" is added: both hear it.
    articles.set_page("/putin", article_html(PUTIN_V2, [PUTIN_P1_V1, SANCTIONS, *PUTIN_REST]))
    added = await telegram.wait_for(ALICE, contains="SANCTIONS", timeout=15, after=sent)
    assert await telegram.wait_for(BOB, contains="SANCTIONS", timeout=15, after=sent)
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [added]
    assert headline.chat_id == BOB

    # Alice's /history keeps the edit she was not told about.
    history = (await telegram.ask(ALICE, "/history 1")).text
    assert "v2 · " in history and "headline changed" in history
    assert "v3 · " in history and "1 paragraph added" in history


async def test_watchwords_that_cannot_be_kept_are_refused_before_any_fetch(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await bots.start()
    articles.set_page("/putin", article_html())
    url = articles.url("/putin")
    empty = await telegram.ask(ALICE, f"/track {url} words:")
    assert empty.text == (
        "Put the words after “words:”, separated by commas, like this:\n"
        "/track https://example.com/news/story words: Putin, sanctions"
    )
    many = await telegram.ask(ALICE, f"/track {url} words: " + ", ".join(f"w{i}" for i in range(21)))
    assert many.text == "That is 21 watchwords; 20 at most, please."
    long = "x" * 61
    too_long = await telegram.ask(ALICE, f"/track {url} words: putin, {long}")
    assert too_long.text == f"A watchword may be 60 characters at most: “{'x' * 60}…”"
    assert articles.hits("/putin") == 0

    # Words set later replace the chat's own; a plain /track again keeps them.
    await telegram.ask(ALICE, f"/track {url}")
    again = await telegram.ask(ALICE, f"/track {url} words: Kremlin")
    assert again.text.startswith("This chat already tracks that article as #1")
    assert "🔎 Watchwords: <b>Kremlin</b>." in again.text
    plain = await telegram.ask(ALICE, f"/track {url}")
    assert "🔎 Watchwords: <b>Kremlin</b>." in plain.text
