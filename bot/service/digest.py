"""The day's edits of one chat (/digest): the articles that changed in the last 24 hours,
read from storage and ranked by the pure core (bot.core.digest); and the daily digest a chat
turns on, queued in the outbox when due."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.digest import DayChange, DayEdit, next_digest_at, rank_day
from bot.core.extract import Snapshot
from bot.messages import replies
from bot.storage.chats import NewDigest
from bot.storage.store import Storage

log = logging.getLogger("redline.digest")

DAY = timedelta(hours=24)


class DigestService:
    def __init__(self, store: Storage) -> None:
        self.store = store

    def _day(self, chat_id: int, now: datetime) -> list[DayEdit]:
        changes = []
        for away in self.store.chats.changed_since(chat_id, now - DAY):
            versions = self.store.articles.versions_numbered(away.article_id, (away.old, away.new))
            before, after = versions.get(away.old), versions.get(away.new)
            if before is None or after is None:  # retention took one: nothing to compare
                continue
            changes.append(
                DayChange(
                    away.number,
                    away.article_id,
                    after.title or away.title,
                    away.old,
                    away.new,
                    Snapshot.from_dict(before.content),
                    Snapshot.from_dict(after.content),
                )
            )
        return rank_day(changes)

    async def day(self, chat_id: int, now: datetime) -> list[DayEdit]:
        """Every article of ``chat_id`` that changed in the 24 hours before ``now``, most
        significant first."""
        return await asyncio.to_thread(self._day, chat_id, now)

    async def schedule(self, chat_id: int, minute: int | None, now: datetime) -> None:
        """Turn the chat's daily digest on at ``minute`` after midnight on the chat's clock
        (its /settings time zone), or off (None)."""
        chat = await asyncio.to_thread(self.store.chats.get, chat_id)
        zone = _zone(chat.timezone if chat is not None else "UTC")
        next_at = None if minute is None else next_digest_at(now, minute, zone)
        await asyncio.to_thread(self.store.chats.set_digest, chat_id, minute, next_at)
        log.info("digest chat=%s minute=%s next=%s", chat_id, minute, next_at)

    async def current(self, chat_id: int) -> tuple[int | None, str, bool]:
        """The chat's digest minute (None: off), the time zone it is read in, and whether
        articles its follows bring appear only in it."""
        chat = await asyncio.to_thread(self.store.chats.get, chat_id)
        return (None, "UTC", False) if chat is None else (chat.digest_minute, chat.timezone, chat.digest_only)

    async def set_digest_only(self, chat_id: int, on: bool) -> None:
        """Articles follows bring: only in the daily digest, or announced one by one. It only
        takes effect while the daily digest is on (off, every edit is announced again)."""
        await asyncio.to_thread(self.store.chats.set_digest_only, chat_id, on)
        log.info("digest_only chat=%s on=%s", chat_id, on)

    def _send_due(self, now: datetime) -> int:
        queued = 0
        for chat in self.store.chats.due_digests(now):
            assert chat.digest_next_at is not None and chat.digest_minute is not None
            edits = self._day(chat.id, now)
            message = None
            if edits:
                text, plain = replies.day_digest(edits)
                message = NewDigest(edits[0].article_id, text, plain)
            # From now, not from when it was due: a bot that was down for days sends one.
            next_at = next_digest_at(now, chat.digest_minute, _zone(chat.timezone))
            if self.store.chats.queue_digest(chat.id, chat.digest_next_at, next_at, message, now):
                queued += message is not None
                log.info("daily_digest chat=%s articles=%d next=%s", chat.id, len(edits), next_at)
        return queued

    async def send_due(self, now: datetime) -> int:
        """Queue every daily digest due at ``now`` in the outbox (the sender posts them, so a
        restart loses none); each chat's next one moves a day on. Returns how many were queued."""
        return await asyncio.to_thread(self._send_due, now)


def _zone(name: str) -> tzinfo:
    """The chat's time zone (/settings stores only names it knows); UTC if it is gone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
