"""Retention: what the database forgets, so it stops growing when the tracked set does.

- Sent and failed announcements, ``database.keep_sent_days`` after they were queued (an
  announcement goes out within seconds of it, or is given up within hours).
- An article nobody has tracked for ``database.keep_untracked_days``, with its versions and
  announcements. Versions of tracked articles are the product and are kept.
- Check counters older than ``KEEP_COUNTS`` (``redline stats`` reads the last hour).
- A feed nobody follows any more, with every item it listed (a new follow of it starts afresh,
  its listing then the backlog). An item of a followed feed that it no longer lists, first seen
  longer ago than the longest follow (``limits.follow_max_days``) plus ``FEED_ITEM_MARGIN``:
  an item still listed is never forgotten, or the next fetch would take it for a new one.

Pruning runs as its own infrequent job, in small batches, each its own short transaction, so
a check or a command waits at most one batch for the database (SQLite has one writer).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.config import DatabaseSettings
from bot.storage.engine import session_scope
from bot.storage.models import (
    Article,
    CheckCount,
    Delivery,
    DeliveryStatus,
    Feed,
    FeedItem,
    Follow,
    Subscription,
    Version,
    utcnow,
)

log = logging.getLogger("redline.retention")

KEEP_COUNTS = timedelta(days=2)
FEED_ITEM_MARGIN = timedelta(days=2)
FEED_BATCH = 20  # feeds (with all their items) per transaction
DELIVERY_BATCH = 500  # rows per transaction
ARTICLE_BATCH = 20  # articles (with all their versions) per transaction


@dataclass(frozen=True)
class Pruned:
    deliveries: int = 0
    articles: int = 0
    versions: int = 0
    counts: int = 0
    feeds: int = 0
    feed_items: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


class Retention:
    def __init__(self, engine: Engine, settings: DatabaseSettings, follow_max_days: int = 30) -> None:
        self.engine = engine
        self.keep_sent = timedelta(days=settings.keep_sent_days)
        self.keep_untracked = timedelta(days=settings.keep_untracked_days)
        self.keep_feed_items = timedelta(days=follow_max_days) + FEED_ITEM_MARGIN

    def _deliveries(self, now: datetime) -> Pruned:
        """One batch of sent and failed announcements past ``keep_sent_days``."""
        with session_scope(self.engine) as s:
            ids = (
                select(Delivery.id)
                .where(col(Delivery.status).in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]))
                .where(Delivery.created_at < now - self.keep_sent)
                .limit(DELIVERY_BATCH)
            )
            result = s.exec(delete(Delivery).where(col(Delivery.id).in_(ids.scalar_subquery())))  # type: ignore[call-overload]
            return Pruned(deliveries=int(result.rowcount or 0))

    def _articles(self, now: datetime) -> Pruned:
        """One batch of articles nobody has tracked for ``keep_untracked_days``.

        The conditions are read again under a row lock in the deleting transaction, so an
        article tracked again meanwhile (``untracked_since`` cleared) is left alone.
        """
        with session_scope(self.engine) as s:
            ids = list(
                s.exec(
                    select(Article.id)
                    .where(col(Article.untracked_since) < now - self.keep_untracked)
                    .where(~exists().where(Subscription.article_id == Article.id))
                    .order_by(col(Article.untracked_since))
                    .limit(ARTICLE_BATCH)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            if not ids:
                return Pruned()
            deliveries = s.exec(delete(Delivery).where(col(Delivery.article_id).in_(ids)))  # type: ignore[call-overload]
            versions = s.exec(delete(Version).where(col(Version.article_id).in_(ids)))  # type: ignore[call-overload]
            s.exec(delete(Article).where(col(Article.id).in_(ids)))  # type: ignore[call-overload]
            return Pruned(
                deliveries=int(deliveries.rowcount or 0),
                articles=len(ids),
                versions=int(versions.rowcount or 0),
            )

    def _counts(self, now: datetime) -> Pruned:
        with session_scope(self.engine) as s:
            result = s.exec(delete(CheckCount).where(col(CheckCount.bucket) < now - KEEP_COUNTS))  # type: ignore[call-overload]
            return Pruned(counts=int(result.rowcount or 0))

    def _feeds(self, now: datetime) -> Pruned:
        """One batch of feeds nobody follows, with their items (locked, so a /follow of one of
        them now either comes first and keeps it, or waits and makes it anew)."""
        with session_scope(self.engine) as s:
            ids = list(
                s.exec(
                    select(Feed.id)
                    .where(~exists().where(Follow.feed_id == Feed.id))
                    .limit(FEED_BATCH)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            if not ids:
                return Pruned()
            items = s.exec(delete(FeedItem).where(col(FeedItem.feed_id).in_(ids)))  # type: ignore[call-overload]
            s.exec(delete(Feed).where(col(Feed.id).in_(ids)))  # type: ignore[call-overload]
            return Pruned(feeds=len(ids), feed_items=int(items.rowcount or 0))

    def _feed_items(self, now: datetime) -> Pruned:
        """One batch of old items a followed feed no longer lists: seen last before its latest
        listing (a 304 keeps the listing, so keeps them), first seen before the longest follow."""
        with session_scope(self.engine) as s:
            ids = (
                select(FeedItem.id)
                .join(Feed, col(Feed.id) == FeedItem.feed_id)
                .where(col(FeedItem.first_seen_at) < now - self.keep_feed_items)
                .where(col(FeedItem.last_seen_at).is_not(None))
                .where(col(Feed.listed_at).is_not(None))
                .where(col(FeedItem.last_seen_at) < col(Feed.listed_at))
                .limit(DELIVERY_BATCH)
            )
            result = s.exec(delete(FeedItem).where(col(FeedItem.id).in_(ids.scalar_subquery())))  # type: ignore[call-overload]
            return Pruned(feed_items=int(result.rowcount or 0))

    def step(self, now: datetime) -> Pruned:
        """One batch of each kind; empty when there is nothing left to prune."""
        return (
            self._deliveries(now)
            + self._articles(now)
            + self._counts(now)
            + self._feeds(now)
            + self._feed_items(now)
        )

    def prune(self, now: datetime | None = None) -> Pruned:
        """Everything due, batch after batch (the command line and the benchmark)."""
        now = now or utcnow()
        total = Pruned()
        while batch := self.step(now):
            total += batch
        return total

    async def run(self, now: datetime | None = None) -> Pruned:
        """The job: like ``prune``, but each batch in a worker thread, letting checks, sends
        and commands take the database between batches."""
        now = now or utcnow()
        total = Pruned()
        while batch := await asyncio.to_thread(self.step, now):
            total += batch
            await asyncio.sleep(0)
        if total:
            log.info(
                "pruned deliveries=%d articles=%d versions=%d counts=%d feeds=%d feed_items=%d",
                total.deliveries,
                total.articles,
                total.versions,
                total.counts,
                total.feeds,
                total.feed_items,
            )
        return total
