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


def test_list_pages_newest_change_first_with_filters(store: Storage) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 1, tzinfo=UTC)
    for k in range(1, 24):
        track_article(store, 1, f"example.com/{k}", now=start + timedelta(minutes=k))
    track_article(store, 2, "example.com/other")
    store.articles.store_version(
        4,
        title="T2",
        content={"title": "T2", "paragraphs": []},
        content_hash="h2",
        summary="headline changed",
        deliveries=[],
        article_fields={"last_changed_at": start + timedelta(days=1)},
        now=start + timedelta(days=1),
    )
    store.queue.update_article(9, state="gone")
    first = store.articles.list_page(1, "all", 1, 10)
    assert (first.total, first.page, first.pages) == (23, 1, 3)
    assert [r.number for r in first.rows] == [4, 23, 22, 21, 20, 19, 18, 17, 16, 15]
    assert [r.versions for r in first.rows[:2]] == [2, 1]
    last = store.articles.list_page(1, "all", 7, 10)  # past the end: the last page
    assert (last.page, [r.number for r in last.rows]) == (3, [3, 2, 1])
    assert [r.number for r in store.articles.list_page(1, "changed", 1, 10).rows] == [4]
    assert [r.number for r in store.articles.list_page(1, "failing", 1, 10).rows] == [9]
    empty = store.articles.list_page(3, "all", 1, 10)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 1, 1)
    assert store.articles.subscribed(1, 4) is not None and store.articles.subscribed(1, 24) is None
    assert store.articles.subscribed(2, 24).number == 1  # type: ignore[union-attr]
