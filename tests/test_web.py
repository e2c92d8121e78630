"""The web server over a real database: Atom feeds checked by feedparser, conditional GET,
who may see what (tokens, revocation, public articles), the cache (queries counted on the
engine), and an outlet's record page. On SQLite and PostgreSQL (conftest's ``store``)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from aiohttp import ClientSession
from multidict import CIMultiDict
from sqlalchemy import text

from bot.core.extract import Snapshot
from bot.storage.engine import make_engine
from bot.storage.models import utcnow
from bot.storage.schema import upgrade_schema
from bot.storage.store import Storage
from bot.storage.web import Reader
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V1, PUTIN_V2
from tests.test_core_record import BASE, EDITS
from tests.test_migrations import insert_rows, make_legacy_database
from tests.web_history import START, QueryCounter, add_history, add_version, base_url, serving

ALICE, BOB = 1001, 1002
URL = "https://www.theguardian.com/world/2016/oct/11/putin-paris-visit"
V1 = Snapshot(PUTIN_V1, (PUTIN_P1_V1, *PUTIN_REST))
V2 = Snapshot(PUTIN_V2, (PUTIN_P1_V2, *PUTIN_REST))
V3 = Snapshot(PUTIN_V2, (PUTIN_P1_V2, *PUTIN_REST[:2], PUTIN_REST[3]))  # Peskov's paragraph removed
V4 = Snapshot(PUTIN_V2, (PUTIN_P1_V2, *PUTIN_REST[:2]))


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


async def get(http: ClientSession, url: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with http.get(url, headers=headers) as answer:
        return answer.status, CIMultiDict(answer.headers), await answer.read()


def putin(store: Storage, chat: int = ALICE) -> int:
    return add_history(store, chat, URL, [V1, V2, V3])


async def test_article_feed_is_valid_atom_with_ids_that_survive_a_restart(
    store: Storage, http: ClientSession
) -> None:
    article = putin(store)
    token = store.chats.web_token(ALICE)
    async with serving(store, public_url="https://redline.example.org") as server:
        status, headers, body = await get(http, f"{base_url(server)}/c/{token}/a/{article}/feed.atom")
    assert status == 200 and headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == f"Redline: changes to “{PUTIN_V2}” (theguardian.com)"
    page = f"https://redline.example.org/c/{token}/a/{article}"
    assert feed.feed.link == page
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [page + "/feed.atom"]
    v2_at, v3_at = START + timedelta(hours=3), START + timedelta(hours=6)
    assert feed.feed.updated_parsed[:6] == v3_at.timetuple()[:6]
    first, second = feed.entries  # newest first: v3, then v2
    assert [e.link for e in feed.entries] == [page + "#v3", page + "#v2"]
    assert (first.updated_parsed[:6], second.updated_parsed[:6]) == (
        v3_at.timetuple()[:6],
        v2_at.timetuple()[:6],
    )
    assert first.title == f"1 paragraph removed: {PUTIN_V2}"
    assert second.title == f"Headline changed, 1 paragraph edited: {PUTIN_V2}"
    content = second.content[0].value
    assert '<p class="label">Headline changed</p>' in content
    assert "<del>postpones</del>" in content and "<ins>cancels</ins>" in content
    assert "¶1 edited" in content and "Peskov" not in content  # the changes only
    assert "<del>" + PUTIN_REST[2].split(",")[0] in first.content[0].value
    ids = [e.id for e in feed.entries]
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", i) for i in ids) and len(set(ids)) == 2

    # Another process, a new token, a public address: the same entries keep their ids.
    store.chats.replace_web_token(ALICE)
    async with serving(store, public_articles=True) as again:
        _, _, public = await get(http, f"{base_url(again)}/a/{article}/feed.atom")
    assert [e.id for e in feedparser.parse(public).entries] == ids


async def test_chat_feed_lists_the_newest_edits_of_everything_the_chat_tracks(
    store: Storage, http: ClientSession
) -> None:
    putin(store)
    other = add_history(
        store, ALICE, "https://example.com/storm", [BASE, EDITS["headline"]], start=START + timedelta(hours=2)
    )
    add_history(store, BOB, "https://example.com/elsewhere", [BASE, EDITS["quote"]])  # not Alice's
    token = store.chats.web_token(ALICE)
    async with serving(store) as server:
        status, _, body = await get(http, f"{base_url(server)}/c/{token}/feed.atom")
    assert status == 200
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Redline: changes to the articles this chat tracks"
    assert [(e.title, e.link.split("/c/")[1]) for e in feed.entries] == [
        (f"1 paragraph removed: {PUTIN_V2}", f"{token}/a/1#v3"),
        ("Headline changed: Storm shuts coast road", f"{token}/a/{other}#v2"),
        (f"Headline changed, 1 paragraph edited: {PUTIN_V2}", f"{token}/a/1#v2"),
    ]
    # the same version has the same entry in the article's own feed
    async with serving(store) as server:
        _, _, own = await get(http, f"{base_url(server)}/c/{token}/a/{other}/feed.atom")
    assert feedparser.parse(own).entries[0].id == feed.entries[1].id


async def test_conditional_get_answers_304_until_a_new_version(store: Storage, http: ClientSession) -> None:
    article = putin(store)
    token = store.chats.web_token(ALICE)
    async with serving(store) as server:
        for path in (f"/c/{token}/a/{article}", f"/c/{token}/a/{article}/feed.atom", f"/c/{token}/feed.atom"):
            url = base_url(server) + path
            status, headers, body = await get(http, url)
            assert status == 200 and body
            etag, modified = headers["ETag"], headers["Last-Modified"]
            async with http.head(url) as head:  # HEAD: the same headers, no body
                assert (head.status, head.headers["ETag"], await head.read()) == (200, etag, b"")
            assert modified == "Fri, 20 Nov 2026 14:00:00 GMT"  # v3, when it was stored
            assert (await get(http, url, **{"If-None-Match": etag}))[::2] == (304, b"")
            assert (await get(http, url, **{"If-Modified-Since": modified}))[::2] == (304, b"")
            assert (await get(http, url, **{"If-None-Match": '"other"', "If-Modified-Since": modified}))[
                0
            ] == 200
            earlier = "Fri, 20 Nov 2026 13:59:59 GMT"
            assert (await get(http, url, **{"If-Modified-Since": earlier}))[0] == 200

        add_version(store, article, V3, V4, START + timedelta(hours=9))
        server.version_stored(article)
        url = f"{base_url(server)}/c/{token}/a/{article}"
        status, headers, body = await get(http, url, **{"If-None-Match": etag, "If-Modified-Since": modified})
    assert status == 200 and headers["ETag"] != etag
    assert headers["Last-Modified"] == "Fri, 20 Nov 2026 17:00:00 GMT"
    assert b"v3 \xe2\x86\x92 v4" in body


async def test_a_page_read_a_hundred_times_costs_one_database_read(
    store: Storage, http: ClientSession
) -> None:
    article = putin(store)
    token = store.chats.web_token(ALICE)
    clock = [0.0]
    counter = QueryCounter(store)
    try:
        async with serving(store, cache_seconds=60) as server:
            server.clock = lambda: clock[0]
            url = f"{base_url(server)}/c/{token}/a/{article}"
            # 100 at once on a cold cache: one fill, shared
            answers = await asyncio.gather(*(get(http, url) for _ in range(100)))
            assert {status for status, _, _ in answers} == {200}
            first = counter.count
            assert first > 0
            for _ in range(100):  # and 100 more, one after another
                assert (await get(http, url))[0] == 200
            assert counter.count == first

            # a new version this process stored: read again at once, once
            add_version(store, article, V3, V4, START + timedelta(hours=9))
            server.version_stored(article)
            stored = counter.count
            bodies = [(await get(http, url))[2] for _ in range(100)]
            assert all(b"v3 \xe2\x86\x92 v4" in b for b in bodies)
            assert 0 < counter.count - stored <= first

            # one another process stored shows when the entry expires
            add_version(store, article, V4, V1, START + timedelta(hours=12))
            before = counter.count
            assert b"v4 \xe2\x86\x92 v5" not in (await get(http, url))[2]
            assert counter.count == before
            clock[0] += 61
            assert b"v4 \xe2\x86\x92 v5" in (await get(http, url))[2]
            assert counter.count > before
    finally:
        counter.close()


async def test_who_may_see_what(store: Storage, http: ClientSession) -> None:
    article = putin(store)
    bobs = add_history(
        store, BOB, "https://example.com/storm", [BASE, EDITS["headline"]], chat_title="Bob's desk"
    )
    alice, bob = store.chats.web_token(ALICE), store.chats.web_token(BOB)
    async with serving(store) as server:
        root = base_url(server)
        _, _, not_found = await get(http, f"{root}/nowhere")
        for path in [
            f"/a/{article}",  # public addresses: off unless web.public_articles
            f"/a/{article}/feed.atom",
            "/s/theguardian.com",
            f"/c/{bob}/a/{article}",  # Bob's token, an article only Alice tracks
            f"/c/{bob}/a/{article}/feed.atom",
            f"/c/{alice}/a/{bobs}",
            f"/c/{alice}/a/999",  # no such article
            f"/c/{'x' * 32}/a/{article}",  # no such token
            "/c/short/feed.atom",
        ]:
            status, headers, body = await get(http, root + path)
            assert (status, body) == (404, not_found), path
            assert headers["Cache-Control"] == "no-store"
        status, headers, page = await get(http, f"{root}/c/{alice}/a/{article}")
        assert status == 200
        assert headers["Cache-Control"] == "private, no-cache"
        assert (
            headers["Referrer-Policy"] == "no-referrer"
            and "script-src" not in headers["Content-Security-Policy"]
        )
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        # nothing on the page says who tracks it: no chat id, title, list number or other token
        for secret in (str(ALICE), str(BOB), "Newsroom desk", "Bob's desk", "#1 ", "#1<", bob):
            assert secret.encode() not in page

        # /feed revoke: the old token answers 404 at once, the new one works
        new = store.chats.replace_web_token(ALICE)
        server.chat_changed(ALICE)
        assert (await get(http, f"{root}/c/{alice}/a/{article}"))[::2] == (404, not_found)
        assert (await get(http, f"{root}/c/{alice}/feed.atom"))[::2] == (404, not_found)
        assert (await get(http, f"{root}/c/{new}/a/{article}"))[0] == 200
        assert (await get(http, f"{root}/c/{new}/feed.atom"))[0] == 200

    async with serving(store, public_articles=True) as server:
        status, headers, page = await get(http, f"{base_url(server)}/a/{article}")
        assert status == 200 and headers["Cache-Control"] == "public, no-cache"
        assert (await get(http, f"{base_url(server)}/a/{bobs}/feed.atom"))[0] == 200
        assert (await get(http, f"{base_url(server)}/c/{alice}/a/{article}"))[0] == 404  # revoked stays so


def _cells(page: str, label: str) -> list[str]:
    row = re.search(rf"<tr><th>{re.escape(label)}</th>(.*?)</tr>", page)
    assert row is not None, label
    return re.findall(r'<td class="n">(.*?)</td>', row.group(1))


async def test_an_outlets_record_links_every_figure_to_the_articles_behind_it(
    store: Storage, http: ClientSession
) -> None:
    now = datetime.now(UTC)
    made = {}
    for n, (name, days) in enumerate(
        [("headline", 2), ("quote", 3), ("name and number", 20), ("declared", 1), ("headline", 40), (None, 0)]
    ):
        versions = [BASE] if name is None else [BASE, EDITS[name]]
        start = now - timedelta(days=days, hours=1)
        made[n] = add_history(
            store, ALICE, f"https://example.com/story-{n}", versions, start=start, step=timedelta(hours=1)
        )
    add_history(
        store,
        BOB,
        "https://example.com/bobs",
        [BASE, EDITS["quote"]],
        start=now - timedelta(days=1, hours=1),
        step=timedelta(hours=1),
    )
    token = store.chats.web_token(ALICE)
    async with serving(store, public_articles=True) as server:
        status, _, body = await get(http, f"{base_url(server)}/c/{token}/s/example.com")
        _, _, public = await get(http, f"{base_url(server)}/s/example.com")
    assert status == 200
    page = body.decode()
    assert "Of the 6 articles from example.com Redline reads" in page  # Alice's only
    assert "Of the 7 articles from example.com Redline reads" in public.decode()  # everyone's
    link = lambda days, key, count: f'<a href="#d{days}-{key}">{count}</a>'  # noqa: E731
    assert _cells(page, "Articles edited") == [link(7, "edited", 3), link(30, "edited", 4)]
    assert _cells(page, "Edits") == ["3", "4"]
    assert _cells(page, "Headline changed") == [link(7, "headline", 1), link(30, "headline", 1)]
    assert _cells(page, "A quote removed") == [link(7, "quote-removed", 1), link(30, "quote-removed", 1)]
    assert _cells(page, "A name removed") == ["0", link(30, "name", 1)]
    assert _cells(page, "A number changed or removed") == ["0", link(30, "number", 1)]
    assert _cells(page, "No correction note") == [link(7, "undeclared", 2), link(30, "undeclared", 3)]

    def behind(anchor: str) -> list[str]:
        section = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
        assert section is not None, anchor
        return re.findall(r'<a href="[^"]*/c/' + token + r'/a/(\d+)(?:#v\d+)?">', section.group(1))

    ids = {n: str(i) for n, i in made.items()}
    assert behind("d7-edited") == [ids[1], ids[0], ids[3]]  # first edited first
    assert behind("d30-edited") == [ids[2], ids[1], ids[0], ids[3]]
    assert behind("d7-headline") == [ids[0]]
    assert behind("d30-name") == behind("d30-number") == [ids[2]]
    assert behind("d30-undeclared") == [ids[0], ids[1], ids[2]]  # newest first
    assert f"/a/{made[4]}" not in page and "d7-name" not in page  # 40 days ago; no empty lists


def test_an_upgrade_gives_every_existing_chat_a_token_of_its_own(database_url: str) -> None:
    """Migration 0009 on a database with chats (Alice, tracking one article, and a group): each
    gets its own token, in SQL (so `redline migrate --sql` prints it), and it opens her pages."""
    engine = make_engine(database_url)
    try:
        make_legacy_database(engine, "0001")
        insert_rows(engine, "http://127.0.0.1:9/p")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO chat (id, type, title, sensitivity, blocked, created_at) "
                    "VALUES (-5, 'group', 'Desk', 'substantive', :no, :now)"
                ),
                {"no": False, "now": utcnow()},
            )
        upgrade_schema(engine)
        with engine.connect() as conn:
            group, alice = (t for (t,) in conn.execute(text("SELECT web_token FROM chat ORDER BY id")))
        assert group != alice and all(re.fullmatch(r"[0-9a-f]{48,64}", t) for t in (group, alice))
        reads = Storage(engine).web
        assert reads.reader(alice) == Reader(1001, frozenset({1}))
        assert reads.reader(group) == Reader(-5, frozenset())
        assert reads.reader("not-a-token-of-anyone") is None
    finally:
        engine.dispose()


def test_a_group_that_becomes_a_supergroup_keeps_its_feed_address(store: Storage) -> None:
    article = add_history(store, -100, URL, [V1, V2], chat_title="Desk")
    token = store.chats.web_token(-100)
    store.chats.migrate(-100, -1000100)
    assert store.chats.web_token(-1000100) == token
    assert store.web.reader(token) == Reader(-1000100, frozenset({article}))
    # a supergroup Redline already knew keeps its own
    store.chats.ensure(-1000200, "supergroup", "Known")
    known = store.chats.web_token(-1000200)
    add_history(store, -200, "https://example.com/other", [BASE], chat_title="Old")
    store.chats.migrate(-200, -1000200)
    assert store.chats.web_token(-1000200) == known


@pytest.mark.parametrize(
    ("state", "line"),
    [
        ("active", "Last checked 2026-11-20 14:00 UTC"),
        ("failing", "Last checked 2026-11-20 14:00 UTC"),
        (
            "dormant",
            "Last checked 2026-11-20 14:00 UTC; won't be checked again "
            "(unchanged for a long time; tracking it again wakes it)",
        ),
        ("gone", "Last checked 2026-11-20 14:00 UTC; won't be checked again (the page is gone)"),
    ],
)
async def test_history_page_says_whether_the_article_is_still_checked(
    store: Storage, http: ClientSession, state: str, line: str
) -> None:
    article = putin(store)
    store.queue.update_article(article, state=state)
    async with serving(store, public_articles=True) as server:
        status, _, body = await get(http, f"{base_url(server)}/a/{article}")
    assert status == 200
    assert re.findall(r"<li>(Last checked[^<]*)</li>", body.decode().replace("&#x27;", "'")) == [line]


def test_what_the_web_reads_never_waits_for_the_write_lock(tmp_path: Path) -> None:
    """SQLite: pages, feeds and /history's link are reads; none waits behind a check's write."""
    path = tmp_path / "redline.db"
    store = Storage(make_engine(f"sqlite:///{path}"))
    store.upgrade_schema()
    article = putin(store)
    token = store.chats.web_token(ALICE)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long write would
        with ThreadPoolExecutor(1) as pool:
            reads = pool.submit(
                lambda: (
                    store.chats.web_token(ALICE),
                    store.web.reader(token),
                    len(store.web.history(article)[1]),  # type: ignore[index]
                    len(store.web.latest_edits({article}, 10)),
                    len(store.web.site_edits("theguardian.com", START, None)[1]),
                )
            )
            assert reads.result(timeout=5) == (token, Reader(ALICE, frozenset({article})), 3, 2, 2)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
        store.engine.dispose()
