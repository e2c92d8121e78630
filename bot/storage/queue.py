"""The check queue: which articles are due, claimed by whom until when, and their updates.

One index (``ix_article_due``) serves "due articles in due order"; a claim pushes the
article's ``next_check_at`` a lease ahead so no other process takes it meanwhile.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, bindparam, exists, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from bot.storage.engine import session_scope
from bot.storage.models import Article, ArticleState, Chat, Subscription


def audible() -> ColumnElement[bool]:
    """True for an article some unpaused chat tracks: only those are worth a fetch."""
    return exists().where(
        Subscription.article_id == Article.id,
        Subscription.chat_id == Chat.id,
        col(Chat.paused).is_(False),
    )


def _checkable(due_by: datetime | None = None) -> list[ColumnElement[bool]]:
    """Conditions for an article the monitor fetches: checked on schedule, due by ``due_by``
    (any time when None), and tracked by a chat that hears it (``audible``)."""
    conditions = [col(Article.state).in_([ArticleState.ACTIVE, ArticleState.FAILING]), audible()]
    if due_by is not None:
        conditions.append(col(Article.next_check_at) <= due_by)
    return conditions


def full_sites(load: Mapping[str, int], per_site: int | None) -> list[str]:
    """Sites that already have ``per_site`` claimed articles."""
    return [] if per_site is None else [site for site, n in load.items() if n >= per_site]


@functools.cache
def _article_update(names: tuple[str, ...]) -> Update:
    """``UPDATE article SET <names> WHERE id = :_id``, built once per set of columns."""
    table = Article.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
    )


def set_fields(s: Session, article_id: int, fields: Mapping[str, object]) -> None:
    """Write ``fields`` onto the article in the caller's transaction (with what a check stored):
    one UPDATE, without loading the article first (the load was 40 % of storing a version)."""
    if fields:
        s.connection().execute(_article_update(tuple(sorted(fields))), {"_id": article_id, **fields})


@dataclass(frozen=True)
class Claim:
    """What one claim took: ``(article, when it falls due)`` in due order; whether the queue
    had no more due by then (``drained``) and, if so, when its next article falls due (None:
    nothing to check, or only articles of the sites left out as full)."""

    articles: list[tuple[Article, datetime]]
    drained: bool
    next_due: datetime | None = None


class CheckQueue:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self,
        now: datetime,
        due_by: datetime,
        limit: int,
        lease: timedelta,
        site_load: Mapping[str, int] | None = None,
        per_site: int | None = None,
    ) -> Claim:
        """Everything someone reads that is due by ``due_by`` (a moment ahead of ``now``), oldest
        due first, pushed ``lease`` ahead so no other process takes it (``SKIP LOCKED`` on
        PostgreSQL; SQLite's write lock serialises): each article with the time it falls due,
        and, when fewer than ``limit`` were due, when the next one left in the queue does (one
        transaction: the caller needs no second query).

        ``site_load`` counts what the caller already holds per site; no site is given more than
        ``per_site`` in all."""
        load = Counter(site_load or {})
        with session_scope(self.engine) as s:
            query = (
                select(Article)
                .where(*_checkable(due_by))
                .order_by(col(Article.next_check_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            full = full_sites(load, per_site)
            if full:
                query = query.where(col(Article.site).not_in(full))
            rows = list(s.exec(query).all())
            claimed = []
            for article in rows:
                if per_site is None or load[article.site] < per_site:
                    load[article.site] += 1
                    # Read before the UPDATE below: the session writes the lease onto the objects.
                    claimed.append((article, article.next_check_at))
            if claimed:
                s.exec(  # type: ignore[call-overload]
                    update(Article)
                    .where(col(Article.id).in_([a.id for a, _due in claimed]))
                    .values(next_check_at=now + lease)
                )
            drained = len(rows) < limit
            next_due = None
            if drained:
                later = select(func.min(Article.next_check_at)).where(*_checkable())
                full = full_sites(load, per_site)
                if full:
                    later = later.where(col(Article.site).not_in(full))
                next_due = s.exec(later).one()
            return Claim(claimed, drained, next_due)

    def release(self, article_ids: Collection[int], now: datetime) -> None:
        """Give back claimed articles that were never checked (the process is stopping)."""
        if article_ids:
            with session_scope(self.engine) as s:
                s.exec(  # type: ignore[call-overload]
                    update(Article).where(col(Article.id).in_(list(article_ids))).values(next_check_at=now)
                )

    def update_article(self, article_id: int, **fields: object) -> None:
        """One UPDATE statement in its own transaction."""
        self.update_articles([(article_id, fields)])

    def update_articles(self, updates: Sequence[tuple[int, Mapping[str, object]]]) -> None:
        """Many articles' UPDATEs in one transaction, one executemany per set of columns: the
        whole database cost of a batch of checks that found nothing new. SQLAlchemy Core, not
        an ORM session: nothing here needs objects back."""
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for article_id, fields in updates:
            groups.setdefault(tuple(sorted(fields)), []).append({"_id": article_id, **fields})
        with self.engine.begin() as conn:
            for names, rows in groups.items():
                conn.execute(_article_update(names), rows)


__all__ = ["CheckQueue", "Claim", "audible", "full_sites", "set_fields"]
