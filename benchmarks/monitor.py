"""The checking engine's benchmark (``make bench``): the real bot against its reference points.

    python -m benchmarks.monitor                       # the default run (~10 min on 2 cores)
    python -m benchmarks.monitor --n 200 --duration 5 --modes a c --memory-n 0 --no-postgres

What runs, all in one go so every ratio compares figures from the same machine and minute:

- a page server in its own process: N distinct URLs ``/a/<i>`` cycling the real corpus pages,
  spread over 20 sites (loopback addresses 127.0.0.1–20, so the per-site limit acts as it would),
  answering in one of four modes: (a) unchanged, ETag + 304; (b) unchanged, 200 with identical
  bytes; (c) the same article in new bytes on every fetch (a request id in an inline script, a
  CSP nonce, a "served at" comment and a ``data-`` attribute, as real news sites do);
  (d) as (c), and the 10 % of URLs with ``i % 10 == 0`` cycle through the corpus edits
  v1 → v2 → … → v5 → v1, one step per fetch, so each of their checks finds an edit;
- the bot: a real ``redline worker`` process (its own config file, a SQLite database filled
  beforehand through ``Storage.articles.track`` exactly as ``/track`` fills it, the fake Bot API of
  tests/fakes/telegram_api.py for its messages), every article due every second, so it runs
  flat out; checks are counted from its own ``check article=… outcome=…`` log lines, CPU is read
  from /proc for the worker and its children (exited ones included), peak RSS is the sum of
  VmHWM over that process tree;
- raw httpx: a process doing nothing but the same requests at the same concurrency (with
  If-None-Match in (a));
- bare trafilatura: ``trafilatura.bare_extraction`` of the same pages, one at a time;
- urlwatch (pip-installed into benchmarks/.venv-urlwatch, ``css: body`` + ``html2text``
  filters, one whole process per run over the same N URLs, the second run measured);
- a 10 000-article run for memory, and 2 ``redline worker`` processes on PostgreSQL vs 1 in (c);
- follow (benchmarks/follow.py, ``--follow-n``; alone: ``python -m benchmarks.monitor follow``):
  N articles arriving through followed feeds, the feed fetch cost beside the article checks.

CPU figures are per check, over a measured window after a warm-up. A benchmark is not a test:
``tests/test_bench.py`` only checks that it runs on a tiny N and prints every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
URLWATCH = PROJECT_ROOT / "benchmarks" / ".venv-urlwatch" / "bin" / "urlwatch"
MODES = ("a", "b", "c", "d")
MODE_NAMES = {
    "a": "unchanged, 304",
    "b": "unchanged, 200 same bytes",
    "c": "same article, new bytes every fetch",
    "d": "10% of pages edited",
}
CHATS = 20  # the articles are spread over this many chats, as a public bot's would be
# ... and over this many sites (127.0.0.1 … 127.0.0.20: Linux routes all of 127/8 to loopback),
# so monitor.per_site_limit throttles no more than it would on real news sites.
SITES = 20


def host(i: int) -> str:
    """The loopback address that stands for URL i's site."""
    return f"127.0.0.{1 + i % SITES}"


CONCURRENCY = 16  # monitor.concurrency's default; the raw httpx reference uses the same
CHECK_LINE = re.compile(r" check article=\d+ outcome=(\w+)")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# The page server (its own process: `python -m benchmarks.monitor serve`)
# --------------------------------------------------------------------------------------------


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
_BODY_START = re.compile(rb"<body\b", re.I)


def per_fetch_noise(page: bytes, serial: int) -> bytes:
    """The same page with what real sites change on every request."""
    stamp = f"{serial}-{time.time_ns()}".encode()
    script = b'<script nonce="' + stamp + b'">window.__REQUEST_ID__="' + stamp + b'";</script>'
    page, found = _HEAD_END.subn(script + b"</head>", page, count=1)
    if not found:
        page = script + page
    page = _BODY_START.sub(b'<body data-request-id="' + stamp + b'"', page, count=1)
    return page + b"\n<!-- served " + stamp + b" -->\n"


def serve(port_file: Path) -> None:
    """Serve /a/<i> in the current mode until killed; POST /_mode/<m> switches mode."""
    from aiohttp import web

    pages = corpus_pages()
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
            [sys.executable, "-m", "benchmarks.monitor", "serve", "--port-file", str(port_file)],
            cwd=PROJECT_ROOT,
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


