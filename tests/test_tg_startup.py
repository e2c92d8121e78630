"""`redline run` at start-up as a real process against the fake Bot API: a Telegram blip (502
Bad Gateway pages) is retried with back-off, one log line per attempt, and the bot then runs; a
revoked token is one line and exit 2, the token in no output whatever PTB's exception says."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.tg.startup import backoff, reach_telegram
from tests.fakes.telegram_api import FakeTelegram
from tests.test_cli import ROOT, bot_env, redline_process

TOKEN_REFUSED = (
    "redline: error: Telegram refused the token (401 Unauthorized): it was revoked or mistyped. Get the "
    "current one from @BotFather (/mybots → API Token) and set REDLINE_TELEGRAM_TOKEN\n"
)


async def run_to_exit(env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=env, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_blip_at_start_is_retried_and_the_bot_runs(telegram: FakeTelegram, tmp_path: Path) -> None:
    telegram.gateway_down("getMe", count=2)
    env = bot_env(telegram, f"sqlite:///{tmp_path / 'redline.db'}")
    log = tmp_path / "redline.log"
    async with redline_process("run", env, log):
        start = await telegram.ask(1001, "/start", timeout=60)
        assert "/track" in start.text
    logs = log.read_text()
    retries = [line for line in logs.splitlines() if "telegram_unreachable" in line]
    assert [line.split(" logger=")[1] for line in retries] == [
        "redline.startup telegram_unreachable attempt=1/10 error='Bad Gateway (502)' retry_in=1s",
        "redline.startup telegram_unreachable attempt=2/10 error='Bad Gateway (502)' retry_in=2s",
    ]
    assert "redline.startup telegram_reached bot=redline_test_bot attempts=3" in logs
    assert [f for f in telegram.failures if f[0] == "getMe"] == [("getMe", 502, "Bad Gateway")] * 2
    assert "Traceback" not in logs and telegram.token.split(":", 1)[1] not in logs


async def test_a_revoked_token_is_one_line_and_exit_2(telegram: FakeTelegram, tmp_path: Path) -> None:
    telegram.revoke_token()
    env = bot_env(telegram, f"sqlite:///{tmp_path / 'redline.db'}", REDLINE_LOGGING_LEVEL="INFO")
    code, out, err = await run_to_exit(env, tmp_path)
    assert (code, out, err) == (2, "", TOKEN_REFUSED)
    assert [m for m, _ in telegram.requests] == []  # refused before any method: the 401 is the token's
    assert telegram.failures == [("getMe", 401, "Unauthorized")]


async def test_telegram_down_for_every_attempt_is_one_line_and_exit_1(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.gateway_down("getMe", count=2)
    env = bot_env(
        telegram,
        f"sqlite:///{tmp_path / 'redline.db'}",
        REDLINE_TELEGRAM_STARTUP_ATTEMPTS="2",
        REDLINE_LOGGING_LEVEL="INFO",
    )
    code, out, err = await run_to_exit(env, tmp_path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[-1] == "redline: error: Telegram did not answer after 2 attempts: Bad Gateway (502)"
    assert len(lines) == 2 and "telegram_unreachable attempt=1/2" in lines[0]
    assert telegram.token.split(":", 1)[1] not in err


async def test_the_token_is_in_no_output_whatever_ptb_says(telegram: FakeTelegram) -> None:
    """PTB's InvalidToken quotes the token whole; reach_telegram lets none of it out."""
    from bot.tg.startup import TokenRejected

    telegram.revoke_token()
    with pytest.raises(TokenRejected) as caught:
        await reach_telegram(telegram.token, telegram.base_url, attempts=3)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    assert telegram.token not in str(caught.value) and telegram.token not in repr(caught.value)
    assert ROOT.is_dir()
