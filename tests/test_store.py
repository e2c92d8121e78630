"""The store on SQLite and on a real PostgreSQL server: the same behaviour on both."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.db import make_engine
from bot.models import ArticleState, DeliveryKind, DeliveryStatus, utcnow
from bot.store import NewDelivery, PageMeta, Store

CONTENT = {"title": "Putin postpones Paris talks", "paragraphs": ["One.", "Two."]}


def track_article(store: Store, chat_id: int, key: str = "example.com/a", **kw: object):
    store.ensure_chat(chat_id, "private", "alice")
    return store.track(
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


def test_track_numbers_are_per_chat_and_stable(store: Store) -> None:
    first = track_article(store, 1, "example.com/a")
    second = track_article(store, 1, "example.com/b")
    assert (first.number, second.number, first.already) == (1, 2, False)
    again = track_article(store, 1, "example.com/a")
    assert again.already and again.number == 1
    # Another chat gets its own numbering but shares the article and its versions.
    other = track_article(store, -100, "example.com/b")
    assert other.number == 1 and other.article.id == second.article.id
    assert len(store.versions(second.article.id)) == 1
    # Untracking #1 keeps #2 as #2.
    assert store.untrack(1, 1) is not None
    assert [row.number for row in store.tracked(1)] == [2]
    assert store.untrack(1, 1) is None


def test_version_and_outbox_in_one_transaction(store: Store) -> None:
    result = track_article(store, 1)
    track_article(store, 2)
    aid = result.article.id
    now = utcnow()
    deliveries = [
        NewDelivery(chat_id=c, kind=DeliveryKind.EDIT, text=f"<b>{c}</b>", plain=str(c)) for c in (1, 2)
    ]
    version = store.store_version(
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
    assert store.article(aid).title == "Putin cancels Paris visit"
    claimed = store.claim_pending(now, 10)
    assert {d.chat_id for d in claimed} == {1, 2}
    assert all(d.status == DeliveryStatus.SENDING for d in claimed)
    # Nothing is handed out twice while it is being sent.
    assert store.claim_pending(now, 10) == []
    # A crash while sending puts them back in the queue.
    assert store.recover_interrupted() == 2
    for d in store.claim_pending(now, 10):
        store.finish_delivery(d.id, DeliveryStatus.SENT)
    assert store.claim_pending(now, 10) == []
    assert {d.status for d in store.deliveries()} == {DeliveryStatus.SENT}


def test_claim_due_leases_articles(store: Store) -> None:
    now = utcnow()
    result = track_article(store, 1, now=now - timedelta(hours=1))
    due = store.claim_due(now, 10, timedelta(minutes=5))
    assert [a.id for a in due] == [result.article.id]
    assert store.claim_due(now, 10, timedelta(minutes=5)) == []
    store.update_article(result.article.id, state=ArticleState.GONE, next_check_at=now)
    assert store.claim_due(now, 10, timedelta(minutes=5)) == []


def test_blocked_chat_gets_nothing_and_migration_keeps_subscriptions(store: Store) -> None:
    result = track_article(store, -1)
    track_article(store, 7)
    store.block_chat(7)
    assert [chat.id for _sub, chat in store.audience(result.article.id)] == [-1]
    store.migrate_chat(-1, -1001)
    assert [row.number for row in store.tracked(-1001)] == [1]
    assert store.tracked(-1) == []
    assert store.chat(-1001).type == "supergroup"
    # A blocked chat that writes again is unblocked.
    store.ensure_chat(7, "private")
    assert sorted(chat.id for _sub, chat in store.audience(result.article.id)) == [-1001, 7]


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
            Store(engine).upgrade_schema()
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
    store = Store(make_engine(database_url))
    try:
        assert track_article(store, 1).number == 1
    finally:
        store.engine.dispose()


def test_concurrent_writers_do_not_lose_updates(store: Store) -> None:
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
        assert [r.number for r in store.tracked(chat_id)] == list(range(1, 11))
