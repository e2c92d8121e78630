"""The page server of ``make bench``: N article URLs over 20 sites in one of five modes.

    python -m benchmarks.pages --port-file PATH    # serves until killed; POST /_mode/<m> switches

URL ``/a/<i>`` serves corpus page ``i % len(corpus)``; every site's loopback address
(127.0.0.1–20, Linux routes all of 127/8 to loopback) reaches the same server, so the bot's
per-site limit acts as it would on real news sites. The modes:

(a) unchanged, ETag + 304; (b) unchanged, 200 with identical bytes; (c) the same article in new
bytes on every fetch (a request id in an inline script, a CSP nonce, a "served at" comment and a
``data-`` attribute, as real news sites do); (d) as (c), and the 10 % of URLs with
``i % 10 == 0`` cycle through the corpus edits v1 → v2 → … → v5 → v1, one step per fetch;
(e) as (c), and visible text outside the article changes on every fetch, the commonest real
case: an "Updated 22:41:07" clock and a comment count above the article, a reshuffled "Most
read" list after it. Nothing of the article changes in (e): a bot that announces is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.proc import PROJECT_ROOT

MODES = ("a", "b", "c", "d", "e")
MODE_NAMES = {
    "a": "unchanged, 304",
    "b": "unchanged, 200 same bytes",
    "c": "same article, new bytes every fetch",
    "d": "10% of pages edited",
    "e": "visible text outside the article changes",
}
SITES = 20


def host(i: int) -> str:
    """The loopback address that stands for URL i's site."""
    return f"127.0.0.{1 + i % SITES}"


def corpus_pages() -> list[list[bytes]]:
    """Every corpus page as [v1, v2, …, v5] bytes (v1 first), in manifest order."""
    from benchmarks.corpus import corpus_dir, load_manifest

    corpus = corpus_dir()
    if corpus is None:
        raise SystemExit("corpus not found: set REDLINE_CORPUS (default ../shared/corpus)")
    pages = []
    for page in load_manifest(corpus)["pages"]:
        files = ["v1.html"] + [v["file"] for v in page["versions"] if v["notify"]]
        pages.append([(corpus / "pages" / page["slug"] / f).read_bytes() for f in files])
    return pages


_HEAD_END = re.compile(rb"</head\s*>", re.I)
_BODY_START = re.compile(rb"<body\b[^>]*>", re.I)
_BODY_END = re.compile(rb"</body\s*>", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)


def per_fetch_noise(page: bytes, serial: int) -> bytes:
    """The same page with what real sites change on every request, none of it visible."""
    stamp = f"{serial}-{time.time_ns()}".encode()
    script = b'<script nonce="' + stamp + b'">window.__REQUEST_ID__="' + stamp + b'";</script>'
    page, found = _HEAD_END.subn(script + b"</head>", page, count=1)
    if not found:
        page = script + page
    page = re.sub(rb"<body\b", b'<body data-request-id="' + stamp + b'"', page, count=1, flags=re.I)
    return page + b"\n<!-- served " + stamp + b" -->\n"


def visible_noise(page: bytes, serial: int, headlines: list[str]) -> bytes:
    """(e): a clock and a comment count above the article, a reshuffled "Most read" list after it."""
    rng = random.Random(serial)
    clock = time.strftime("%H:%M:%S", time.gmtime())
    top = (
        f'<div class="site-bar"><p class="updated">Updated {clock}</p>'
        f'<p class="comments"><a href="#comments">{rng.randint(10, 4000):,} comments</a></p></div>'
    ).encode()
    picks = rng.sample(headlines, min(5, len(headlines)))
    items = "".join(f'<li><a href="/a/{k}">{html.escape(t)}</a></li>' for k, t in enumerate(picks))
    most_read = f'<aside class="most-read"><h2>Most read</h2><ol>{items}</ol></aside>'.encode()
    opened = _BODY_START.search(page)
    at = opened.end() if opened else 0
    page = page[:at] + top + page[at:]
    page, found = _BODY_END.subn(most_read + b"</body>", page, count=1)
    return page if found else page + most_read


def headlines_of(pages: list[list[bytes]]) -> list[str]:
    """The corpus pages' <title>s: what a "Most read" list shows."""
    out = []
    for versions in pages:
        m = _TITLE.search(versions[0])
        if m:
            out.append(html.unescape(m.group(1).decode("utf-8", "replace")).strip()[:120])
    return out or ["Most read story"]


def serve(port_file: Path) -> None:
    """Serve /a/<i> in the current mode until killed; POST /_mode/<m> switches mode."""
    from aiohttp import web

    pages = corpus_pages()
    headlines = headlines_of(pages)
    etags = [f'"{hashlib.sha1(p[0]).hexdigest()}"' for p in pages]
    state: dict[str, Any] = {"mode": "a", "serial": 0, "fetches": Counter()}

    async def article(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        versions = pages[i % len(pages)]
        mode = state["mode"]
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if mode == "a":
            etag = etags[i % len(pages)]
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(body=versions[0], headers={**headers, "ETag": etag})
        if mode == "b":
            return web.Response(body=versions[0], headers=headers)
        state["serial"] += 1
        body = versions[0]
        if mode == "d" and i % 10 == 0:
            fetches = state["fetches"]
            fetches[i] += 1
            body = versions[fetches[i] % len(versions)]
        if mode == "e":
            body = visible_noise(body, state["serial"], headlines)
        return web.Response(body=per_fetch_noise(body, state["serial"]), headers=headers)

    async def set_mode(request: web.Request) -> web.Response:
        state["mode"] = request.match_info["m"]
        state["fetches"] = Counter()
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/a/{i:\\d+}", article)
        app.router.add_post("/_mode/{m}", set_mode)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host(0), 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        for k in range(1, SITES):  # the same server on every site's loopback address
            await web.TCPSite(runner, host(k), port, backlog=1024).start()
        port_file.write_text(str(port))
        await asyncio.Event().wait()

    asyncio.run(main())


class PageServer:
    """The page server process, seen from the benchmark."""

    def __init__(self, workdir: Path) -> None:
        port_file = workdir / "pages.port"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.pages", "--port-file", str(port_file)], cwd=PROJECT_ROOT
        )
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the page server did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def url(self, i: int) -> str:
        return f"http://{host(i)}:{self.port}/a/{i}"

    def set_mode(self, mode: str) -> None:
        import httpx

        httpx.post(f"http://127.0.0.1:{self.port}/_mode/{mode}").raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", type=Path, required=True)
    serve(parser.parse_args().port_file)
