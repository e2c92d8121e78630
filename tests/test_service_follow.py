"""The follow service (bot.service.follow) on its own: feeds and section pages served over HTTP
from 127.0.0.1, the real Fetcher, parse thread, track service and Storage; a clock the test
moves (``poll_once(now)``), no sleeps, no Telegram. Refusals carry the words the chat reads
(bot.tg.follows.follow_reply)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.config import Settings, with_overrides
from bot.core.watchwords import Watchwords
from bot.net.fetch import Fetcher, FetchPolicy
from bot.service.check import Checker
from bot.service.follow import FollowArgs, FollowRefused, FollowService, FollowStarted, parse_follow_args
from bot.service.pages import PageReader
from bot.service.parse_thread import ParseThread
from bot.service.track import TrackService
from bot.storage.models import utcnow
from bot.storage.store import Storage
from bot.tg.follows import follow_reply
from tests.corpus import corpus_or_skip
from tests.fakes.web import ArticleServer
from tests.feeds import ATOM_TYPE, RSS_TYPE, atom, corpus_stories, rss, section_page, serve_big_feed
from tests.pages import article_html, putin_v2, with_canonical

ALICE, DESK = 7101, -7102


@dataclass
class Following:
    service: FollowService
    store: Storage
    web: ArticleServer

    @property
    def told(self) -> list[tuple[int, str]]:
        """The follows' notices queued in the outbox (chat, text), oldest first."""
        return [(d.chat_id, d.text) for d in self.store.outbox.deliveries() if d.follow_id is not None]

    def subscriptions(self, chat_id: int) -> dict[str, int | None]:
        """url path → the follow id that brought it (None: the chat's own /track)."""
        return {
            row.article.url.split(":", 2)[2].split("/", 1)[1]: row.follow_id
            for row in self.store.articles.tracked(chat_id)
        }


def settings(**limits: object) -> Settings:
    return with_overrides(
        Settings(),
        monitor={"allow_private_addresses": True, "timeout": 5, "failures_before_notice": 2},
        limits=limits,
    )


async def _following(store: Storage, web: ArticleServer, config: Settings) -> AsyncIterator[Following]:
    for chat in (ALICE, DESK):
        store.chats.ensure(chat, "private" if chat > 0 else "group")
    parser = ParseThread()
    async with Fetcher(FetchPolicy.from_settings(config.monitor)) as fetcher:
        pages = PageReader(fetcher, parser)
        service = FollowService(store, pages, TrackService(store.articles, pages, config), config)
        try:
            yield Following(service, store, web)
        finally:
            parser.close()


@pytest.fixture
async def following(store: Storage, articles: ArticleServer) -> AsyncIterator[Following]:
    async for f in _following(store, articles, settings()):
        yield f


def serve_story(web: ArticleServer, n: int) -> tuple[str, str]:
    path = f"/world/2026/dec/07/story-number-{n}-of-the-day"
    web.set_page(path, article_html(f"Story {n} of the day"))
    return web.url(path), f"Story {n} of the day"


def later(minutes: float, start: datetime | None = None) -> datetime:
    return (start or utcnow()) + timedelta(minutes=minutes)


async def test_a_growing_feed_brings_new_articles_not_the_backlog_and_releases_them_after_n_days(
    following: Following,
) -> None:
    web = following.web
    items = [serve_story(web, n) for n in (1, 2)]
    web.set_page("/world/rss.xml", rss("World news", items), content_type=RSS_TYPE, etag=True)
    result = await following.service.follow(ALICE, FollowArgs(web.url("/world/rss.xml"), days=3))
    assert isinstance(result, FollowStarted)
    assert follow_reply(result) == (
        f'📡 Following F1: <a href="{web.url("/world/rss.xml")}">World news</a> · it lists 2 articles now.\n'
        "Those are skipped; every article that appears from now on is tracked here for 3 days, then let go "
        "quietly. I look at it every few minutes. /list shows follows, /unfollow 1 stops it."
    )
    assert following.subscriptions(ALICE) == {}  # the backlog is not tracked

    start = utcnow()
    assert await following.service.poll_once(later(11, start)) == 0  # unchanged: a 304
    assert web.last_headers("/world/rss.xml")["If-None-Match"]  # type: ignore[index]

    items.insert(0, serve_story(web, 3))
    web.set_page("/world/rss.xml", rss("World news", items), content_type=RSS_TYPE, etag=True)
    assert await following.service.poll_once(later(22, start)) == 1
    follow_id = following.store.follows.listing(ALICE)[0]
    assert follow_id.articles == 1
    assert list(following.subscriptions(ALICE)) == ["world/2026/dec/07/story-number-3-of-the-day"]

    # Still there the day before it ends, gone (quietly) after three days.
    await following.service.poll_once(later(22 + 2 * 24 * 60, start))
    assert len(following.subscriptions(ALICE)) == 1
    await following.service.poll_once(later(23 + 3 * 24 * 60, start))
    assert following.subscriptions(ALICE) == {}
    assert following.told == []


