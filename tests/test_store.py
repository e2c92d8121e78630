"""The store on SQLite and on a real PostgreSQL server: the same behaviour on both."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

from bot.storage.articles import PageMeta
from bot.storage.engine import make_engine
from bot.storage.models import ArticleState, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage

CONTENT = {"title": "Putin postpones Paris talks", "paragraphs": ["One.", "Two."]}


def track_article(store: Storage, chat_id: int, key: str = "example.com/a", **kw: object):
    store.chats.ensure(chat_id, "private", "alice")
    return store.articles.track(
        chat_id,
        url=f"https://{key}",
        url_key=key,
        site="example.com",
        title="Putin postpones Paris talks",
        content=CONTENT,
        content_hash="h1",
        meta=PageMeta(etag='"e1"'),
        interval=300,
        **kw,
    )


def test_track_numbers_are_per_chat_and_stable(store: Storage) -> None:
    first = track_article(store, 1, "example.com/a")
    second = track_article(store, 1, "example.com/b")
    assert (first.number, second.number, first.already) == (1, 2, False)
    again = track_article(store, 1, "example.com/a")
    assert again.already and again.number == 1
    # Another chat gets its own numbering but shares the article and its versions.
    other = track_article(store, -100, "example.com/b")
    assert other.number == 1 and other.article.id == second.article.id
    assert len(store.articles.versions(second.article.id)) == 1
    # Untracking #1 keeps #2 as #2.
    assert store.articles.untrack(1, 1) is not None
    assert [row.number for row in store.articles.tracked(1)] == [2]
    assert store.articles.untrack(1, 1) is None


def test_version_and_outbox_in_one_transaction(store: Storage) -> None:
    result = track_article(store, 1)
    track_article(store, 2)
    aid = result.article.id
    now = utcnow()
    deliveries = [
        NewDelivery(chat_id=c, kind=DeliveryKind.EDIT, text=f"<b>{c}</b>", plain=str(c)) for c in (1, 2)
    ]
    version = store.articles.store_version(
        aid,
        title="Putin cancels Paris visit",
        content={"title": "Putin cancels Paris visit", "paragraphs": ["One."]},
        content_hash="h2",
        summary="headline changed",
        deliveries=deliveries,
        article_fields={"title": "Putin cancels Paris visit", "last_changed_at": now},
        now=now,
    )
    assert version.number == 2
    assert store.articles.get(aid).title == "Putin cancels Paris visit"
    lease = timedelta(seconds=30)
    claimed = store.outbox.claim_pending(now, 10, claimant="a", lease=lease)
    assert {d.chat_id for d in claimed} == {1, 2}
    assert all(d.status == DeliveryStatus.SENDING and d.claimed_by == "a" for d in claimed)
    # Nothing is handed out twice while its lease runs, to another sender or the same one.
    assert store.outbox.claim_pending(now, 10, claimant="b", lease=lease) == []
    assert store.outbox.claim_pending(now + timedelta(seconds=29), 10, claimant="b", lease=lease) == []
    # A renewed lease holds on; one that ran out (its claimant died) is taken back by anyone.
    store.outbox.renew_leases([claimed[0].id], "a", now + timedelta(seconds=90))
    later = now + timedelta(seconds=31)
    taken = store.outbox.claim_pending(later, 10, claimant="b", lease=lease)
    assert [d.id for d in taken] == [claimed[1].id] and taken[0].claimed_by == "b"
    # Another sender cannot give back or renew rows it does not hold.
    store.outbox.release([claimed[0].id], "b")
    assert store.outbox.claim_pending(later, 10, claimant="b", lease=lease) == []
    for d in (claimed[0], taken[0]):
        store.outbox.finish(d.id, DeliveryStatus.SENT, message_id=7)
    assert store.outbox.claim_pending(now + timedelta(hours=1), 10, claimant="c", lease=lease) == []
    assert {d.status for d in store.outbox.deliveries()} == {DeliveryStatus.SENT}


def test_one_message_per_chat_in_flight(store: Storage) -> None:
    """A chat's second message waits until its first is done, whoever sends it."""
    aid = track_article(store, 1).article.id
    now = utcnow()
    store.outbox.add_notices(aid, [NewDelivery(1, DeliveryKind.GONE, "a", "a")], {}, now)
    store.outbox.add_notices(aid, [NewDelivery(1, DeliveryKind.FAILING, "b", "b")], {}, now)
    first = store.outbox.claim_pending(now, 10, claimant="a")
    assert [d.text for d in first] == ["a"]
    assert store.outbox.claim_pending(now, 10, claimant="b") == []
    store.outbox.finish(first[0].id, DeliveryStatus.SENT)
    assert [d.text for d in store.outbox.claim_pending(now, 10, claimant="b")] == ["b"]


