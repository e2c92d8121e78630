"""Articles, subscriptions and versions (SQLite and a real PostgreSQL server: the same behaviour on both)."""

from __future__ import annotations

from bot.storage.store import Storage
from tests.storage_rows import track_article


def test_track_numbers_are_per_chat_and_stable(store: Storage) -> None:
    first = track_article(store, 1, "example.com/a")
    second = track_article(store, 1, "example.com/b")
    assert (first.number, second.number, first.already) == (1, 2, False)
    again = track_article(store, 1, "example.com/a")
    assert again.already and again.number == 1
    # Another chat gets its own numbering but shares the article and its versions.
    other = track_article(store, -100, "example.com/b")
    assert other.number == 1 and other.article.id == second.article.id
    assert len(store.articles.versions(second.article.id)) == 1
    # Untracking #1 keeps #2 as #2.
    assert store.articles.untrack(1, 1) is not None
    assert [row.number for row in store.articles.tracked(1)] == [2]
    assert store.articles.untrack(1, 1) is None
