"""Logging: one line per event, and never the bot token.

httpx logs every request URL at INFO, and a Bot API URL holds the token, so httpx and
httpcore are kept at WARNING; a filter on the root handler also blanks the token (and
anything shaped like one) from every record as a second line of defence.
"""

from __future__ import annotations

import logging
import re
import sys

TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")


def redact(text: str, token: str = "") -> str:
    """``text`` with the token, and anything shaped like a bot token, blanked."""
    if token:
        text = text.replace(token, "<token>")
    return TOKEN_SHAPE.sub("<token>", text)


class RedactToken(logging.Filter):
    def __init__(self, token: str = "") -> None:
        super().__init__()
        self.token = token

    def _clean(self, text: str) -> str:
        return redact(text, self.token)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later; format now so they can be cleaned too.
            formatter = logging.Formatter()
            cleaned += "\n" + self._clean(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        record.msg, record.args = cleaned, None
        return True


class NotJsonAnswer(logging.Filter):
    """PTB logs every answer that is not JSON (Telegram's 502 Bad Gateway page) at ERROR, with
    the page and a traceback, then raises ``NetworkError``, which its caller reports in one line:
    a blip at start-up printed dozens of lines per attempt. Kept as one DEBUG line, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Can not load invalid JSON data"):
            return True
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            return False
        body = record.getMessage().split(":", 1)[-1].strip()
        record.msg, record.args = "telegram_answer_not_json body=%r", (body[:120],)
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info, record.exc_text = None, None
        return True


class RefusalsOnOneLine(logging.Filter):
    """A request the webhook server refused (PTB's handler raises tornado's ``HTTPError`` 403
    for a caller without the secret, and logs it with its traceback): one line, no traceback.
    A refusal is an expected event, not a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.msg, record.args = f"{record.getMessage()} refused={status} reason={exc}", None
            record.exc_info, record.exc_text = None, None
        return True


def setup_logging(level: str = "INFO", token: str = "") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    handler.addFilter(RefusalsOnOneLine())
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    ptb_request = logging.getLogger("telegram.request.BaseRequest")
    for old_filter in [f for f in ptb_request.filters if isinstance(f, NotJsonAnswer)]:
        ptb_request.removeFilter(old_filter)
    ptb_request.addFilter(NotJsonAnswer())
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