async def test_a_chats_own_track_keeps_an_article_its_follow_would_release(following: Following) -> None:
    web = following.web
    web.set_page("/f.xml", atom("Desk", []), content_type=ATOM_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/f.xml"), days=1))
    url, title = serve_story(web, 9)
    web.set_page("/f.xml", atom("Desk", [(url, title)]), content_type=ATOM_TYPE)
    start = utcnow()
    assert await following.service.poll_once(later(11, start)) == 1
    tracked = await following.service.tracker.track(ALICE, url)
    assert not isinstance(tracked, type(None)) and getattr(tracked, "already", False)
    await following.service.poll_once(later(2 * 24 * 60, start))
    assert following.subscriptions(ALICE) == {"world/2026/dec/07/story-number-9-of-the-day": None}


async def test_one_fetch_per_feed_however_many_chats_and_processes_follow_it(following: Following) -> None:
    web = following.web
    web.set_page("/f.xml", rss("Shared", []), content_type=RSS_TYPE)
    for chat in (ALICE, DESK):
        assert isinstance(await following.service.follow(chat, FollowArgs(web.url("/f.xml"))), FollowStarted)
    before = web.hits("/f.xml")
    web.set_page("/f.xml", rss("Shared", [serve_story(web, 4)]), content_type=RSS_TYPE)
    # A second process on the same database (run beside a worker) polls at the same moment.
    s = following.service
    other = FollowService(s.store, s.pages, s.tracker, s.settings)
    when = later(11)
    assert sorted(await asyncio.gather(s.poll_once(when), other.poll_once(when))) == [0, 2]
    assert web.hits("/f.xml") == before + 1
    assert len(following.subscriptions(ALICE)) == len(following.subscriptions(DESK)) == 1


async def test_a_section_page_with_no_feed_is_followed_by_its_article_links(following: Following) -> None:
    web = following.web
    links = [serve_story(web, n) for n in (1, 2)]
    web.set_page("/world/", section_page("World | Example", [(u.split(":", 2)[2][5:], t) for u, t in links]))
    result = await following.service.follow(ALICE, FollowArgs(web.url("/world/")))
    assert isinstance(result, FollowStarted) and result.from_page
    assert follow_reply(result).startswith(
        f'📡 Following F1: <a href="{web.url("/world/")}">World | Example</a> · it links to 2 articles now.'
    )
    new = serve_story(web, 5)
    web.set_page("/world/", section_page("World | Example", [*links, new]))
    assert await following.service.poll_once(later(11)) == 1
    assert list(following.subscriptions(ALICE)) == ["world/2026/dec/07/story-number-5-of-the-day"]


async def test_a_page_that_names_its_feed_is_followed_through_the_feed(following: Following) -> None:
    web = following.web
    web.set_page("/world/rss.xml", rss("World feed", [serve_story(web, 1)]), content_type=RSS_TYPE)
    web.set_page("/world/", section_page("World page", [], feed="/world/rss.xml"))
    result = await following.service.follow(ALICE, FollowArgs(web.url("/world/")))
    assert isinstance(result, FollowStarted)
    assert (result.url, result.title, result.listed, result.from_page) == (
        web.url("/world/rss.xml"),
        "World feed",
        1,
        False,
    )


async def test_a_feed_that_turns_into_html_backs_off_and_each_chat_is_told_once(following: Following) -> None:
    web = following.web
    web.set_page("/f.xml", rss("Flaky", []), content_type=RSS_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/f.xml")))
    web.set_page("/f.xml", "<!doctype html><html><body><h1>We moved!</h1></body></html>")
    start = utcnow()
    hits = web.hits("/f.xml")
    await following.service.poll_once(later(11, start))  # failure 1: next in 20 min
    await following.service.poll_once(later(21, start))  # not due yet
    assert web.hits("/f.xml") == hits + 1
    await following.service.poll_once(later(32, start))  # failure 2: told
    await following.service.poll_once(later(200, start))  # failure 3: not told again
    assert web.hits("/f.xml") == hits + 3
    assert following.told == [
        (
            ALICE,
            f'⚠️ I can\'t read follow F1, <a href="{web.url("/f.xml")}">Flaky</a>: it no longer serves a feed. '
            "I'll keep trying, less often; the articles it brought are still tracked.",
        )
    ]
    await following.service.unfollow(ALICE, 1)
    assert following.told == []  # a notice not yet sent about a follow that is gone is dropped


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>cut',
            RSS_TYPE,
            "I can't follow that: it is not a feed, names no feed, and links to no articles I recognise.",
        ),
        (
            "<!doctype html><html><body><p>Nothing here</p></body></html>",
            "text/html",
            "I can't follow that: it is not a feed, names no feed, and links to no articles I recognise.",
        ),
        ("%PDF-1.4", "application/pdf", "I can't follow that: "),
    ],
    ids=["malformed-feed", "page-without-articles", "pdf"],
)
async def test_what_cannot_be_followed_is_refused_with_a_reason(
    following: Following, body: str, content_type: str, expected: str
) -> None:
    following.web.set_page("/x", body, content_type=content_type)
    result = await following.service.follow(ALICE, FollowArgs(following.web.url("/x")))
    assert isinstance(result, FollowRefused)
    assert follow_reply(result).startswith(expected)
    assert following.store.follows.count(ALICE) == 0