# --------------------------------------------------------------------------------------------
# Process-tree accounting from /proc
# --------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields from "state" on


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            kids += [int(c) for c in (task / "children").read_text().split()]
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            todo += _children(p)
            out.append(p)
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its descendants, exited (reaped) children included."""
    total = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            f = _stat(p)
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime stime cutime cstime
    return total / CLK_TCK


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of each live process's peak resident set (VmHWM): an upper bound of the tree's peak."""
    kb = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError):
            m = re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{p}/status").read_text())
            kb += int(m.group(1)) if m else 0
    return kb / 1024


# --------------------------------------------------------------------------------------------
# The bot: a real `redline worker` on a database filled through Storage.articles.track
# --------------------------------------------------------------------------------------------


class FakeBotApi:
    """tests/fakes/telegram_api.py's server on its own event loop in a thread of this process."""

    def __init__(self, chat_ids: list[int]) -> None:
        from tests.fakes.telegram_api import FakeTelegram

        self.fake = FakeTelegram()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(30)
        for chat_id in chat_ids:
            self.fake.add_chat(chat_id)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def chat_ids() -> list[int]:
    return [900_001 + k for k in range(CHATS)]


# What /track learns of each corpus page (the fetched page, its extraction and fingerprint),
# by corpus slot: computed once per benchmark run.
Tracked = dict[int, tuple[Any, Any, str]]


def populate(database_url: str, server: PageServer, n: int, known: Tracked, start: int = 0) -> None:
    """Track URLs ``start``..N-1 as /track does: fetch, extract, store version 1 and the meta.

    URL i serves corpus page i % len(corpus) with the same bytes (and ETag, in mode a) as every
    other URL of that page, and extraction reads nothing the per-fetch noise changes: each
    corpus page is fetched, extracted and fingerprinted once into ``known``, not once per URL.
    """
    from bot.config import MonitorSettings
    from bot.core.extract import extract
    from bot.core.fingerprint import fingerprint
    from bot.net.fetch import Fetcher, FetchPolicy
    from bot.net.urls import site_name, url_key
    from bot.storage.articles import PageMeta
    from bot.storage.engine import make_engine
    from bot.storage.store import Storage

    store = Storage(make_engine(database_url))
    store.upgrade_schema()
    chats = chat_ids()
    for chat_id in chats:
        store.chats.ensure(chat_id, "private")
    n_pages = len(corpus_pages())
    missing = [slot for slot in range(min(n, n_pages)) if slot not in known]
    if missing:
        policy = FetchPolicy.from_settings(
            MonitorSettings(allow_private_addresses=True, allowed_ports=(server.port,))
        )

        async def fetch_all() -> list[Any]:
            async with Fetcher(policy) as fetcher:
                return [await fetcher.fetch(server.url(slot)) for slot in missing]

        for slot, page in zip(missing, asyncio.run(fetch_all()), strict=True):
            known[slot] = (page, extract(page.html, page.url), fingerprint(page.html))
    for i in range(start, n):
        page, snapshot, printed = known[i % n_pages]
        url = server.url(i)
        store.articles.track(
            chats[i % len(chats)],
            url=url,
            url_key=url_key(url),
            site=site_name(url),
            title=snapshot.title,
            content=snapshot.to_dict(),
            content_hash=snapshot.content_hash,
            meta=PageMeta(page.etag, page.last_modified, page.body_hash, printed),
            interval=1,
            # as /track stores them: without a headline carrier or a canonical key, every first
            # check is the one-time full read that adopts them (an upgraded database's articles)
            headline_carrier=snapshot.carrier,
            canonical_key=url_key(url),
        )
    store.engine.dispose()


@dataclass
class Figures:
    """One measured run: of the bot, or of a reference point."""

    checks: int
    seconds: float
    cpu: float  # seconds, whole process tree
    peak_rss_mb: float
    outcomes: Counter[str] = field(default_factory=Counter)  # the bot's check outcomes

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.checks if self.checks else float("nan")


def write_config(
    path: Path, database_url: str, api: FakeBotApi, server: PageServer, monitor: list[str]
) -> None:
    """The worker's config file; ``monitor`` adds ``KEY=VALUE`` lines (TOML values) to [monitor]."""
    extra = "".join(f"{line.strip()}\n" for line in monitor)
    path.write_text(
        f"""[telegram]
token = "{api.fake.token}"
base_url = "{api.fake.base_url}"
base_file_url = "{api.fake.base_file_url}"

[database]
url = "{database_url}"

[monitor]
interval = 1
min_interval = 1
max_interval = 1
allow_private_addresses = true
allowed_ports = [{server.port}]
{extra}
[logging]
level = "INFO"
"""
    )


