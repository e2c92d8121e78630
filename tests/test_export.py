"""Export: an article's whole history as JSON (every version) or CSV (one row per change), the
same file from /export in a chat (over the fake Bot API) and from `redline export`."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import with_overrides
from bot.messages.export import CSV_COLUMNS, change_rows, changes_csv, export, history_json
from bot.ops.cli import main
from bot.storage.models import Article, Version
from bot.storage.store import Storage
from tests.conftest import RunningBots, e2e_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V1, PUTIN_V2, article_html, putin_v2
from tests.storage_rows import track_article
from tests.test_cli import redline

ALICE = 1001
T0 = datetime(2016, 10, 11, 9, 0, tzinfo=UTC)
ARTICLE = Article(id=1, url="https://example.com/putin", url_key="example.com/putin", site="example.com")


def version(number: int, title: str, paragraphs: list[str], minutes: int) -> Version:
    return Version(
        article_id=1,
        number=number,
        title=title,
        content={"title": title, "paragraphs": paragraphs},
        content_hash=str(number),
        summary="first version" if number == 1 else "edited",
        created_at=T0 + timedelta(minutes=minutes),
    )


STORY = [
    version(1, PUTIN_V1, [PUTIN_P1_V1, *PUTIN_REST], 0),
    version(2, PUTIN_V2, [PUTIN_P1_V2, *PUTIN_REST], 35),
    version(3, PUTIN_V2, [PUTIN_P1_V2, *PUTIN_REST[:2]], 90),
]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_json_holds_every_version_with_headline_paragraphs_and_time() -> None:
    document = json.loads(history_json(ARTICLE, list(reversed(STORY))))
    assert document["url"] == "https://example.com/putin"
    assert [v["version"] for v in document["versions"]] == [1, 2, 3]
    first, second, third = document["versions"]
    assert first == {
        "version": 1,
        "seen_at": "2016-10-11T09:00:00Z",
        "headline": PUTIN_V1,
        "paragraphs": [PUTIN_P1_V1, *PUTIN_REST],
        "summary": "first version",
    }
    assert second["headline"] == PUTIN_V2 and second["seen_at"] == "2016-10-11T09:35:00Z"
    assert third["paragraphs"] == [PUTIN_P1_V2, *PUTIN_REST[:2]]


def test_csv_has_one_row_per_change_from_the_diff() -> None:
    rows = csv_rows(changes_csv(STORY))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1:] == [
        ["2", "2016-10-11T09:35:00Z", "headline", "", PUTIN_V1, PUTIN_V2],
        ["2", "2016-10-11T09:35:00Z", "edited", "1", PUTIN_P1_V1, PUTIN_P1_V2],
        ["3", "2016-10-11T10:30:00Z", "removed", "4", PUTIN_REST[2], ""],
        ["3", "2016-10-11T10:30:00Z", "removed", "5", PUTIN_REST[3], ""],
    ]
    assert len(change_rows(STORY[:1])) == 0  # one version: no change yet, the header alone
    assert csv_rows(changes_csv(STORY[:1])) == [list(CSV_COLUMNS)]


def test_csv_keeps_commas_quotes_and_newlines_in_cells() -> None:
    before = 'The minister said: "no", then left the room without taking questions'
    after = 'The minister said: "no, never",\nthen left the room without taking questions'
    rows = csv_rows(changes_csv([version(1, "A", [before], 0), version(2, "A", [after], 5)]))
    assert rows[1:] == [["2", "2016-10-11T09:05:00Z", "edited", "1", before, after]]


def test_unknown_format_is_refused() -> None:
    try:
        export(ARTICLE, STORY, "xml")
    except ValueError as exc:
        assert str(exc) == "unknown export format 'xml'; expected one of ('json', 'csv')"
    else:
        raise AssertionError("xml accepted")


async def alice_tracks_putin(telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots) -> None:
    await bots.start()
    articles.set_page("/putin", article_html())
    await telegram.ask(ALICE, f"/track {articles.url('/putin')}")


async def test_export_command_sends_the_history_as_a_document(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await alice_tracks_putin(telegram, articles, bots)
    articles.set_page("/putin", putin_v2())
    announcement = await telegram.wait_for(ALICE, contains="<b>cancels</b>", timeout=15)

    sent = await telegram.ask(ALICE, "/export 1")
    assert sent.method == "sendDocument" and sent.file is not None and sent.file.data is not None
    assert sent.file.filename == "redline-1-history.json"
    assert sent.plain_text == f"History of #1: {PUTIN_V2} · 2 versions (JSON, every version)"
    document = json.loads(sent.file.data)
    assert [(v["version"], v["headline"]) for v in document["versions"]] == [(1, PUTIN_V1), (2, PUTIN_V2)]
    assert document["versions"][1]["paragraphs"][0] == PUTIN_P1_V2

    table = await telegram.ask(ALICE, "/export csv", reply_to=announcement.message_id)
    assert table.method == "sendDocument" and table.file is not None and table.file.data is not None
    assert table.file.filename == "redline-1-history.csv"
    assert [row[2:4] for row in csv_rows(table.file.data)[1:]] == [["headline", ""], ["edited", "1"]]


async def test_export_command_errors_are_plain_replies(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    await alice_tracks_putin(telegram, articles, bots)
    usage = (
        "Say which article: /export 2 sends its history as JSON; /export 2 csv one row per change; "
        "/export follows sends this chat's follows as OPML."
    )
    assert (await telegram.ask(ALICE, "/export")).text == usage
    assert (await telegram.ask(ALICE, "/export 1 xml")).text == usage
    assert (await telegram.ask(ALICE, "/export 7")).text == "There is no #7 in /list."
    elsewhere = (await telegram.ask(ALICE, "/export https://example.com/other")).text
    assert elsewhere == "This chat doesn't track that article. /list shows what it tracks."
    assert not [m for m in telegram.sent if m.method == "sendDocument"]


def test_cli_export_writes_json_and_csv(store: Storage, tmp_path: Path) -> None:
    aid = track_article(store, 1, "example.com/a").article.id
    store.articles.store_version(
        aid,
        title="Putin cancels Paris talks",
        content={"title": "Putin cancels Paris talks", "paragraphs": ["One.", "Two."]},
        content_hash="h2",
        summary="headline changed",
        deliveries=[],
        article_fields={},
        now=T0,
    )
    env = {"REDLINE_DATABASE_URL": store.engine.url.render_as_string(hide_password=False)}

    printed = redline("export", "--article", "https://example.com/a?utm_source=x", env=env)
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert [v["headline"] for v in document["versions"]] == [
        "Putin postpones Paris talks",
        "Putin cancels Paris talks",
    ]

    out = tmp_path / "a.csv"
    written = redline(
        "export", "--article", "example.com/a", "--format", "csv", "--output", str(out), env=env
    )
    assert written.returncode == 0, written.stderr
    assert (
        written.stdout
        == f"Wrote 2 versions of https://example.com/a to {out} ({out.stat().st_size} bytes).\n"
    )
    assert csv_rows(out.read_bytes())[1][2:] == [
        "headline",
        "",
        "Putin postpones Paris talks",
        "Putin cancels Paris talks",
    ]


def test_cli_export_refusals_are_one_line(
    store: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An article the database does not hold, and a database that is not there (not created)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDLINE_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    assert main(["export", "--article", "https://example.com/nope"]) == 2
    assert capsys.readouterr().err == (
        "redline: error: no article with the URL https://example.com/nope in the database\n"
    )
    monkeypatch.setenv("REDLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert main(["export", "--article", "https://example.com/a"]) == 2
    assert (
        capsys.readouterr().err
        == f"redline: error: no database at {tmp_path / 'none.db'} (check database.url)\n"
    )
    assert not (tmp_path / "none.db").exists()


async def test_an_export_over_the_upload_limit_is_refused_with_its_size(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots
) -> None:
    """Telegram takes at most 50 MB from a bot (limits.max_upload_bytes; a local Bot API
    server takes more). A bigger history is not sent, whatever its size, and the reply says
    so; before the cap the file went out whatever its size."""
    settings = e2e_settings(telegram, bots.db_path)
    await bots.start(with_overrides(settings, limits={"max_upload_bytes": 1000}))
    articles.set_page("/putin", article_html())
    await telegram.ask(ALICE, f"/track {articles.url('/putin')}")
    refused = await telegram.ask(ALICE, "/export 1")
    assert re.fullmatch(
        r"The history of #1 is too big to send: [\d.]+ KB as JSON, and I may send at most 1 KB\. "
        r"/export 1 csv is smaller\.",
        refused.text,
    ), refused.text
    table = await telegram.ask(ALICE, "/export 1 csv")
    assert table.method == "sendDocument"
    assert not [
        m for m in telegram.sent if m.method == "sendDocument" and m.file and m.file.filename.endswith("json")
    ]