async def test_feed_urls_at_private_addresses_are_refused_like_articles(
    store: Storage, articles: ArticleServer
) -> None:
    config = with_overrides(
        settings(), monitor={"allow_private_addresses": False, "allowed_ports": (articles.port,)}
    )
    async for following in _following(store, articles, config):
        articles.set_page("/f.xml", rss("Inside", []), content_type=RSS_TYPE)
        port = articles.port
        for url in (
            articles.url("/f.xml"),
            f"http://2130706433:{port}/f.xml",
            f"http://[::ffff:127.0.0.1]:{port}/f.xml",
        ):
            result = await following.service.follow(ALICE, FollowArgs(url))
            assert isinstance(result, FollowRefused), url
            assert "private" in follow_reply(result) or "isn't allowed" in follow_reply(result), follow_reply(
                result
            )
        assert articles.hits("/f.xml") == 0


async def test_caps_on_follows_and_days_are_clear(store: Storage, articles: ArticleServer) -> None:
    async for following in _following(store, articles, settings(max_follows_per_chat=1, follow_max_days=10)):
        articles.set_page("/a.xml", rss("A", []), content_type=RSS_TYPE)
        articles.set_page("/b.xml", rss("B", []), content_type=RSS_TYPE)
        too_long = await following.service.follow(ALICE, FollowArgs(articles.url("/a.xml"), days=11))
        assert follow_reply(too_long) == (  # type: ignore[arg-type]
            "A follow keeps each article from 1 to 10 days.\n"
            "Send a feed or a section page after the command, like this:\n"
            "/follow https://example.com/world/rss.xml 7 days\n"
            "(7 days is how long each new article is tracked; /follow URL all also takes what it lists now; "
            "/follow URL words: Putin, sanctions only articles that mention one.)"
        )
        assert isinstance(
            await following.service.follow(ALICE, FollowArgs(articles.url("/a.xml"))), FollowStarted
        )
        full = await following.service.follow(ALICE, FollowArgs(articles.url("/b.xml")))
        assert (
            follow_reply(full)
            == "This chat already follows 1 sources, the most I allow. /unfollow one first."
        )  # type: ignore[arg-type]


async def test_a_feed_of_5000_items_stays_within_the_chats_article_cap(
    store: Storage, articles: ArticleServer
) -> None:
    async for following in _following(store, articles, settings(max_articles_per_chat=5)):
        articles.set_page("/big.xml", rss("Big", []), content_type=RSS_TYPE)
        await following.service.follow(ALICE, FollowArgs(articles.url("/big.xml")))
        serve_big_feed(articles, "/big.xml", 5000, article_html("One of many"))
        assert await following.service.poll_once(later(11)) == 5
        assert store.articles.count_subscriptions(ALICE) == 5
        assert store.follows.listing(ALICE)[0].articles == 5
        assert articles.hits("/big/2026/dec/07/item-number-5-of-many") == 0  # no fetch past the cap
        big = articles.url("/big.xml")
        assert following.told == [
            (
                ALICE,
                f'📡 Follow F1, <a href="{big}">Big</a>, has new articles, but this chat already tracks 5 '
                "articles, the most I allow, so they are skipped. /untrack or /unfollow to make room.",
            )
        ]
        serve_big_feed(articles, "/big.xml", 5010, article_html("One of many"))
        assert await following.service.poll_once(later(22)) == 0
        assert len(following.told) == 1  # told once


