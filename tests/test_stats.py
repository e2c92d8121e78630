"""The operator's view: check counters, `redline stats`, and the Prometheus endpoint of `run`
and `worker`, on SQLite and PostgreSQL and after a real end-to-end story."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, col, select

from bot.config import with_overrides
from bot.core.policy import Outcome
from bot.ops.cli import main
from bot.ops.metrics import MetricsError, serve
from bot.storage.engine import make_engine
from bot.storage.models import ArticleState, CheckCount, DeliveryKind, DeliveryStatus, utcnow
from bot.storage.outbox import NewDelivery
from bot.storage.schema import head_revision
from bot.storage.stats import BUCKET, CheckCounter, Stats, collect, format_stats
from bot.storage.store import Storage
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.ports import free_port, taken_port
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import article_html, putin_v2
from tests.storage_rows import track_article
from tests.test_cli import bot_env, redline, redline_process
from tests.test_migrations import make_legacy_database

ALICE = 1001
GROUP = -2002


def test_counts_from_several_processes_add_up(store: Storage) -> None:
    """Two processes (two counters) flush into the same five-minute rows; nothing is lost or
    counted twice, and a flush with nothing new writes nothing."""
    now = datetime(2026, 12, 2, 7, 3, tzinfo=UTC)
    run, worker = CheckCounter(), CheckCounter()
    for _ in range(3):
        run.add(Outcome.NOT_MODIFIED, now)
    run.add(Outcome.CHANGED, now)
    worker.add(Outcome.NOT_MODIFIED, now + timedelta(minutes=1))
    worker.add(Outcome.NOT_MODIFIED, now + BUCKET)  # the next five minutes
    assert (run.flush(store.engine), worker.flush(store.engine), run.flush(store.engine)) == (4, 2, 0)
    run.add(Outcome.NOT_MODIFIED, now)
    assert run.flush(store.engine) == 1
    with Session(store.engine) as s:
        rows = s.exec(select(CheckCount).order_by(col(CheckCount.bucket), col(CheckCount.outcome))).all()
        got = [(r.bucket.astimezone(UTC).strftime("%H:%M"), r.outcome, r.count) for r in rows]
    assert got == [("07:00", "changed", 1), ("07:00", "not_modified", 5), ("07:05", "not_modified", 1)]


def test_collect_reads_every_figure(store: Storage) -> None:
    now = utcnow()
    active = track_article(store, 1, "example.com/active").article.id
    gone = track_article(store, 1, "example.com/gone").article.id
    track_article(store, 2, "example.com/gone")
    store.queue.update_article(gone, state=ArticleState.GONE)
    store.queue.update_article(active, next_check_at=now - timedelta(minutes=7))
    store.articles.untrack(1, 2)  # chat 2 still tracks it
    store.articles.untrack(2, 1)  # now nobody does
    store.chats.ensure(3, "private")
    store.chats.pause(3, "Forbidden: bot was blocked by the user")
    store.outbox.add_notices(
        active,
        [NewDelivery(c, DeliveryKind.FAILING, "x", "x") for c in (1, 1, 1)],
        {},
        now - timedelta(minutes=2),
    )
    for status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):  # one message per chat at a time
        [claimed] = store.outbox.claim_pending(now, 3, claimant="a")
        store.outbox.finish(
            claimed.id, status, claimant="a", error="refused" if status == DeliveryStatus.FAILED else ""
        )
    [third] = store.outbox.claim_pending(now, 3, claimant="a")
    store.outbox.release([third.id], "a")  # given back unsent: pending again
    counter = CheckCounter()
    counter.add(Outcome.CHANGED, now)
    counter.add(Outcome.FAILED, now - timedelta(minutes=30))
    counter.add(Outcome.FAILED, now - timedelta(hours=2))  # outside the last hour
    counter.flush(store.engine)

    stats = collect(store.engine, now)
    assert stats.articles == {"active": 1, "failing": 0, "dormant": 0, "gone": 1}
    assert stats.untracked == 1
    assert stats.checks == {o.value: 0 for o in Outcome} | {"changed": 1, "failed": 1}
    assert stats.overdue == 1
    assert stats.oldest_overdue is not None
    assert timedelta(minutes=7) - timedelta(seconds=1) < stats.oldest_overdue <= timedelta(minutes=7)
    assert stats.deliveries == {"pending": 1, "sending": 0, "sent": 1, "failed": 1}
    assert stats.oldest_pending is not None and stats.oldest_pending >= timedelta(minutes=2)
    assert stats.chats == {"active": 2, "blocked": 1}
    assert stats.database_bytes > 10_000
    assert stats.database == store.engine.url.render_as_string(hide_password=True)


def test_format_stats() -> None:
    stats = Stats(
        at=datetime(2026, 12, 2, 7, 30, 5, tzinfo=UTC),
        articles={"active": 3, "failing": 1, "dormant": 0, "gone": 1},
        untracked=2,
        checks={"not_modified": 120, "same": 4, "noise": 2, "changed": 3, "failed": 1},
        overdue=2,
        oldest_overdue=timedelta(minutes=6, seconds=5),
        deliveries={"pending": 1, "sending": 0, "sent": 10, "failed": 2},
        oldest_pending=timedelta(seconds=40),
        chats={"active": 2, "blocked": 1},
        database_bytes=1_234_567,
        database="sqlite:////data/redline.db",
    )
    assert format_stats(stats) == (
        "Redline at 2026-12-02 07:30:05 UTC · sqlite:////data/redline.db\n"
        "articles: 3 active · 1 failing · 0 dormant · 1 gone · 2 tracked by nobody\n"
        "checks in the last hour: 120 not modified (304) · 4 same text · 2 noise only · "
        "3 changed · 1 failed\n"
        "scheduler: 2 checks overdue, the oldest by 6 min\n"
        "deliveries: 1 pending · 0 sending · 10 sent · 2 failed (oldest pending for 40 s)\n"
        "chats: 2 active · 1 blocked\n"
        "database: 1.2 MB"
    )
    calm = format_stats(Stats(**{**stats.__dict__, "overdue": 0, "oldest_overdue": None}))
    assert "scheduler: up to date (no check overdue)" in calm


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics over HTTP; {(name, labels): value}."""
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_stats_and_metrics_after_an_end_to_end_story(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, tmp_path: Path
) -> None:
    """Two chats, two articles: one is edited (announced to Alice; the group blocked the bot),
    the other disappears and Alice untracks it. The metrics endpoint and `redline stats` tell
    that story."""
    port = free_port()
    settings = with_overrides(
        e2e_settings(telegram, tmp_path / "redline.db"), metrics={"listen": f"127.0.0.1:{port}"}
    )
    app = await bots.start(settings)
    for path in ("/a", "/b"):
        articles.set_page(path, article_html())
        await telegram.ask(ALICE, f"/track {articles.url(path)}")
    await telegram.ask(GROUP, f"/track {articles.url('/a')}", chat_type="group", title="Desk")
    articles.remove("/b")
    await telegram.wait_for(ALICE, contains="is gone", timeout=15)
    await telegram.ask(ALICE, "/untrack 2")
    telegram.block(GROUP, notify=False)  # Telegram's my_chat_member update lost: the send tells
    articles.set_page("/a", putin_v2())
    await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)
    store: Storage = app.bot_data["redline"].store
    async with asyncio.timeout(15):  # the group's copy is refused: Telegram says it blocked us
        while not collect(store.engine).deliveries["failed"]:
            await asyncio.sleep(0.05)

    metrics = await asyncio.to_thread(scrape, port)
    assert metrics[("redline_articles", (("state", "active"),))] == 1
    assert metrics[("redline_articles", (("state", "gone"),))] == 1
    assert metrics[("redline_articles_untracked", ())] == 1
    assert metrics[("redline_checks_last_hour", (("outcome", "changed"),))] == 1
    assert metrics[("redline_checks_last_hour", (("outcome", "gone"),))] == 1
    unchanged = [
        metrics[("redline_checks_last_hour", (("outcome", o),))] for o in ("not_modified", "body_same")
    ]
    assert sum(unchanged) >= 1  # the page served again as it was, before the edit
    assert metrics[("redline_deliveries", (("status", "sent"),))] == 2  # "gone" and the edit, to Alice
    assert metrics[("redline_deliveries", (("status", "failed"),))] == 1
    assert metrics[("redline_chats", (("state", "blocked"),))] == 1
    assert metrics[("redline_chats", (("state", "active"),))] == 1
    assert metrics[("redline_check_overdue_seconds", ())] < 5
    assert metrics[("redline_database_bytes", ())] > 10_000

    await bots.stop(app)  # counts still in memory are written at shutdown
    with httpx.Client() as client:  # and the endpoint is gone with the bot
        try:
            client.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("metrics still served after shutdown")
    result = redline("stats", env={"REDLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'redline.db'}"})
    assert result.returncode == 0, result.stderr
    print("\n" + result.stdout)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Redline at ") and lines[0].endswith(f"sqlite:///{tmp_path / 'redline.db'}")
    assert lines[1] == "articles: 1 active · 0 failing · 0 dormant · 1 gone · 1 tracked by nobody"
    assert re.fullmatch(
        r"checks in the last hour: \d+ not modified \(304\) · \d+ same bytes · \d+ same fingerprint · "
        r"\d+ same text · \d+ noise only · "
        r"1 changed · 0 shrunk \(withdrawal\?\) · 0 failed · 1 gone · 0 went dormant",
        lines[2],
    ), lines[2]
    assert (
        int(lines[2].split(": ")[1].split()[0])
        >= metrics[("redline_checks_last_hour", (("outcome", "not_modified"),))]
    )
    assert re.fullmatch(
        r"scheduler: (up to date \(no check overdue\)|1 check overdue, the oldest by \d+ s)", lines[3]
    )
    assert lines[4] == "deliveries: 0 pending · 0 sending · 2 sent · 1 failed"
    assert lines[5] == "chats: 1 active · 1 blocked"
    assert re.fullmatch(r"database: \d+\.\d kB", lines[6]), lines[6]


