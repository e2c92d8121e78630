"""The ``redline`` command as a user runs it: a real subprocess, its output and exit status."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bot.messages.limits import visible_len
from tests.corpus import FIXTURES
from tests.fakes.ports import free_port
from tests.fakes.postgres import PostgresServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_V1, article_html, putin_v2
from tests.stories import fast_bot_env, first_user_sees_an_edit

ROOT = Path(__file__).resolve().parent.parent


def clean_env() -> dict[str, str]:
    """This environment without any REDLINE_ setting, with the project importable."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")}
    return {**clean, "PYTHONPATH": str(ROOT)}


def redline(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean_env(), **(env or {})},
        cwd=cwd or ROOT,
    )


def test_run_without_token_is_one_line(tmp_path: Path) -> None:
    result = redline("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "redline: error: no Telegram token: set REDLINE_TELEGRAM_TOKEN or [telegram] token in the "
        "config (get one from @BotFather)\n"
    )


def test_unreadable_config_is_one_line(tmp_path: Path) -> None:
    result = redline("run", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("redline: error: cannot read config ")


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    env = {"REDLINE_TELEGRAM_TOKEN": "1:x", "REDLINE_DATABASE_URL": "sqlite:////no/such/dir/x.db"}
    result = redline("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "redline: error: database directory does not exist: /no/such/dir\n"


def test_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    """A path that is a directory (SQLite) and a PostgreSQL server that is not there: one line
    each, and the password stays out of it."""
    port = free_port()
    cases = {
        f"sqlite:///{tmp_path}": f"redline: error: cannot open the database sqlite:///{tmp_path}: "
        "unable to open database file\n",
        f"postgresql+psycopg://redline:s3cret@127.0.0.1:{port}/redline": "redline: error: cannot open the "
        f"database postgresql+psycopg://redline:***@127.0.0.1:{port}/redline: connection failed: ",
    }
    for command in ("run", "worker"):
        for url, message in cases.items():
            result = redline(command, env={"REDLINE_TELEGRAM_TOKEN": "1:x", "REDLINE_DATABASE_URL": url})
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
            assert "s3cret" not in result.stderr


def test_check_prints_headline_and_numbered_paragraphs(tmp_path: Path) -> None:
    page = tmp_path / "putin.html"
    page.write_text(article_html())
    result = redline("check", str(page))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == PUTIN_V1
    assert f"¶1 {PUTIN_P1_V1}" in lines


def test_check_missing_file(tmp_path: Path) -> None:
    result = redline("check", str(tmp_path / "gone.html"))
    assert result.returncode == 2
    assert result.stderr == f"redline: error: no such file: {tmp_path / 'gone.html'}\n"


def test_diff_prints_the_announcement(tmp_path: Path) -> None:
    old, new = tmp_path / "v1.html", tmp_path / "v2.html"
    old.write_text(article_html())
    new.write_text(putin_v2())
    result = redline("diff", str(old), str(new), "--url", "https://www.theguardian.com/world/putin")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("✏️ Headline changed") and "theguardian.com</a>" in first
    assert "<s>postpones</s>" in result.stdout and "<b>cancels</b>" in result.stdout
    same = redline("diff", str(old), str(old))
    assert same.stdout == "No edit: the two pages have the same headline and text (noise ignored).\n"


def test_diff_reads_the_new_headline_where_the_old_page_showed_it(tmp_path: Path) -> None:
    """Only the <h1> rewritten: the headline change, in the <h1>'s words (the metadata's title
    is another field, and unchanged)."""
    old, new = tmp_path / "v1.html", tmp_path / "v2.html"
    page = (FIXTURES / "headline_v1.html").read_text(encoding="utf-8")
    old.write_text(page, encoding="utf-8")
    new.write_text(
        page.replace(">Putin cancels Paris visit amid Syria row</h1>", ">Kremlin snubs Hollande</h1>")
    )
    result = redline("diff", str(old), str(new), "--url", "https://www.example.com/world/putin")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("✏️ Headline changed")
    assert "<b>Kremlin snubs Hollande</b>" in result.stdout and "Vladimir" not in result.stdout


def test_diff_of_a_rewrite_keeps_the_announcement_budget() -> None:
    pages = [str(FIXTURES / "desk_rewrite_v1.html"), str(FIXTURES / "desk_rewrite_v2.html")]
    result = redline("diff", *pages)
    assert result.returncode == 0, result.stderr
    assert visible_len(result.stdout.rstrip("\n")) <= 1000
    # the digest's summary names the kind of rewrite (issue 14: was "4 paragraphs edited, ...")
    assert (
        "\nThe lede was rewritten, 3 more paragraphs edited, 2 new paragraphs, 1 removed\n" in result.stdout
    )
    roomy = redline("diff", *pages, env={"REDLINE_TELEGRAM_MAX_ANNOUNCEMENT_CHARS": "4096"})
    assert 2500 < visible_len(roomy.stdout.rstrip("\n")) <= 4096
    assert "4 paragraphs edited, 2 added, 1 removed — unannounced edit" in roomy.stdout.splitlines()[0]


def test_diff_of_a_story_mostly_rewritten_says_so(tmp_path: Path) -> None:
    said = [
        f"Officials said {n} people had been moved from the valley by the evening." for n in range(10, 16)
    ]
    updated = [p.replace(" people", "0 people") + " More were expected to leave overnight." for p in said[:5]]
    new_facts = [
        f"Rescue teams from {town} arrived before dawn with boats." for town in ("Ulm", "Passau", "Linz")
    ]
    old, new = tmp_path / "v1.html", tmp_path / "v2.html"
    old.write_text(article_html(paragraphs=said))
    new.write_text(article_html(paragraphs=[*updated, said[5], *new_facts]))
    result = redline("diff", str(old), str(new), env={"REDLINE_TELEGRAM_MAX_ANNOUNCEMENT_CHARS": "400"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1:3] == ["<i>Vladimir Putin postpones Paris talks on Syria</i>", ""]
    assert lines[3] == "Rewritten: 5 of 6 paragraphs changed, 3 new"
    assert visible_len(result.stdout.rstrip("\n")) <= 400


def test_diff_of_saved_pages_links_their_canonical_address(tmp_path: Path) -> None:
    canonical = '<head>\n  <link rel="canonical" href="https://www.theguardian.com/world/2016/oct/11/putin">'
    old, new = tmp_path / "v1.html", tmp_path / "v2.html"
    old.write_text(article_html().replace("<head>", canonical, 1))
    new.write_text(putin_v2().replace("<head>", canonical, 1))
    first = redline("diff", str(old), str(new)).stdout.splitlines()[0]
    assert first.endswith(
        '· <a href="https://www.theguardian.com/world/2016/oct/11/putin">theguardian.com</a>'
    )
    # Without one, the file itself is the link and its folder the site.
    old.write_text(article_html())
    first = redline("diff", str(old), str(new)).stdout.splitlines()[0]
    assert first.endswith(f'· <a href="{old.as_uri()}">{tmp_path.name}</a>')


def test_output_cut_short_by_the_reader_is_not_an_error(tmp_path: Path) -> None:
    page = tmp_path / "putin.html"
    page.write_text(article_html())
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "check", str(page)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `redline check … | head -0`: nobody reads what it prints
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert stderr == ""


def bot_env(telegram: FakeTelegram, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bot process on ``database_url`` that logs at DEBUG."""
    return {
        **clean_env(),
        **fast_bot_env(telegram),
        "REDLINE_DATABASE_URL": database_url,
        "REDLINE_LOGGING_LEVEL": "DEBUG",
        **extra,
    }


@asynccontextmanager
async def redline_process(command: str, env: dict[str, str], log: Path) -> AsyncIterator[Process]:
    """`redline COMMAND` as a child process logging to ``log``; it must exit 0 on SIGTERM."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", command, stdout=out, stderr=out, env=env, cwd=log.parent
        )
        try:
            yield proc
            assert proc.returncode is None, f"redline {command} exited early:\n{log.read_text()[-3000:]}"
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0, log.read_text()[-3000:]
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_redline_run_as_a_process(
    mode: str, telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path
) -> None:
    """`redline run` as a user starts it, configured only by environment variables: it
    answers, announces an edit, keeps the token out of its logs and stops cleanly on SIGTERM."""
    env = bot_env(telegram, f"sqlite:///{tmp_path / 'redline.db'}")
    if mode == "webhook":
        port = free_port()
        env |= {
            "REDLINE_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "REDLINE_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "REDLINE_TELEGRAM_WEBHOOK_PORT": str(port),
            "REDLINE_TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1",
        }
    log = tmp_path / "redline.log"
    async with redline_process("run", env, log):
        await first_user_sees_an_edit(telegram, articles)
        if mode == "webhook":  # a caller without the secret is not Telegram: refused, not read
            update = {
                "update_id": 1,
                "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
            }
            async with httpx.AsyncClient() as client:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                    answer = await client.post(f"http://127.0.0.1:{port}/hook", json=update, headers=headers)
                    assert answer.status_code == 403
    logs = log.read_text()
    assert "level=DEBUG" in logs and "check article=1" in logs
    assert telegram.token.split(":", 1)[1] not in logs
    assert "Traceback" not in logs, logs[logs.find("Traceback") - 400 :][:3000]
    if mode == "webhook":
        methods = [method for method, _params in telegram.requests]
        assert "setWebhook" in methods and "getUpdates" not in methods


def announced(telegram: FakeTelegram, chat_id: int) -> list[str]:
    """The "/diff_N" of every headline announcement the chat got, sorted."""
    return sorted(
        "/diff_" + m.text.rsplit("/diff_", 1)[1]
        for m in telegram.messages_to(chat_id)
        if "<b>cancels</b>" in m.text
    )


async def test_run_and_worker_on_postgresql_announce_each_edit_once(
    telegram: FakeTelegram, articles: ArticleServer, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Scaled out: `run` answers commands, a `worker` beside it shares the checks and sends;
    every edit still reaches every chat exactly once."""
    env = bot_env(telegram, postgres_server.create_database("scaleout"))
    paths = [f"/s{i}" for i in range(6)]
    for path in paths:
        articles.set_page(path, article_html())
    async with (
        redline_process("run", env, tmp_path / "run.log"),
        redline_process("worker", env, tmp_path / "worker.log"),
    ):
        for path in paths:
            reply = await telegram.ask(1001, f"/track {articles.url(path)}", timeout=60)
            assert reply.text.startswith("👀 Tracking #")
            await telegram.ask(
                -2002, f"/track {articles.url(path)}", timeout=30, chat_type="group", title="Desk"
            )
        await asyncio.sleep(2)  # a few checks with nothing to say
        for path in paths:
            articles.set_page(path, putin_v2())
        async with asyncio.timeout(30):
            while len(announced(telegram, 1001)) + len(announced(telegram, -2002)) < 2 * len(paths):
                await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # and nothing more comes, from either process
    every = [f"/diff_{n}" for n in range(1, len(paths) + 1)]
    assert announced(telegram, 1001) == every
    assert announced(telegram, -2002) == every
    both = (tmp_path / "run.log").read_text() + (tmp_path / "worker.log").read_text()
    assert "check article=" in (tmp_path / "worker.log").read_text(), "the worker did no checks"
    assert "Traceback" not in both
