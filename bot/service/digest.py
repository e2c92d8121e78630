"""The day's edits of one chat (/digest): the articles that changed in the last 24 hours,
read from storage and ranked by the pure core (bot.core.digest)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.core.digest import DayChange, DayEdit, rank_day
from bot.core.extract import Snapshot
from bot.storage.store import Storage

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
