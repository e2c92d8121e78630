"""Open a file in headless Chromium at a phone's size and read what the browser renders.

Chromium is driven over the DevTools protocol (a websocket on 127.0.0.1): the page is loaded
from a file:// URL with networking features off, and a script evaluated in the page reports
what a reader would see — the rendered text with the removed or the added runs hidden
(which must leave exactly the new or the old version), which runs are struck or marked, whether
anything is wider than the screen. Pages the bot serves are read the same way over http://. Tests skip, with the reason, only where no Chromium is installed
(``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

PHONE = (390, 844)  # an iPhone 12–15's CSS viewport
NO_CHROMIUM = "no Chromium installed (Debian package `chromium`; .ci/run installs it)"

# Everything a reader could see: the text, struck and marked runs, labels, widths.
PROBE = """
(() => {
  const style = e => getComputedStyle(e);
  const text = e => e.innerText.replace(/\\s+/g, ' ').trim();
  const all = [...document.querySelectorAll('body *')];
  const painted = e => { const bg = style(e).backgroundColor; return bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent'; };
  return {
    url: location.href,
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyFontPx: parseFloat(style(document.body).fontSize),
    ...Object.fromEntries([['newText', 'del'], ['oldText', 'ins']].map(([key, hidden]) => {
      const runs = [...document.querySelectorAll(hidden)];
      runs.forEach(e => { e.style.display = 'none'; });
      const shown = text(document.querySelector('main'));
      runs.forEach(e => { e.style.display = ''; });
      return [key, shown];
    })),
    headingFirst: document.querySelector('main').firstElementChild.matches('h1, .label'),
    struck: all.filter(e => style(e).textDecorationLine.includes('line-through')).map(text),
    marked: all.filter(e => e.matches('ins, mark') && painted(e)).map(text),
    labels: [...document.querySelectorAll('.label')].map(text),
    overflowing: all.filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).length,
    resources: performance.getEntriesByType('resource').length,
    bodyText: text(document.body),
    sections: [...document.querySelectorAll('section[id]')].map(e => e.id),
    scripts: document.scripts.length,
  };
})()
"""


def chromium_or_skip() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(NO_CHROMIUM)


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    assert process.stderr is not None
    while True:
        line = (await process.stderr.readline()).decode(errors="replace")
        if not line:
            raise AssertionError("Chromium exited before it opened the DevTools port")
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            return int(found.group(1))


async def read_as_phone(target: Path | str, timeout: float = 60, *, scripts: bool = True) -> dict[str, Any]:
    """Load ``target`` (a file, or an http:// address) in headless Chromium at phone size; what
    PROBE reports about it. With ``scripts=False`` the page's own JavaScript is switched off,
    as for a reader who blocks it (PROBE still runs: DevTools evaluates it)."""
    binary = chromium_or_skip()
    with tempfile.TemporaryDirectory(prefix="redline-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={PHONE[0]},{PHONE[1]}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(timeout):
                url = target if isinstance(target, str) else target.resolve().as_uri()
                return await _probe(await _devtools_port(process), url, scripts)
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _probe(port: int, url: str, scripts: bool) -> dict[str, Any]:
    ids = itertools.count(1)
    async with ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json(content_type=None)
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            seen_events: set[str] = set()

            async def until(done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
                while True:
                    message = json.loads((await ws.receive()).data)
                    seen_events.add(message.get("method", ""))
                    if done(message):
                        return message

            async def call(method: str, **params: Any) -> dict[str, Any]:
                call_id = next(ids)
                await ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
                reply = await until(lambda m: m.get("id") == call_id)
                assert "error" not in reply, reply
                return dict(reply["result"])

            await call("Page.enable")
            # A phone's viewport (headless windows are never narrower than 500 px): 390 CSS px
            # wide, 3 device pixels per CSS pixel, and the viewport meta tag honoured.
            width, height = PHONE
            await call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=3,
                mobile=True,
            )
            if not scripts:
                await call("Emulation.setScriptExecutionDisabled", value=True)
            await call("Page.navigate", url=url)
            if "Page.loadEventFired" not in seen_events:
                await until(lambda m: m.get("method") == "Page.loadEventFired")
            result = await call("Runtime.evaluate", expression=PROBE, returnByValue=True)
            assert "exceptionDetails" not in result, result
            assert result["result"]["value"]["url"] == url, result
            return dict(result["result"]["value"])
