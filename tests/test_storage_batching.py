"""bot.storage.batching.GroupCommit: writes queued while a transaction runs share the next one, and
every writer returns only once its own write is committed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.storage.batching import GroupCommit
from bot.storage.models import utcnow
from bot.storage.store import Storage
from tests.storage_rows import track_article


async def test_writes_during_a_commit_share_the_next_one() -> None:
    batches: list[list[int]] = []
    release = threading.Event()

    def commit(items: Sequence[int]) -> None:
        if not batches:
            release.wait(5)  # the first transaction is slow: everything else queues meanwhile
        batches.append(list(items))

    writes = GroupCommit(commit)
    first = asyncio.create_task(writes.write(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(writes.write(i)) for i in range(1, 11)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *rest)
    assert batches == [[0], list(range(1, 11))]


async def test_a_failed_commit_fails_every_write_in_it() -> None:
    def commit(items: Sequence[int]) -> None:
        raise RuntimeError(f"database is locked ({len(items)} rows)")

    writes = GroupCommit(commit)
    results = await asyncio.gather(*(writes.write(i) for i in range(3)), return_exceptions=True)
    assert [str(r) for r in results] == ["database is locked (3 rows)"] * 3


async def test_a_write_has_landed_when_it_returns(store: Storage) -> None:
    ids = [track_article(store, 1, key=f"example.com/{i}").article.id for i in range(5)]
    later = utcnow() + timedelta(hours=1)
    writes: GroupCommit[tuple[int, dict[str, object]]] = GroupCommit(store.queue.update_articles)
    await asyncio.gather(
        *(writes.write((aid, {"next_check_at": later, "failures": n})) for n, aid in enumerate(ids))
    )
    for n, aid in enumerate(ids):
        article = store.articles.get(aid)
        assert article is not None and (article.next_check_at, article.failures) == (later, n)


@pytest.mark.parametrize("failing", [False, True])
async def test_one_transaction_for_mixed_columns(store: Storage, failing: bool) -> None:
    """Rows with different column sets go in one transaction: all of them or none."""
    a = track_article(store, 1, key="example.com/a").article.id
    b = track_article(store, 1, key="example.com/b").article.id
    updates: list[tuple[int, dict[str, object]]] = [(a, {"failures": 3}), (b, {"etag": '"x"'})]
    if failing:
        updates.append((a, {"no_such_column": 1}))
        with pytest.raises(Exception):  # noqa: B017 (whatever SQLAlchemy raises for it)
            store.queue.update_articles(updates)
    else:
        store.queue.update_articles(updates)
    article_a, article_b = store.articles.get(a), store.articles.get(b)
    assert article_a is not None and article_b is not None
    assert (article_a.failures, article_b.etag) == ((0, '"e1"') if failing else (3, '"x"'))


async def test_written_behind_items_share_one_transaction_at_the_flush() -> None:
    """``put`` returns at once; the items wait (up to the linger) and go in one transaction."""
    batches: list[list[int]] = []
    writes = GroupCommit(lambda items: batches.append(list(items)), linger=60)
    for i in range(5):
        writes.put(i)
    await asyncio.sleep(0.05)  # lingering: nothing committed yet
    assert batches == []
    await writes.flush()
    assert batches == [[0, 1, 2, 3, 4]]
    writes.put(5)
    await writes.aclose()  # a stopping process writes what waits
    assert batches == [[0, 1, 2, 3, 4], [5]]


async def test_a_refused_write_behind_batch_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def commit(items: Sequence[int]) -> None:
        raise RuntimeError("database is locked")

    writes = GroupCommit(commit, linger=60)
    for i in range(3):
        writes.put(i)
    with caplog.at_level("ERROR", logger="redline.storage"):
        await writes.flush()
    # One line per refused batch, with its cause. (Another test's logging set-up may have left
    # the token filter on a root handler: it folds the traceback into the message.)
    [record] = caplog.records
    assert record.getMessage().split("\n", 1)[0] == "write_behind_failed rows=3"
    cause = record.exc_info[1] if record.exc_info else record.getMessage()
    assert "database is locked" in str(cause)