async def test_unfollow_releases_what_the_follow_brought_and_keeps_the_chats_own(
    following: Following,
) -> None:
    web = following.web
    web.set_page("/f.xml", rss("F", []), content_type=RSS_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/f.xml")))
    own = serve_story(web, 1)
    await following.service.tracker.track(ALICE, own[0])
    web.set_page("/f.xml", rss("F", [serve_story(web, 2), own]), content_type=RSS_TYPE)
    assert await following.service.poll_once(later(11)) == 1  # the own one was tracked already
    done = await following.service.unfollow(ALICE, 1)
    assert done is not None and done[2] == 1
    assert list(following.subscriptions(ALICE)) == ["world/2026/dec/07/story-number-1-of-the-day"]
    assert await following.service.unfollow(ALICE, 1) is None


async def test_corpus_headlines_in_a_feed_are_tracked_as_they_appear(following: Following) -> None:
    corpus = corpus_or_skip()
    web = following.web
    stories = corpus_stories(corpus)[:4]
    for story, file in stories:
        web.set_page(story.path, file.read_bytes())
    first = [(web.url(s.path), s.headline) for s, _ in stories[:2]]
    web.set_page("/corpus.xml", atom("Corpus", first), content_type=ATOM_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/corpus.xml")))
    grown = [(web.url(s.path), s.headline) for s, _ in stories]
    web.set_page("/corpus.xml", atom("Corpus", grown), content_type=ATOM_TYPE)
    assert await following.service.poll_once(later(11)) == 2
    titles = {row.article.title for row in following.store.articles.tracked(ALICE)}
    assert titles == {s.headline for s, _ in stories[2:]}


async def test_an_edit_names_the_follow_for_its_chat_only_and_every_chat_reads_the_right_versions(
    following: Following,
) -> None:
    web = following.web
    web.set_page("/f.xml", rss("World news", []), content_type=RSS_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/f.xml")))
    url, title = serve_story(web, 7)
    web.set_page("/f.xml", rss("World news", [(url, title)]), content_type=RSS_TYPE)
    assert await following.service.poll_once(later(11)) == 1
    other, _ = serve_story(web, 8)
    for link in (other, url):  # the desk's own /track, as its #2
        await following.service.tracker.track(DESK, link)
    web.set_page("/world/2026/dec/07/story-number-7-of-the-day", putin_v2())
    s = following.service
    article = s.store.articles.lookup(DESK, number=2)
    assert article is not None
    await Checker(s.store, s.pages, s.settings.monitor).check(article.article, later(12))
    alice, desk = (s.store.outbox.deliveries(chat)[0] for chat in (ALICE, DESK))
    assert alice.text.endswith("\n📡 via follow F1: World news") and "v1 → v2" in alice.text
    assert "via follow" not in desk.text and "v1 → v2" in desk.text and "/diff_2" in desk.text


async def test_follow_all_also_tracks_what_the_source_lists_now(
    store: Storage, articles: ArticleServer
) -> None:
    async for following in _following(store, articles, settings(max_articles_per_chat=2)):
        items = [serve_story(articles, n) for n in (1, 2, 3)]
        articles.set_page("/f.xml", rss("Backlog", items), content_type=RSS_TYPE)
        result = await following.service.follow(
            ALICE, FollowArgs(articles.url("/f.xml"), days=2, backlog=True)
        )
        assert isinstance(result, FollowStarted)
        assert follow_reply(result) == (
            f'📡 Following F1: <a href="{articles.url("/f.xml")}">Backlog</a> · it lists 3 articles now.\n'
            "I track 2 of them now, each for 2 days. I look at it every few minutes. /list shows follows, "
            "/unfollow 1 stops it."
        )
        assert store.follows.listing(ALICE)[0].articles == 2  # the chat's cap: the third is skipped
        assert articles.hits("/world/2026/dec/07/story-number-3-of-the-day") == 0


OTHER_TEXT = [
    "Markets in Asia rose on Monday after a week of losses, led by technology shares in Tokyo.",
    "Analysts said the rally was fragile and depended on figures due from the US on Friday.",
]


async def test_a_follow_with_watchwords_takes_only_articles_that_mention_one(following: Following) -> None:
    """By the feed's headline or summary when they say so, else by the article's own headline
    and text as first read (fetched once); the subscriptions carry the words."""
    web = following.web
    web.set_page("/f.xml", rss("World news", []), content_type=RSS_TYPE)
    result = await following.service.follow(
        ALICE, FollowArgs(web.url("/f.xml"), words=Watchwords("", ("hollande", "Kremlin"), True))
    )
    assert isinstance(result, FollowStarted)
    assert follow_reply(result).endswith(
        "\n🔎 Watchwords: <b>hollande</b>, <b>Kremlin</b>. I track only its articles whose headline or text "
        "contains one, and post only edits whose changed words contain one; the others stay in /history."
    )
    in_title = "/world/2026/dec/07/kremlin-says-no-in-title"  # the feed's headline says it
    in_text = "/world/2026/dec/07/putin-story-says-it-in-text"  # only the article's text does
    neither = "/business/2026/dec/07/markets-rise-in-asia-today"
    web.set_page(in_title, article_html("Kremlin says no", OTHER_TEXT))
    web.set_page(in_text, article_html())  # "François Hollande" in its first paragraph
    web.set_page(neither, article_html("Markets rise in Asia", OTHER_TEXT))
    listed = [
        (web.url(in_title), "Kremlin says no"),
        (web.url(in_text), "Putin postpones Paris talks"),
        (web.url(neither), "Markets rise in Asia"),
    ]
    web.set_page("/f.xml", rss("World news", listed), content_type=RSS_TYPE)
    assert await following.service.poll_once(later(11)) == 2
    assert sorted(following.subscriptions(ALICE)) == sorted([in_text[1:], in_title[1:]])
    assert web.hits(neither) == 1  # read once to decide, not tracked
    assert web.hits(in_text) == 1  # read once: decided and tracked from the same read
    for row in following.store.articles.tracked(ALICE):
        sub = following.store.articles.audience(row.article.id)  # type: ignore[arg-type]
        assert [s.watchwords for s, _chat in sub] == [["hollande", "Kremlin"]]
    assert following.store.follows.listing(ALICE)[0].watchwords == ("hollande", "Kremlin")


async def test_follow_watchwords_that_cannot_be_kept_are_refused_before_any_fetch(
    following: Following,
) -> None:
    web = following.web
    web.set_page("/f.xml", rss("World news", []), content_type=RSS_TYPE)
    refused = await following.service.follow(ALICE, parse_follow_args([web.url("/f.xml"), "words:"]))
    assert follow_reply(refused) == (  # type: ignore[arg-type]
        "Put the words after “words:”, separated by commas, like this:\n"
        "/follow https://example.com/world/rss.xml words: Putin, sanctions"
    )
    assert web.hits("/f.xml") == 0


async def test_a_feeds_amp_link_is_the_article_the_chat_tracked_by_hand(following: Following) -> None:
    """One article, one identity: the feed lists the AMP page, whose canonical link names the
    article the chat pasted; it stays the chat's own (#1), not a second, followed entry."""
    web = following.web
    story = "/world/2026/dec/07/putin-postpones-paris-talks"
    web.set_page(story, with_canonical(article_html(), web.url(story)))
    web.set_page(f"{story}/amp", with_canonical(article_html(most_read=()), story))
    own = await following.service.tracker.track(ALICE, web.url(story))
    assert not isinstance(own, type(None))
    web.set_page("/f.xml", rss("World news", []), content_type=RSS_TYPE)
    await following.service.follow(ALICE, FollowArgs(web.url("/f.xml")))
    web.set_page("/f.xml", rss("World news", [(web.url(f"{story}/amp"), "Putin")]), content_type=RSS_TYPE)
    assert await following.service.poll_once(later(11)) == 0
    assert following.subscriptions(ALICE) == {story[1:]: None}


async def test_following_again_with_words_replaces_the_follows_words(following: Following) -> None:
    web = following.web
    web.set_page("/f.xml", rss("World news", []), content_type=RSS_TYPE)
    await following.service.follow(ALICE, parse_follow_args([web.url("/f.xml"), "words:", "Putin"]))
    again = await following.service.follow(ALICE, parse_follow_args([web.url("/f.xml"), "words:", "Kremlin"]))
    assert follow_reply(again) == (  # type: ignore[arg-type]
        f'This chat already follows that as F1: <a href="{web.url("/f.xml")}">World news</a>\n'
        "🔎 Watchwords: <b>Kremlin</b>. I track only its articles whose headline or text contains one, "
        "and post only edits whose changed words contain one; the others stay in /history."
    )
    plain = await following.service.follow(ALICE, parse_follow_args([web.url("/f.xml")]))
    assert isinstance(plain, FollowStarted) and plain.words == ("Kremlin",)  # a plain /follow keeps them
    assert following.store.follows.listing(ALICE)[0].watchwords == ("Kremlin",)