async def test_worker_serves_metrics(telegram: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(
        telegram, f"sqlite:///{tmp_path / 'redline.db'}", REDLINE_METRICS_LISTEN=f"127.0.0.1:{port}"
    )
    async with redline_process("worker", env, tmp_path / "worker.log"):
        async with asyncio.timeout(60):
            while "metrics_listening" not in (tmp_path / "worker.log").read_text():
                await asyncio.sleep(0.05)
        metrics = await asyncio.to_thread(scrape, port)
    assert metrics[("redline_articles", (("state", "active"),))] == 0
    assert metrics[("redline_chats", (("state", "active"),))] == 0
    assert ("redline_check_overdue_seconds", ()) in metrics


async def test_metrics_on_a_busy_port_is_one_line(telegram: FakeTelegram, tmp_path: Path) -> None:
    with taken_port() as port:
        env = bot_env(
            telegram, f"sqlite:///{tmp_path / 'redline.db'}", REDLINE_METRICS_LISTEN=f"127.0.0.1:{port}"
        )
        result = await asyncio.to_thread(redline, "worker", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith(
        f"redline: error: cannot serve metrics on 127.0.0.1:{port}: Address already in use\n"
    )


def test_metrics_listen_must_be_host_and_port(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'redline.db'}")
    for listen in ("9464", "localhost:", "127.0.0.1:http", "127.0.0.1:70000"):
        with pytest.raises(MetricsError) as info:
            serve(listen, engine)
        assert str(info.value) == f"metrics.listen must be host:port, like 127.0.0.1:9464, not {listen!r}"


def test_stats_refusals_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database not yet upgraded (stats would read tables it lacks), and a server not there."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    make_legacy_database(engine, "0002")
    engine.dispose()
    monkeypatch.setenv("REDLINE_DATABASE_URL", url)
    assert main(["stats"]) == 2
    assert capsys.readouterr().err == (
        f"redline: error: the database is at schema revision 0002, not {head_revision()}: "
        "run redline migrate first\n"
    )
    port = free_port()
    monkeypatch.setenv(
        "REDLINE_DATABASE_URL", f"postgresql+psycopg://redline:s3cret@127.0.0.1:{port}/redline"
    )
    assert main(["stats"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"redline: error: cannot open the database postgresql+psycopg://redline:***@127.0.0.1:{port}/redline: "
        "connection failed: "
    )
    assert err.count("\n") == 1 and "s3cret" not in err
