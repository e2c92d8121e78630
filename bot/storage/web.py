"""What the web pages and feeds read: an article's versions, a chat's latest edits, a site's
edits over a window, and whom a token speaks for.

Read sessions only (no write lock on SQLite). Each method is one short transaction; the web
room caches what they return, so a page costs these queries once, not once per request.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.storage.engine import read_session
from bot.storage.models import Article, Chat, Subscription, Version


@dataclass(frozen=True)
class Reader:
    """Whom an address with a chat's token speaks for: the chat and the articles it tracks."""

    chat_id: int
    articles: frozenset[int]


# (new version, the version before it) of one article
Edit = tuple[Version, Version]


class WebReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reader(self, token: str) -> Reader | None:
        """The chat whose web token this is, or None (never issued, or revoked)."""
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Chat.id, Subscription.article_id)
                .outerjoin(Subscription, col(Subscription.chat_id) == Chat.id)
                .where(Chat.web_token == token)
            ).all()
            if not rows:
                return None
            return Reader(rows[0][0], frozenset(aid for _, aid in rows if aid is not None))

    def history(self, article_id: int) -> tuple[Article, list[Version]] | None:
        """The article and every version of it, oldest first."""
        with read_session(self.engine) as s:
            article = s.get(Article, article_id)
            if article is None:
                return None
            versions = s.exec(
                select(Version).where(Version.article_id == article_id).order_by(col(Version.number))
            ).all()
            return article, list(versions)

    def latest_edits(self, article_ids: Collection[int], limit: int) -> list[tuple[Article, Edit]]:
        """The ``limit`` newest versions after the first among these articles, newest first,
        each with the version before it."""
        if not article_ids:
            return []
        new, old = aliased(Version), aliased(Version)
        with read_session(self.engine) as s:
            rows = s.exec(
                select(Article, new, old)
                .join(new, col(new.article_id) == Article.id)
                .join(old, and_(col(old.article_id) == new.article_id, col(old.number) == new.number - 1))
                .where(col(Article.id).in_(list(article_ids)))
                .order_by(col(new.created_at).desc(), col(new.id).desc())
                .limit(limit)
            ).all()
            return [(article, (n, o)) for article, n, o in rows]

    def site_edits(
        self, site: str, since: datetime, article_ids: Collection[int] | None
    ) -> tuple[list[Article], list[Edit]]:
        """A site's articles (those in ``article_ids`` only, when given) and their versions
        stored since ``since``, each with the version before it, oldest first."""
        new, old = aliased(Version), aliased(Version)
        with read_session(self.engine) as s:
            query = select(Article).where(Article.site == site)
            if article_ids is not None:
                query = query.where(col(Article.id).in_(list(article_ids)))
            articles = list(s.exec(query.order_by(col(Article.id))).all())
            if not articles:
                return [], []
            rows = s.exec(
                select(new, old)
                .join(old, and_(col(old.article_id) == new.article_id, col(old.number) == new.number - 1))
                .where(col(new.article_id).in_([a.id for a in articles]))
                .where(col(new.created_at) >= since)
                .order_by(col(new.created_at), col(new.id))
            ).all()
            return articles, [(n, o) for n, o in rows]


__all__ = ["Edit", "Reader", "WebReads"]
