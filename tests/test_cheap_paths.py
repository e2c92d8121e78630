"""The monitor's cheap paths through the running bot: a page whose bytes change on every fetch
(nonces, request ids) is not extracted again, yet an edit in a ``<div>`` paragraph — where a
``<p>``-only fingerprint would look away — is announced."""

from __future__ import annotations

import asyncio
import logging
from html import escape

import pytest

from tests.conftest import RunningBots
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.web import ArticleServer
from tests.pages import PUTIN_P1_V1, PUTIN_P1_V2, PUTIN_REST, PUTIN_V1

ALICE = 7001


def div_page(first: str, request_id: int) -> str:
    """An article whose paragraphs are <div>s, with a nonce and a request id that change per fetch."""
    paras = "\n".join(f'      <div class="para">{escape(p)}</div>' for p in (first, *PUTIN_REST))
    return f"""<!DOCTYPE html>
<html lang="en"><head>
  <meta charset="utf-8"><title>{escape(PUTIN_V1)} | The Daily Example</title>
  <meta property="og:title" content="{escape(PUTIN_V1, quote=True)}">
  <script nonce="n{request_id}">window.requestId = "{request_id}";</script>
</head><body>
  <!-- served by node-{request_id} -->
  <article>
    <h1>{escape(PUTIN_V1)}</h1>
    <div class="body" data-request="{request_id}">
{paras}
    </div>
  </article>
</body></html>
"""


async def _check_logged(caplog: pytest.LogCaptureFixture, outcome: str, timeout: float = 15) -> None:
    """Wait for a ``check ... outcome=<outcome>`` line from the monitor."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    needle = f"outcome={outcome} "
    while not any(r.name == "redline.monitor" and needle in r.getMessage() for r in caplog.records):
        assert loop.time() < deadline, f"no check with outcome={outcome}: {caplog.text[-2000:]}"
        await asyncio.sleep(0.05)


async def test_div_paragraph_edit_is_announced_past_an_unchanged_fingerprint(
    telegram: FakeTelegram, articles: ArticleServer, bots: RunningBots, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="redline.monitor")
    await bots.start()
    articles.set_page("/d", div_page(PUTIN_P1_V1, 1))
    tracked = await telegram.ask(ALICE, f"/track {articles.url('/d')}")
    assert tracked.text.startswith("👀 Tracking #1")
    sent = len(telegram.sent)

    # New bytes, same article: the fingerprint stored by /track matches, nothing is extracted.
    articles.set_page("/d", div_page(PUTIN_P1_V1, 2))
    await _check_logged(caplog, "fingerprint_same")
    assert len(telegram.sent) == sent

    # New bytes and an edited <div> paragraph: extracted, diffed, announced.
    articles.set_page("/d", div_page(PUTIN_P1_V2, 3))
    edit = await telegram.wait_for(ALICE, contains="¶1 edited", timeout=15, after=sent)
    assert edit.text.startswith("✏️ 1 paragraph edited")
    assert "<s>, the Kremlin said on Tuesday</s>" in edit.text and "accused France" in edit.text
    await _check_logged(caplog, "changed")
    assert [m for m in telegram.sent[sent:] if m.chat_id == ALICE] == [edit]
