"""The outbox: versions and their announcements, claims and leases
(SQLite and a real PostgreSQL server: the same behaviour on both)."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.models import DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from tests.storage_rows import track_article


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
        store.outbox.finish(d.id, DeliveryStatus.SENT, claimant=d.claimed_by, message_id=7)
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
    store.outbox.finish(first[0].id, DeliveryStatus.SENT, claimant=first[0].claimed_by)
    assert [d.text for d in store.outbox.claim_pending(now, 10, claimant="b")] == ["b"]
