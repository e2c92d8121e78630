"""The database's rooms under one roof: ``Storage(engine)`` builds each repository once.

Callers reach a repository by its concern (``storage.chats``, ``storage.articles``,
``storage.queue``, ``storage.outbox``, ``storage.web``); each method is one plain synchronous transaction,
called through ``asyncio.to_thread`` so a slow write never blocks the event loop.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.storage.articles import Articles
from bot.storage.chats import Chats
from bot.storage.follows import Follows
from bot.storage.outbox import Outbox
from bot.storage.queue import CheckQueue
from bot.storage.schema import Upgrade, upgrade_schema
from bot.storage.web import WebReads


class Storage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.chats = Chats(engine)
        self.articles = Articles(engine)
        self.queue = CheckQueue(engine)
        self.outbox = Outbox(engine)
        self.follows = Follows(engine)
        self.web = WebReads(engine)

    def upgrade_schema(self) -> Upgrade:
        return upgrade_schema(self.engine)


__all__ = ["Storage"]