def _count(log: Path) -> Counter[str]:
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return Counter()
    return Counter(CHECK_LINE.findall(text))


def run_workers(config: Path, workdir: Path, workers: int, warmup: float, duration: float) -> Figures:
    """Start ``workers`` redline worker processes; measure the window after the first checks."""
    procs, logs = [], []
    redline = Path(sys.executable).with_name("redline")
    for k in range(workers):
        log = workdir / f"worker-{k}-{time.monotonic_ns()}.log"
        with log.open("w") as fh:
            procs.append(
                subprocess.Popen(
                    [str(redline), "worker", "--config", str(config)],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    env={k: v for k, v in os.environ.items() if not k.startswith("REDLINE_")},
                )
            )
        logs.append(log)
    try:
        deadline = time.monotonic() + 120
        while not all(sum(_count(log).values()) for log in logs):
            for p, log in zip(procs, logs, strict=True):
                if p.poll() is not None:
                    raise SystemExit(f"redline worker exited {p.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("redline worker made no check in 120 s")
            time.sleep(0.1)
        time.sleep(warmup)
        before = [_count(log) for log in logs]
        cpu0, t0 = sum(tree_cpu(p.pid) for p in procs), time.monotonic()
        time.sleep(duration)
        after = [_count(log) for log in logs]
        cpu1, t1 = sum(tree_cpu(p.pid) for p in procs), time.monotonic()
        peak = sum(tree_peak_rss_mb(p.pid) for p in procs)
        for p, log in zip(procs, logs, strict=True):
            if p.poll() is not None:
                raise SystemExit(f"redline worker died ({p.returncode}):\n{log.read_text()[-3000:]}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    outcomes: Counter[str] = Counter()
    for a, b in zip(after, before, strict=True):
        outcomes += a - b
    return Figures(sum(outcomes.values()), t1 - t0, cpu1 - cpu0, peak, outcomes)


# --------------------------------------------------------------------------------------------
# Reference points
# --------------------------------------------------------------------------------------------


def raw_client(port: int, n: int, mode: str, duration: float, concurrency: int) -> None:
    """Print JSON figures of plain httpx GETs on the N URLs, round robin, ``concurrency`` at once."""
    import httpx

    async def main() -> dict[str, float]:
        etags: dict[int, str] = {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:

            async def get(i: int) -> None:
                headers = {"If-None-Match": etags[i]} if mode == "a" and i in etags else {}
                r = await client.get(f"http://{host(i)}:{port}/a/{i}", headers=headers)
                if "etag" in r.headers:
                    etags[i] = r.headers["etag"]

            for start in range(0, n, concurrency):  # learn the ETags, as the bot's /track did
                await asyncio.gather(*(get(i) for i in range(start, min(n, start + concurrency))))
            counter = iter(range(10**12))
            done = 0
            stop_at = time.monotonic() + duration

            async def loop() -> None:
                nonlocal done
                while time.monotonic() < stop_at:
                    await get(next(counter) % n)
                    done += 1

            cpu0, t0 = time.process_time(), time.monotonic()
            await asyncio.gather(*(loop() for _ in range(concurrency)))
            return {
                "checks": done,
                "seconds": time.monotonic() - t0,
                "cpu": time.process_time() - cpu0,
                "peak_rss_mb": tree_peak_rss_mb(os.getpid()),
            }

    print(json.dumps(asyncio.run(main())))


def figures_of(r: dict[str, float]) -> Figures:
    return Figures(int(r["checks"]), r["seconds"], r["cpu"], r["peak_rss_mb"])


def _run_json(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitor", *args],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def raw_httpx(server: PageServer, n: int, mode: str, duration: float) -> Figures:
    r = _run_json("raw", str(server.port), str(n), mode, str(duration), str(CONCURRENCY))
    return figures_of(r)


def bare_extraction(duration: float) -> None:
    """Print JSON figures of trafilatura.bare_extraction (and bot.core.fingerprint) on the corpus pages."""
    import trafilatura

    from bot.core.extract import extract
    from bot.core.fingerprint import fingerprint

    pages = [p[0].decode("utf-8", "replace") for p in corpus_pages()]
    figures = {}
    for name, fn in (
        (
            "extract",
            lambda h: trafilatura.bare_extraction(
                h, with_metadata=True, include_comments=False, deduplicate=False
            ),
        ),
        ("fingerprint", fingerprint),
        ("bot_extract", extract),  # trafilatura + the headline choice and paragraph filters
    ):
        done, cpu0, t0 = 0, time.process_time(), time.monotonic()
        while done < len(pages) or time.monotonic() - t0 < duration:
            fn(pages[done % len(pages)])
            done += 1
        figures[name] = {
            "checks": done,
            "seconds": time.monotonic() - t0,
            "cpu": time.process_time() - cpu0,
            "peak_rss_mb": tree_peak_rss_mb(os.getpid()),
        }
    print(json.dumps(figures))


URLWATCH_CONFIG = """display:
  new: true
  error: true
  unchanged: false
  empty-diff: false
report:
  text:
    line_length: 75
    details: true
    footer: false
    minimal: false
    separate: false
  stdout:
    enabled: true
    color: false
  html:
    diff: unified
    separate: false
  markdown:
    details: true
    footer: false
    minimal: false
    separate: false
  email:
    enabled: false
job_defaults:
  all: {}
  shell: {}
  url: {}
  browser: {}
"""


def urlwatch_run(server: PageServer, n: int, workdir: Path, mode: str) -> Figures | None:
    """Two urlwatch runs over the N URLs (the first fills its cache); figures of the second."""
    if not URLWATCH.exists():
        return None
    d = workdir / f"urlwatch-{mode}"
    d.mkdir(exist_ok=True)
    jobs = "---\n".join(
        f'name: "a{i}"\nurl: "{server.url(i)}"\nfilter:\n  - css: body\n  - html2text\n' for i in range(n)
    )
    (d / "urls.yaml").write_text(jobs)
    (d / "config.yaml").write_text(URLWATCH_CONFIG)
    cmd = [
        str(URLWATCH),
        "--urls",
        str(d / "urls.yaml"),
        "--config",
        str(d / "config.yaml"),
        "--cache",
        str(d / "cache.db"),
    ]
    env = {**os.environ, "HOME": str(d)}
    ref = None
    for _ in range(2):
        t0 = time.monotonic()
        with (d / "stderr.log").open("w") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=d)
            # ru_maxrss would carry this (forking) process's own peak over the exec: read
            # urlwatch's VmHWM from /proc while it runs instead.
            peak = 0.0
            while True:
                peak = max(peak, tree_peak_rss_mb(proc.pid))
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.05)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            tail = (d / "stderr.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"urlwatch failed ({proc.returncode}): {tail}")
        ref = Figures(n, seconds, usage.ru_utime + usage.ru_stime, peak)
    return ref


# --------------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


class Report:
    def __init__(self) -> None:
        self.verdicts: list[tuple[str, str, float, str, bool]] = []

    def target(self, figure: str, target: str, value: float, shown: str, met: bool) -> None:
        self.verdicts.append((figure, target, value, shown, met))

    def print_targets(self) -> None:
        print("\n== targets (issue #8), as ratios measured in this run ==")
        print(f"{'figure':52} {'target':16} {'measured':>28}  met")
        for figure, target, _value, shown, met in self.verdicts:
            print(f"{figure:52} {target:16} {shown:>28}  {'yes' if met else 'NO'}")


def row(label: str, r: Figures | Figures | None) -> str:
    if r is None:
        return f"  {label:26} skipped"
    return (
        f"  {label:26} {r.rate:9.1f} checks/s  {r.cpu_ms:8.2f} ms CPU/check  "
        f"peak RSS {r.peak_rss_mb:6.0f} MB  ({r.checks} checks in {r.seconds:.1f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd")
    s = sub.add_parser("serve", help=argparse.SUPPRESS)
    s.add_argument("--port-file", type=Path, required=True)
    r = sub.add_parser("raw", help=argparse.SUPPRESS)
    r.add_argument("port", type=int)
    r.add_argument("n", type=int)
    r.add_argument("mode")
    r.add_argument("duration", type=float)
    r.add_argument("concurrency", type=int)
    e = sub.add_parser("extract", help=argparse.SUPPRESS)
    e.add_argument("duration", type=float)
    f = sub.add_parser("follow", help="only the follow mode (benchmarks/follow.py)")
    f.add_argument("--n", type=int, default=200, help="articles arriving through feeds")
    f.add_argument("--feeds", type=int, default=4)
    f.add_argument("--chats", type=int, default=3, help="chats following every feed")
    parser.add_argument("--n", type=int, default=1000, help="distinct article URLs (default 1000)")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per bot run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds after the first check")
    parser.add_argument("--ref-duration", type=float, default=8, help="seconds per raw/extract run")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--memory-n", type=int, default=10_000, help="articles in the memory run (0: skip)")
    parser.add_argument(
        "--monitor",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra [monitor] setting for the workers, TOML value (e.g. concurrency=32); repeatable",
    )
    parser.add_argument(
        "--follow-n", type=int, default=200, help="articles arriving through followed feeds (0: skip)"
    )
    parser.add_argument("--no-urlwatch", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        serve(args.port_file)
        return 0
    if args.cmd == "raw":
        raw_client(args.port, args.n, args.mode, args.duration, args.concurrency)
        return 0
    if args.cmd == "extract":
        bare_extraction(args.duration)
        return 0
    if args.cmd == "follow":
        follow_mode(args.n, args.feeds, args.chats)
        return 0
    return bench(args)


def bench(args: argparse.Namespace) -> int:
    # SIGTERM (and SIGINT, ignored in background jobs) end the run through the cleanup below:
    # no page server, worker or PostgreSQL left behind.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    workdir = Path(tempfile.mkdtemp(prefix="redline-bench-"))
    server = PageServer(workdir)
    api = FakeBotApi(chat_ids())
    report = Report()
    try:
        _bench(args, workdir, server, api, report)
    finally:
        api.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report.print_targets()
    return 0


def _bench(
    args: argparse.Namespace, workdir: Path, server: PageServer, api: FakeBotApi, report: Report
) -> None:
    n, duration = args.n, args.duration
    print(f"redline benchmark: N={n} URLs over the corpus pages, {duration:g} s measured per bot run,")
    print(f"concurrency {CONCURRENCY}, {os.cpu_count()} CPUs; CPU is per check, whole process tree")
    if not URLWATCH.exists() and not args.no_urlwatch:
        print(f"urlwatch: skipped, not installed at {URLWATCH} (make bench installs it)")
    ex = _run_json("extract", str(args.ref_duration))
    extraction, fp = figures_of(ex["extract"]), figures_of(ex["fingerprint"])
    print("\n== bare extraction of the corpus pages, one at a time ==")
    print(row("trafilatura", extraction))
    print(row("bot.core.fingerprint", fp))
    print(row("bot.core.extract.extract", figures_of(ex["bot_extract"])))

    # One database filled as /track fills it (server in mode a, so the ETags are known),
    # copied for each mode so every run starts from the same state.
    template = workdir / "template.db"
    extracted: Tracked = {}
    server.set_mode("a")
    t0 = time.monotonic()
    populate(f"sqlite:///{template}", server, n, extracted)
    print(f"\n(tracked {n} articles through Storage.articles.track in {time.monotonic() - t0:.0f} s)")
    bots: dict[str, Figures] = {}
    for mode in args.modes:
        print(f"\n== mode ({mode}) {MODE_NAMES[mode]} ==")
        db = workdir / f"mode-{mode}.db"
        shutil.copy(template, db)
        server.set_mode(mode)
        config = workdir / f"mode-{mode}.toml"
        write_config(config, f"sqlite:///{db}", api, server, args.monitor)
        bot = bots[mode] = run_workers(config, workdir, 1, args.warmup, duration)
        print(row("redline worker", bot))
        print(f"  {'':22} outcomes: " + ", ".join(f"{k} {v}" for k, v in bot.outcomes.most_common()))
        server.set_mode(mode)
        raw = raw_httpx(server, n, mode, args.ref_duration)
        print(row("raw httpx", raw))
        uw = None
        if not args.no_urlwatch:
            server.set_mode(mode)
            uw = urlwatch_run(server, n, workdir, mode)
            print(row("urlwatch (whole run)", uw))
        _judge(report, mode, bot, raw, uw, extraction, bots.get("c"))

    if args.memory_n:
        print(f"\n== memory: {args.memory_n} articles, mode (d) ==")
        db = workdir / "memory.db"
        start = 0
        if args.memory_n >= n:  # the modes' N articles are its first N
            shutil.copy(template, db)
            start = n
        server.set_mode("a")
        t0 = time.monotonic()
        populate(f"sqlite:///{db}", server, args.memory_n, extracted, start=start)
        print(f"  (tracked {args.memory_n - start} more articles in {time.monotonic() - t0:.0f} s)")
        server.set_mode("d")
        config = workdir / "memory.toml"
        write_config(config, f"sqlite:///{db}", api, server, args.monitor)
        mem = run_workers(config, workdir, 1, args.warmup, duration)
        print(row("redline worker", mem))
        report.target(
            f"peak RSS, {args.memory_n} articles (bot + children)",
            "< 200 MB",
            mem.peak_rss_mb,
            f"{mem.peak_rss_mb:.0f} MB",
            mem.peak_rss_mb < 200,
        )

    if args.follow_n:
        follow_mode(args.follow_n, 4, 3)
    if not args.no_postgres:
        _postgres(args, workdir, server, api, report, extracted)


def follow_mode(n: int, feeds: int, chats: int) -> None:
    """N articles arriving through followed feeds: the feed fetch cost beside the checks."""
    from benchmarks.follow import follow_bench, report

    pages = [versions[0] for versions in corpus_pages()]
    report(n, feeds, chats, asyncio.run(follow_bench(n, feeds, chats, pages)))


def _postgres(
    args: argparse.Namespace,
    workdir: Path,
    server: PageServer,
    api: FakeBotApi,
    report: Report,
    extracted: Tracked,
) -> None:
    from tests.fakes.postgres import PostgresServer, find_bindir

    print("\n== PostgreSQL, mode (c): 1 redline worker vs 2 ==")
    bindir = find_bindir()
    if bindir is None:
        print("  skipped: no PostgreSQL server binaries installed (initdb not found)")
        return
    pg = PostgresServer(bindir)
    pg.start()
    try:
        url = pg.create_database("bench")
        server.set_mode("a")
        populate(url, server, args.n, extracted)
        server.set_mode("c")
        config = workdir / "postgres.toml"
        write_config(config, url, api, server, args.monitor)
        one = run_workers(config, workdir, 1, args.warmup, args.duration)
        print(row("1 worker", one))
        two = run_workers(config, workdir, 2, args.warmup, args.duration)
        print(row("2 workers", two))
        scale = ratio(two.rate, one.rate)
        report.target(
            "(c) checks/s, 2 workers on PostgreSQL vs 1", ">= 1.7x", scale, f"{scale:.2f}x", scale >= 1.7
        )
    finally:
        pg.stop()


def _judge(
    report: Report,
    mode: str,
    bot: Figures,
    raw: Figures,
    uw: Figures | None,
    extraction: Figures,
    bot_c: Figures | None,
) -> None:
    """Every ratio of the issue's target table that this mode's figures decide."""
    if mode in ("a", "b"):
        x = ratio(bot.rate, raw.rate)
        report.target(f"({mode}) checks/s vs raw httpx", ">= 0.75x", x, f"{x:.2f}x", x >= 0.75)
    if mode == "c":
        x = ratio(bot.rate, extraction.rate)
        report.target("(c) checks/s vs bare-extraction rate", ">= 5x", x, f"{x:.1f}x", x >= 5)
    if mode == "d":
        changed = bot.outcomes["changed"] + bot.outcomes["noise"] + bot.outcomes["same"]
        unchanged = bot.checks - changed
        base_ms = bot_c.cpu_ms if bot_c is not None else 0.0
        per_changed = (1000 * bot.cpu - unchanged * base_ms) / changed if changed else float("nan")
        x = ratio(per_changed, extraction.cpu_ms)
        report.target(
            "(d) CPU per changed check vs one bare extraction",
            "<= 1.10x",
            x,
            f"{per_changed:.1f} ms = {x:.2f}x",
            x <= 1.10,
        )
    if uw is not None:
        need = {"a": 4.0, "c": 4.0, "d": 1.3}.get(mode)
        x = ratio(uw.cpu_ms, bot.cpu_ms)
        if need is not None:
            report.target(
                f"({mode}) CPU per check: urlwatch / redline",
                f">= {need:g}x less",
                x,
                f"{uw.cpu_ms:.2f} / {bot.cpu_ms:.2f} ms = {x:.2f}x",
                x >= need,
            )
        else:
            print(f"  {'':22} CPU per check, urlwatch / redline: {x:.2f}x (no target in ({mode}))")


if __name__ == "__main__":
    sys.exit(main())
