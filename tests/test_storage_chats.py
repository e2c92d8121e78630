"""Chats: paused and back with a digest, migrated to a supergroup
(SQLite and a real PostgreSQL server: the same behaviour on both)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.messages import replies
from bot.storage.chats import AwayChange
from bot.storage.engine import read_session, session_scope
from bot.storage.models import DeliveryKind, DeliveryStatus, Follow, Subscription, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.store import Storage
from tests.storage_rows import CONTENT, track_article


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
    later = utcnow() + timedelta(hours=1)
    assert store.queue.claim(later, later, 10, timedelta(minutes=5)).articles == []
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


def away_and_back(store: Storage) -> list[AwayChange] | None:
    """Chat 7 paused three hours ago, an edit two hours ago, a command an hour ago."""
    aid = track_article(store, 7).article.id
    start = utcnow() - timedelta(hours=3)
    store.chats.pause(7, "bot was blocked by the user", now=start)
    store.articles.store_version(
        aid, title="v2", content=CONTENT, content_hash="h2", summary="", deliveries=[],
        article_fields={"title": "Title 2"}, now=start + timedelta(hours=1),
    )  # fmt: skip
    return store.chats.resume(
        7, "private", "alice", lambda _: ("digest", "digest"), now=start + timedelta(hours=2)
    )


def test_a_digest_that_fails_keeps_the_first_absence_for_the_next(store: Storage) -> None:
    """A command resumed a chat the bot still cannot post to: its digest fails and pauses it
    again. The next digest still covers the change made during the first absence (it used
    to start at the failed digest's time and skip it)."""
    first = away_and_back(store)
    assert first is not None and [(c.old, c.new) for c in first] == [(1, 2)]
    [digest] = store.outbox.claim_pending(utcnow(), 10, claimant="a")
    assert store.chats.pause(7, "Forbidden: bot was blocked by the user")  # the digest's refusal
    assert not store.outbox.finish(digest.id, DeliveryStatus.FAILED, claimant="a")  # the pause dropped it
    again = store.chats.resume(7, "private", "alice", lambda _: ("digest", "digest"))
    assert again is not None and [(c.number, c.old, c.new) for c in again] == [(1, 1, 2)]


def test_the_absence_ends_when_something_reaches_the_chat(store: Storage) -> None:
    """Once the digest is delivered, a later pause starts a new absence: the next digest
    does not repeat what the first one said."""
    away_and_back(store)
    [digest] = store.outbox.claim_pending(utcnow(), 10, claimant="a")
    assert store.outbox.finish(digest.id, DeliveryStatus.SENT, claimant="a", message_id=5)
    store.chats.pause(7, "blocked")
    assert store.chats.resume(7, "private", "alice", lambda _: ("digest", "digest")) == []


def test_migration_points_every_pending_message_at_the_merged_numbers(store: Storage) -> None:
    """The group tracks a (#1) and b (#2); the supergroup already tracks b (#1), so a becomes
    #2. Every unsent message moving over names the merged numbers: /diff, /untrack, "#N" in
    a notice, and every article of a digest, not just the first; one renumbering pass, so
    a's 1→2 is not then taken for b's 2→1."""
    a = track_article(store, -1, "example.com/a").article.id
    b = track_article(store, -1, "example.com/b").article.id
    track_article(store, -1001, "example.com/b")
    now = utcnow()
    edit = "✏️ Headline changed · example.com\nv1 → v2 · /diff 2"
    gone = "🚫 Article #1 is gone · example.com\nI've stopped checking it. /untrack 1 to remove it."
    changes = [AwayChange(1, a, "A", 1, 2), AwayChange(2, b, "B", 1, 3)]
    digest, plain = replies.welcome_back(changes)
    store.outbox.add_notices(b, [NewDelivery(-1, DeliveryKind.EDIT, edit, edit)], {}, now)
    store.outbox.add_notices(a, [NewDelivery(-1, DeliveryKind.GONE, gone, gone)], {}, now)
    store.outbox.add_notices(a, [NewDelivery(-1, DeliveryKind.DIGEST, digest, plain)], {}, now)
    store.chats.migrate(-1, -1001)
    assert [(r.number, r.article.id) for r in store.articles.tracked(-1001)] == [(1, b), (2, a)]
    moved = {d.kind: d for d in store.outbox.deliveries(-1001)}
    assert moved[DeliveryKind.EDIT].text.endswith("/diff 1")
    assert moved[DeliveryKind.GONE].text == gone.replace("#1", "#2").replace("/untrack 1", "/untrack 2")
    merged = [AwayChange(2, a, "A", 1, 2), AwayChange(1, b, "B", 1, 3)]
    assert (moved[DeliveryKind.DIGEST].text, moved[DeliveryKind.DIGEST].plain) == replies.welcome_back(merged)


def test_a_chat_that_moved_or_paused_after_the_audience_was_read_gets_no_orphan(store: Storage) -> None:
    """The check read the audience (group -1 and chat 7), then the group became a supergroup
    and chat 7 blocked the bot, then the version was stored: no message is queued for a chat
    id that no longer exists (it was never claimed, never pruned) nor for the paused chat,
    whose digest covers the version instead."""
    aid = track_article(store, -1, "example.com/a").article.id
    track_article(store, 7, "example.com/a")
    audience = [chat.id for _sub, chat in store.articles.audience(aid)]
    assert sorted(audience) == [-1, 7]
    store.chats.migrate(-1, -1001)
    store.chats.pause(7, "bot was blocked by the user")
    store.articles.store_version(
        aid, title="v2", content=CONTENT, content_hash="h2", summary="",
        deliveries=[NewDelivery(c, DeliveryKind.EDIT, "edit", "edit") for c in audience],
        article_fields={}, now=utcnow(),
    )  # fmt: skip
    assert [(d.chat_id, d.status) for d in store.outbox.deliveries()] == []
    back = store.chats.resume(7, "private", "alice", lambda _: ("digest", "digest"))
    assert back is not None and [(c.old, c.new) for c in back] == [(1, 2)]


def test_a_group_that_becomes_a_supergroup_keeps_its_daily_digest_and_watchwords(store: Storage) -> None:
    store.chats.ensure(-5, "group", "desk")
    track_article(store, -5, watchwords=("Putin",))
    due = utcnow().replace(microsecond=0) + timedelta(hours=3)
    store.chats.set_digest(-5, 8 * 60, due)
    store.chats.migrate(-5, -1005)
    chat = store.chats.get(-1005)
    assert chat is not None and (chat.digest_minute, chat.digest_next_at) == (480, due)
    with read_session(store.engine) as s:
        assert s.exec(select(Subscription.watchwords).where(Subscription.chat_id == -1005)).all() == [
            ["Putin"]
        ]


def test_migration_moves_the_groups_follows_and_their_notices(store: Storage) -> None:
    """A group's follows go with it; one the supergroup already has is kept once (the articles
    it brought stay with the supergroup's follow), a taken number goes to the next free one."""
    now = utcnow()
    for chat in (-5, -100):
        store.chats.ensure(chat, "group")

    def follow(chat: int, url: str) -> Follow:
        return store.follows.follow(
            chat, url=url, kind="feed", title=url, listed=[], days=3, now=now, next_fetch_at=now
        ).follow

    theirs = follow(-100, "http://a.example/shared.xml")  # the supergroup's F1
    shared = follow(-5, "http://a.example/shared.xml")  # the group's F1: kept once
    own = follow(-5, "http://a.example/own.xml")  # the group's F2
    assert theirs.id and shared.id and own.id
    brought = track_article(store, -5)
    with session_scope(store.engine) as s:
        sub = s.exec(select(Subscription).where(Subscription.chat_id == -5)).one()
        sub.follow_id, sub.expires_at = shared.id, now + timedelta(days=3)
        s.add(sub)
    for f in (shared, own):
        store.outbox.add_follow_notices(
            [NewDelivery(-5, DeliveryKind.FEED_FAILING, f"F{f.number}", f"F{f.number}", follow_id=f.id)], now
        )

    store.chats.migrate(-5, -100)

    assert [(r.number, r.url) for r in store.follows.listing(-100)] == [
        (1, "http://a.example/shared.xml"),
        (2, "http://a.example/own.xml"),
    ]
    assert store.follows.listing(-5) == []
    assert [a.follow_id for a in store.articles.tracked(-100) if a.article.id == brought.article.id] == [
        theirs.id
    ]
    assert [(d.chat_id, d.follow_id) for d in store.outbox.deliveries() if d.follow_id] == [(-100, own.id)]
