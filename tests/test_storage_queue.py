"""The check queue: what is due, claimed under a lease, per-site limits
(SQLite and a real PostgreSQL server: the same behaviour on both)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.models import Article, ArticleState, utcnow
from bot.storage.store import Storage
from tests.storage_rows import track_article

LEASE = timedelta(minutes=5)


def claim_due(store: Storage, now: datetime) -> tuple[list[Article], bool]:
    """What is due now, claimed under LEASE, and whether the queue was drained."""
    claim = store.queue.claim(now, now, 10, LEASE)
    return [article for article, _due in claim.articles], claim.drained


def next_due(store: Storage, before: datetime) -> datetime | None:
    """When the earliest article someone reads falls due, as a claim at ``before`` (when
    nothing is due yet) reports it."""
    claim = store.queue.claim(before, before, 10, LEASE)
    assert claim.articles == [] and claim.drained
    return claim.next_due


def test_claim_due_leases_articles(store: Storage) -> None:
    now = utcnow()
    result = track_article(store, 1, now=now - timedelta(hours=1))
    due, drained = claim_due(store, now)
    assert [a.id for a in due] == [result.article.id] and drained
    assert claim_due(store, now) == ([], True)
    store.queue.update_article(result.article.id, state=ArticleState.GONE, next_check_at=now)
    assert claim_due(store, now) == ([], True)


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
    assert next_due(store, now - timedelta(hours=2)) == store.articles.get(read).next_check_at
    due, drained = claim_due(store, now)
    assert [a.id for a in due] == [read] and drained
    assert next_due(store, now) == now + LEASE  # the lease, nothing else
    # Tracked again, each is due at once (the dormant one woken).
    store.chats.resume(3, "private", "alice", lambda changes: ("", ""))  # the chat is back
    track_article(store, 2, "example.com/untracked")
    woken = track_article(store, 1, "example.com/dormant", now=now)
    assert woken.article.state == ArticleState.ACTIVE and woken.article.woken_at == now
    due, _ = claim_due(store, now)
    assert sorted(a.id for a in due) == sorted([untracked, blocked, dormant])


def test_claims_keep_to_the_per_site_limit(store: Storage) -> None:
    now = utcnow()
    for i in range(5):
        track_article(store, 1, f"example.com/{i}", now=now - timedelta(hours=1, minutes=i))
    other = track_article(store, 1, "example.org/x", now=now - timedelta(minutes=30))
    store.queue.update_article(other.article.id, site="example.org")
    lease = LEASE
    claim = store.queue.claim(now, now, 3, lease, {"example.com": 1}, per_site=2)
    # Oldest first, one more from the busy site, and the rest of the rows left to others.
    assert [a.site for a, _due in claim.articles] == ["example.com"] and not claim.drained
    claim = store.queue.claim(now, now, 3, lease, {"example.com": 2}, per_site=2)
    assert [a.id for a, _due in claim.articles] == [other.article.id] and claim.drained
    # What was skipped stays due for whoever has room.
    assert len(claim_due(store, now)[0]) == 4