def test_claim_due_leases_articles(store: Storage) -> None:
    now = utcnow()
    result = track_article(store, 1, now=now - timedelta(hours=1))
    due, drained = store.queue.claim_due(now, 10, timedelta(minutes=5))
    assert [a.id for a in due] == [result.article.id] and drained
    assert store.queue.claim_due(now, 10, timedelta(minutes=5)) == ([], True)
    store.queue.update_article(result.article.id, state=ArticleState.GONE, next_check_at=now)
    assert store.queue.claim_due(now, 10, timedelta(minutes=5)) == ([], True)


def test_only_articles_someone_reads_are_due(store: Storage) -> None:
    """Untracked, paused-only, dormant and gone articles are neither claimed nor waited for."""
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    read = track_article(store, 1, "example.com/read", now=hour_ago).article.id
    untracked = track_article(store, 2, "example.com/untracked", now=hour_ago).article.id
    store.articles.untrack(2, 1)
    blocked = track_article(store, 3, "example.com/blocked", now=hour_ago).article.id
    store.chats.pause(3, "bot was blocked by the user")
    dormant = track_article(store, 1, "example.com/dormant", now=hour_ago).article.id
    store.queue.update_article(dormant, state=ArticleState.DORMANT)
    assert store.queue.next_due() == store.articles.get(read).next_check_at
    due, drained = store.queue.claim_due(now, 10, timedelta(minutes=5))
    assert [a.id for a in due] == [read] and drained
    assert store.queue.next_due() == now + timedelta(minutes=5)  # the lease, nothing else
    # Tracked again, each is due at once (the dormant one woken).
    store.chats.resume(3, "private", "alice", lambda changes: ("", ""))  # the chat is back
    track_article(store, 2, "example.com/untracked")
    woken = track_article(store, 1, "example.com/dormant", now=now)
    assert woken.article.state == ArticleState.ACTIVE and woken.article.woken_at == now
    due, _ = store.queue.claim_due(now, 10, timedelta(minutes=5))
    assert sorted(a.id for a in due) == sorted([untracked, blocked, dormant])


def test_claims_keep_to_the_per_site_limit(store: Storage) -> None:
    now = utcnow()
    for i in range(5):
        track_article(store, 1, f"example.com/{i}", now=now - timedelta(hours=1, minutes=i))
    other = track_article(store, 1, "example.org/x", now=now - timedelta(minutes=30))
    store.queue.update_article(other.article.id, site="example.org")
    lease = timedelta(minutes=5)
    due, drained = store.queue.claim_due(now, 3, lease, {"example.com": 1}, per_site=2)
    # Oldest first, one more from the busy site, and the rest of the rows left to others.
    assert [a.site for a in due] == ["example.com"] and not drained
    due, drained = store.queue.claim_due(now, 3, lease, {"example.com": 2}, per_site=2)
    assert [a.id for a in due] == [other.article.id] and drained
    # What was skipped stays due for whoever has room.
    assert len(store.queue.claim_due(now, 10, lease)[0]) == 4


def test_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """SQLite: a read starts a deferred BEGIN, so /list answers while the monitor writes."""
    path = tmp_path / "redline.db"
    store = Storage(make_engine(f"sqlite:///{path}"))
    store.upgrade_schema()
    track_article(store, 1)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long write would
        done = threading.Event()
        rows: list[object] = []
        reader = threading.Thread(target=lambda: (rows.extend(store.articles.tracked(1)), done.set()))
        reader.start()
        assert done.wait(5), "a read waited for the write lock"
        assert len(rows) == 1 and store.queue.next_due() is not None
        writer.execute("ROLLBACK")
        reader.join()
    finally:
        writer.close()
        store.engine.dispose()


