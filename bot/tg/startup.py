"""Reaching Telegram at start-up: retry a blip with back-off, stop at once on a refused token.

``redline run`` asks Telegram who it is (getMe) before anything else. A 502 or a timeout for a
few seconds at boot (Telegram, the network, a proxy) is retried, one log line per attempt; a
revoked or mistyped token (401/404) never gets better, so it ends the start at once. PTB's own
``InvalidToken`` message quotes the token whole: it is never shown, here or in a log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

log = logging.getLogger("redline.startup")

MAX_BACKOFF = 30.0


class TokenRejected(Exception):
    """Telegram refused the token: it was revoked or mistyped."""


class TelegramUnreachable(Exception):
    """Telegram did not answer in any of the attempts; the message is one line without the token."""


def backoff(attempt: int) -> float:
    """Seconds before the next attempt after failed attempt ``attempt`` (1, 2, 4, … 30)."""
    return min(MAX_BACKOFF, 2.0 ** (attempt - 1))


def short_error(exc: TelegramError) -> str:
    """PTB's message without the response body it quotes when the answer is not JSON (an HTML
    error page of several lines): ``Bad Gateway (502)``."""
    return str(exc.message).split(". Parsing the server response", 1)[0]


async def reach_telegram(
    token: str,
    base_url: str,
    attempts: int,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> str:
    """Ask Telegram who the bot is, retrying with back-off; the bot's username."""
    bot = Bot(token, base_url=base_url)
    try:
        for attempt in range(1, attempts + 1):
            try:
                await bot.initialize()
            except InvalidToken:
                raise TokenRejected from None  # PTB's message quotes the token; the CLI says one line
            except TelegramError as exc:
                if attempt == attempts:
                    raise TelegramUnreachable(
                        f"Telegram did not answer after {attempts} attempts: {short_error(exc)}"
                    ) from None
                delay = backoff(attempt)
                log.warning(
                    "telegram_unreachable attempt=%d/%d error=%r retry_in=%.0fs",
                    attempt,
                    attempts,
                    short_error(exc),
                    delay,
                )
                await sleep(delay)
            else:
                log.info("telegram_reached bot=%s attempts=%d", bot.username, attempt)
                return bot.username
        raise AssertionError("unreachable: the last attempt returns or raises")
    finally:
        await bot.shutdown()
