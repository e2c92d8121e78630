"""Retention on SQLite and on a real PostgreSQL server: what is forgotten, when, and what is kept."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import delete, event, func, update
from sqlmodel import Session, col, select

from bot.config import DatabaseSettings, with_overrides
from bot.core.feeds import Entry
from bot.storage.engine import make_engine, session_scope
from bot.storage.models import (
    Article,
    Chat,
    CheckCount,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Subscription,
    Version,
    utcnow,
)
from bot.storage.outbox import NewDelivery
from bot.storage.retention import DELIVERY_BATCH, Pruned, Retention
from bot.storage.schema import alembic_config
from bot.storage.stats import CheckCounter
from bot.storage.store import Storage
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html
from tests.storage_rows import track_article

ALICE = 1001
DAY = timedelta(days=1)
SETTINGS = DatabaseSettings(keep_sent_days=30, keep_untracked_days=90)


def edit(store: Storage, article_id: int, n: int, chats: list[int], at: object) -> None:
    """Version ``n`` of the article and one announcement per chat, as the monitor stores them."""
    store.articles.store_version(
        article_id,
        title=f"Headline {n}",
        content={"title": f"Headline {n}", "paragraphs": [f"Paragraph {n}."]},
        content_hash=f"h{n}",
        summary="headline changed",
        deliveries=[NewDelivery(c, DeliveryKind.EDIT, text=f"v{n}", plain=f"v{n}") for c in chats],
        article_fields={},
        now=at,  # type: ignore[arg-type]
    )


def count(store: Storage, model: type) -> int:
    with Session(store.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_sent_and_failed_deliveries_go_after_keep_sent_days_pending_stay(store: Storage) -> None:
    aid = track_article(store, 1).article.id
    track_article(store, 2)
    now = utcnow()
    edit(store, aid, 2, [1, 2], now)
    sent, failed = store.outbox.claim_pending(now, 10)
    store.outbox.finish(sent.id, DeliveryStatus.SENT, claimant="")
    store.outbox.finish(failed.id, DeliveryStatus.FAILED, claimant="", error="chat blocked the bot")
    edit(store, aid, 3, [1], now)  # stays pending: never pruned, however old
    retention = Retention(store.engine, SETTINGS)

    assert retention.prune(now + 29 * DAY) == Pruned()
    assert count(store, Delivery) == 3
    assert retention.prune(now + 31 * DAY) == Pruned(deliveries=2)
    assert [d.status for d in store.outbox.deliveries()] == [DeliveryStatus.PENDING]
    assert len(store.articles.versions(aid)) == 3  # versions are the product: kept


def test_untracked_article_deleted_with_versions_after_keep_untracked_days(store: Storage) -> None:
    kept = track_article(store, 1, "example.com/kept").article.id
    gone = track_article(store, 1, "example.com/gone").article.id
    track_article(store, 2, "example.com/gone")
    now = utcnow()
    edit(store, gone, 2, [1, 2], now)
    edit(store, kept, 2, [1], now)

    # One chat of two untracks: the article is still tracked.
    store.articles.untrack(2, 1, now=now)
    assert store.articles.get(gone).untracked_since is None
    store.articles.untrack(1, 2, now=now)
    assert store.articles.get(gone).untracked_since == now

    # Its announcements outlive it here (kept a year), so they go with the article.
    retention = Retention(store.engine, DatabaseSettings(keep_sent_days=365, keep_untracked_days=90))
    assert retention.prune(now + 89 * DAY) == Pruned()
    assert retention.prune(now + 91 * DAY) == Pruned(articles=1, versions=2, deliveries=2)
    assert store.articles.get(gone) is None and store.articles.versions(gone) == []
    assert store.outbox.deliveries() and {d.article_id for d in store.outbox.deliveries()} == {kept}
    assert len(store.articles.versions(kept)) == 2 and store.articles.get(kept).untracked_since is None


def test_tracked_again_is_kept(store: Storage) -> None:
    aid = track_article(store, 1).article.id
    now = utcnow()
    store.articles.untrack(1, 1, now=now)
    again = track_article(store, 2)
    assert again.article.id == aid
    assert store.articles.get(aid).untracked_since is None
    assert Retention(store.engine, SETTINGS).prune(now + 365 * DAY).articles == 0
    assert len(store.articles.versions(aid)) == 1


def sent_announcements(store: Storage, n: int) -> tuple[int, datetime]:
    """An article with version 2 announced to ``n`` chats and sent (one bulk update: this is
    about pruning, not the outbox); returns the article id and when they were queued."""
    aid = track_article(store, 1).article.id
    now = utcnow()
    with session_scope(store.engine) as s:  # the chats exist: nothing is queued for an unknown one
        s.add_all([Chat(id=c) for c in range(n) if c != 1])
    store.articles.store_version(
        aid,
        title="t",
        content={"title": "t", "paragraphs": ["2"]},
        content_hash="2",
        summary="",
        deliveries=[NewDelivery(c, DeliveryKind.EDIT, "x", "x") for c in range(n)],
        article_fields={},
        now=now,
    )
    with session_scope(store.engine) as s:
        s.exec(update(Delivery).values(status=DeliveryStatus.SENT, sent_at=now))  # type: ignore[call-overload]
    return aid, now


def test_pruning_goes_in_batches_and_finishes(store: Storage) -> None:
    """More old deliveries than one batch: every batch is its own transaction; all go."""
    _aid, now = sent_announcements(store, DELIVERY_BATCH + 20)
    retention = Retention(store.engine, SETTINGS)
    first = retention.step(now + 31 * DAY)
    assert first.deliveries == DELIVERY_BATCH
    assert retention.prune(now + 31 * DAY) == Pruned(deliveries=20)
    assert count(store, Delivery) == 0


def test_old_check_counts_pruned(store: Storage) -> None:
    counter = CheckCounter()
    now = utcnow()
    counter.add("changed", now - 3 * DAY)
    counter.add("changed", now)
    counter.flush(store.engine)
    assert Retention(store.engine, SETTINGS).prune(now) == Pruned(counts=1)
    assert count(store, CheckCount) == 1


async def test_job_commits_every_batch_and_never_holds_the_event_loop(store: Storage) -> None:
    """Each batch is its own transaction (the write lock is free between batches for a check
    or a command), and the event loop keeps serving while the job runs."""
    batches = 3
    _aid, now = sent_announcements(store, batches * DELIVERY_BATCH)
    seen: list[str] = []  # every DELETE of announcements, and every commit, in order

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if sql.lstrip().upper().startswith("DELETE FROM DELIVERY"):
            seen.append("delete")

    event.listen(store.engine, "before_cursor_execute", statement)
    event.listen(store.engine, "commit", lambda _conn: seen.append("commit"))
    done = asyncio.Event()
    ticks = 0

    async def loop_alive() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def prune() -> Pruned:
        try:
            return await Retention(store.engine, SETTINGS).run(now + 31 * DAY)
        finally:
            done.set()

    pruned, _ = await asyncio.gather(prune(), loop_alive())
    assert pruned == Pruned(deliveries=batches * DELIVERY_BATCH)
    assert seen.count("delete") == batches + 1  # one per batch, and the empty look that ends the run
    assert "delete, delete" not in ", ".join(seen)  # each batch committed before the next
    assert ticks > batches
    assert count(store, Delivery) == 0 and count(store, Version) == 2 and count(store, Article) == 1


async def test_running_bot_prunes_on_its_own_schedule(
    bots: RunningBots, telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    """The bot's prune job (database.prune_interval) removes an announcement sent 31 days ago,
    and the check counts reach the table on the metrics.flush_interval job, while it runs."""
    store = Storage(make_engine(f"sqlite:///{tmp_path / 'redline.db'}"))
    store.upgrade_schema()
    aid = track_article(store, ALICE).article.id
    edit(store, aid, 2, [ALICE], utcnow() - 31 * DAY)
    (old,) = store.outbox.claim_pending(utcnow(), 10)
    store.outbox.finish(old.id, DeliveryStatus.SENT, claimant="")
    articles.set_page("/a", article_html())
    store.queue.update_article(
        aid, url=articles.url("/a"), next_check_at=utcnow()
    )  # checked (and counted) at once
    settings = with_overrides(
        e2e_settings(telegram, tmp_path / "redline.db"),
        database={"prune_interval": 0.3},
        metrics={"flush_interval": 0.3},
    )
    await bots.start(settings)
    async with asyncio.timeout(15):
        # (not by id: SQLite hands a deleted row's id to the next new one)
        while old.version_id in {d.version_id for d in store.outbox.deliveries()} or not count(
            store, CheckCount
        ):
            await asyncio.sleep(0.05)
    assert [v.number for v in store.articles.versions(aid)][:2] == [1, 2]  # the old version stays
    store.engine.dispose()


def test_upgrade_starts_the_clock_for_articles_nobody_tracks(store: Storage) -> None:
    """A database from before revision 0003 has no untracked_since: the upgrade sets it (to the
    upgrade's time) on articles without subscriptions, so retention deletes them in 90 days."""
    tracked = track_article(store, 1, "example.com/tracked").article.id
    orphan = track_article(store, 1, "example.com/orphan").article.id
    with session_scope(store.engine) as s:  # untracked by a Redline that kept no date
        s.exec(delete(Subscription).where(col(Subscription.article_id) == orphan))  # type: ignore[call-overload]
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # as bot.storage.schema does: batch mode rebuilds the table
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    before = utcnow()
    store.upgrade_schema()
    assert store.articles.get(tracked).untracked_since is None
    since = store.articles.get(orphan).untracked_since
    assert since is not None and before - timedelta(seconds=5) <= since <= utcnow() + timedelta(seconds=5)
    retention = Retention(store.engine, SETTINGS)
    assert retention.prune(since + 89 * DAY) == Pruned()
    assert retention.prune(since + 91 * DAY) == Pruned(articles=1, versions=1)


def _follow(store: Storage, chat_id: int, url: str, listed: list[Entry], now: datetime) -> int:
    store.chats.ensure(chat_id, "private")
    followed = store.follows.follow(
        chat_id, url=url, kind="feed", title="", listed=listed, days=7, now=now, next_fetch_at=now
    )
    assert followed.feed.id is not None
    return followed.feed.id


def test_a_feeds_old_items_it_no_longer_lists_go_and_what_it_lists_never_looks_new(store: Storage) -> None:
    """Kept while the feed lists them (or answers 304), and for the longest follow (30 days by
    default) plus two days after they were first seen; then the next listing finds nothing new."""
    x, y, z = (Entry(f"https://a.example/news/2026/story-{n}", n) for n in "xyz")
    t0 = utcnow()
    feed = _follow(store, ALICE, "https://a.example/rss", [x, y], t0)
    retention = Retention(store.engine, SETTINGS)

    def fetched(listed: list[Entry] | None, at: datetime) -> list[Entry]:
        return store.follows.fetched(
            feed, listed=listed, etag=None, last_modified=None, now=at, next_fetch_at=at
        )[0]

    assert fetched([y, z], t0 + DAY) == [z]  # x is no longer listed
    assert fetched(None, t0 + 2 * DAY) == []  # a 304: the listing stands
    assert retention.prune(t0 + 31 * DAY) == Pruned()
    assert retention.prune(t0 + 33 * DAY) == Pruned(feed_items=1)  # x; y and z are still listed
    assert fetched([y, z], t0 + 34 * DAY) == []  # nothing listed looks new again
    assert retention.prune(t0 + 60 * DAY) == Pruned()


def test_a_feed_nobody_follows_goes_with_its_items_and_a_new_follow_starts_afresh(store: Storage) -> None:
    items = [Entry(f"https://a.example/news/2026/story-{n}", str(n)) for n in range(3)]
    now = utcnow()
    _follow(store, ALICE, "https://a.example/rss", items, now)
    retention = Retention(store.engine, SETTINGS)
    assert retention.prune(now) == Pruned()
    assert store.follows.unfollow(ALICE, 1, now) is not None
    assert retention.prune(now) == Pruned(feeds=1, feed_items=3)
    again = _follow(store, ALICE, "https://a.example/rss", items, now + DAY)
    new, _ = store.follows.fetched(
        again, listed=items, etag=None, last_modified=None, now=now + DAY, next_fetch_at=now + DAY
    )
    assert new == []  # the backlog of the new follow, as for any new follow