def test_paused_chat_costs_nothing_and_comes_back_with_one_digest(store: Storage) -> None:
    result = track_article(store, -1)
    track_article(store, 7)
    aid = result.article.id
    assert store.chats.pause(7, "Forbidden: bot was blocked by the user")
    assert not store.chats.pause(7, "again")  # already paused
    assert [chat.id for _sub, chat in store.articles.audience(aid)] == [-1]
    assert store.chats.paused() == [7]
    # An article only paused chats track is not fetched.
    store.articles.untrack(-1, 1)
    assert store.queue.claim_due(utcnow() + timedelta(hours=1), 10, timedelta(minutes=5))[0] == []
    # Two edits while away; back again: one message naming both versions, then the chat is live.
    for n, at in ((2, utcnow()), (3, utcnow())):
        store.articles.store_version(
            aid, title=f"v{n}", content=CONTENT, content_hash=f"h{n}", summary="", deliveries=[],
            article_fields={"title": f"Title {n}"}, now=at,
        )  # fmt: skip
    # A command to the paused chat does not unpause it by itself.
    store.chats.ensure(7, "private")
    assert store.chats.get(7).paused
    seen: list[list] = []

    def digest(changes: list) -> tuple[str, str]:
        seen.append(changes)
        return "html", "plain"

    changes = store.chats.resume(7, "private", "alice", digest)
    assert changes is not None and [(c.number, c.title, c.old, c.new) for c in changes] == [
        (1, "Title 3", 1, 3)
    ]
    assert store.chats.resume(7, "private", "alice", digest) is None  # not paused any more
    assert len(seen) == 1
    [message] = store.outbox.claim_pending(utcnow(), 10)
    assert (message.chat_id, message.kind, message.text) == (7, DeliveryKind.DIGEST, "html")
    assert [chat.id for _sub, chat in store.articles.audience(aid)] == [7]


def test_migration_merges_into_a_supergroup_that_already_tracks(store: Storage) -> None:
    """The group tracks a (#1) and b (#2); the supergroup already tracks b (#1): the merged
    chat tracks both once, b keeps the supergroup's number, a gets the next free one, and the
    group's unsent message moves along (its duplicate is dropped)."""
    a = track_article(store, -1, "example.com/a").article.id
    b = track_article(store, -1, "example.com/b").article.id
    track_article(store, -1001, "example.com/b")
    store.chats.set_sensitivity(-1, "headline")
    now = utcnow()
    store.outbox.add_notices(a, [NewDelivery(-1, DeliveryKind.GONE, "a gone", "")], {}, now)
    store.outbox.add_notices(b, [NewDelivery(-1, DeliveryKind.GONE, "b gone", "")], {}, now)
    store.outbox.add_notices(b, [NewDelivery(-1001, DeliveryKind.GONE, "b gone", "")], {}, now)
    store.chats.migrate(-1, -1001)
    assert [(r.number, r.article.id) for r in store.articles.tracked(-1001)] == [(1, b), (2, a)]
    assert store.articles.tracked(-1) == [] and store.chats.get(-1) is None
    assert store.chats.get(-1001).sensitivity == "substantive"  # the supergroup's own setting stays
    assert sorted(d.text for d in store.outbox.deliveries(-1001)) == ["a gone", "b gone"]
    assert store.outbox.deliveries(-1) == []
    # A new supergroup takes the group's settings.
    track_article(store, -2, "example.com/c")
    store.chats.set_sensitivity(-2, "headline")
    store.chats.migrate(-2, -1002)
    assert store.chats.get(-1002).sensitivity == "headline" and store.chats.get(-1002).type == "supergroup"
    assert [r.number for r in store.articles.tracked(-1002)] == [1]


def test_processes_starting_together_create_the_schema_once(database_url: str) -> None:
    """`run` and `worker` started by one deploy both create the tables on an empty database:
    neither may fail with "already exists", and the schema works afterwards."""
    starters = 6
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(database_url)  # an engine each, like separate processes
        try:
            barrier.wait()
            Storage(engine).upgrade_schema()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    for _round in range(3):
        threads = [threading.Thread(target=start) for _ in range(starters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    store = Storage(make_engine(database_url))
    try:
        assert track_article(store, 1).number == 1
    finally:
        store.engine.dispose()


def test_concurrent_writers_do_not_lose_updates(store: Storage) -> None:
    """BEGIN IMMEDIATE (SQLite) / row locks (PostgreSQL): parallel tracks all land."""
    errors: list[BaseException] = []

    def worker(chat_id: int) -> None:
        try:
            for i in range(10):
                track_article(store, chat_id, f"example.com/{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for chat_id in range(1, 5):
        assert [r.number for r in store.articles.tracked(chat_id)] == list(range(1, 11))
