"""`make bench` runs: benchmarks/monitor.py on a tiny N prints every figure it promises.

Only that it runs and reports; the figures themselves are never judged here (a benchmark is
not a test, and timings on a shared machine are no pass/fail criterion).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

from benchmarks.monitor import URLWATCH
from bot.config import MonitorSettings
from tests.corpus import PROJECT_ROOT, corpus_or_skip
from tests.fakes.postgres import find_bindir

FIGURE = r"\s+\d+\.\d checks/s\s+\d+\.\d\d ms CPU/check\s+peak RSS\s+\d+ MB"


def test_benchmark_runs_on_a_tiny_n_and_prints_every_figure() -> None:
    corpus_or_skip()
    args = ["--n", "40", "--duration", "2", "--warmup", "0.3", "--ref-duration", "0.3", "--memory-n", "60"]
    args += ["--follow-n", "8"]
    if "tick" in {f.name for f in dataclasses.fields(MonitorSettings)}:
        args += ["--monitor", "tick = 0.2"]  # the tick scheduler: look for due checks often
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitor", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for label in ("trafilatura", "bot.core.fingerprint", r"bot\.core\.extract\.extract"):
        assert re.search(label + FIGURE, text), text
    for mode in "abcd":
        section = text.split(f"== mode ({mode})", 1)[1].split("\n==", 1)[0]
        assert re.search("redline worker" + FIGURE, section), section
        assert re.search("raw httpx" + FIGURE, section), section
        assert "outcomes: " in section
        if URLWATCH.exists():
            assert re.search(r"urlwatch \(whole run\)" + FIGURE, section), section
    if not URLWATCH.exists():
        assert "urlwatch: skipped, not installed at" in text
    assert re.search(r"== memory: 60 articles, mode \(d\) ==\n.*\n  redline worker" + FIGURE, text), text
    assert_follow_figures(text, 8)
    if find_bindir() is not None:
        assert re.search("1 worker" + FIGURE, text) and re.search("2 workers" + FIGURE, text), text
    else:
        assert "skipped: no PostgreSQL server binaries installed" in text
    targets = text.split("== targets (issue #8), as ratios measured in this run ==", 1)[1]
    for figure in (
        "(a) checks/s vs raw httpx",
        "(b) checks/s vs raw httpx",
        "(c) checks/s vs bare-extraction rate",
        "(d) CPU per changed check vs one bare extraction",
        "peak RSS, 60 articles (bot + children)",
    ):
        assert figure in targets, text
    if URLWATCH.exists():
        for mode in "acd":
            assert f"({mode}) CPU per check: urlwatch / redline" in targets
    if find_bindir() is not None:
        assert "(c) checks/s, 2 workers on PostgreSQL vs 1" in targets


FOLLOW_FIGURE = r"\s+\d+ ×\s+\d+\.\d\d ms wall\s+\d+\.\d\d ms CPU each"


def assert_follow_figures(text: str, n: int) -> None:
    section = text.split(f"== follow: {n} articles arrive through", 1)[1]
    for label in (
        "feed fetch, 304",
        r"feed fetch \+ parse, 200",
        r"article brought \(read once \+ subs\)",
        "article check, 304",
    ):
        assert re.search(label + FOLLOW_FIGURE, section), section
    assert re.search(r"feed fetches: \d+\.\d% of the CPU", section), section


def test_follow_mode_runs_alone_on_a_tiny_n_and_prints_every_figure() -> None:
    corpus_or_skip()
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitor", "follow", "--n", "6", "--feeds", "2", "--chats", "2"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert_follow_figures(out.stdout, 6)
