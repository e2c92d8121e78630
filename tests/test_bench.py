"""`make bench` runs: benchmarks/monitor.py on a tiny N prints every figure and target it promises.

Only that it runs and reports; the figures themselves are never judged here (a benchmark is
not a test, and timings on a shared machine are no pass/fail criterion).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bots import FakeBotApi, chat_ids, populate, run_bot, write_config
from benchmarks.monitor import URLWATCH
from benchmarks.pages import PageServer
from benchmarks.report import row
from benchmarks.urlwatch import urlwatch_run
from tests.corpus import PROJECT_ROOT, corpus_or_skip
from tests.fakes.postgres import find_bindir

NUMBER = r"(?:\d+\.\d+|\d+)"
FIGURE = (
    r"\s+\d+\.\d checks/s\s+\d+\.\d\d ms CPU/check\s+peak RSS\s+\d+ MB\s+"
    r"\(\d+ checks in \d+\.\d s\)\s+failed \d+\s+(?:valid|INVALID \(.+\))"
)
CELL = r"\s+\d+\.\d\s+\d+\.\d\d\s+\d+\s+\d+\s+(?:valid|INVALID)\s+"
MODES = "abcde"
N, STEADY_N = 20, 16  # different: urlwatch runs over each, as in the default run


def test_benchmark_runs_on_a_tiny_n_and_prints_every_figure_and_target() -> None:
    corpus_or_skip()
    args = ["--n", str(N), "--steady-n", str(STEADY_N), "--steady-interval", "1", "--steady-interval-e", "2"]
    args += ["--duration", "1.2", "--warmup", "0.2", "--ref-duration", "0.2", "--memory-n", "30"]
    args += ["--idle-duration", "1", "--follow-n", "4", "--jobs", "4"]
    args += ["--monitor", "tick = 0.2"]  # a steady run starts a tick after the bot: look often
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.monitor", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert re.search(r"^redline benchmark: \d+ cores \(usable here: \d+\), load average", text, re.M), text
    for label in ("trafilatura", "bot.core.fingerprint", r"bot\.core\.extract\.extract"):
        assert re.search(label + FIGURE, text), text
    for mode in MODES:
        section = text.split(f"== mode ({mode})", 1)[1].split("\n==", 1)[0]
        for regime in ("saturated", "steady"):
            for kind in ("run", "worker"):
                assert re.search(f"redline {kind}, {regime}" + FIGURE, section), section
        assert re.search("raw httpx" + FIGURE, section), section
        assert section.count("outcomes: ") == 4, section
        steady = r"expected \d+\.\d checks/s \(N=\d+ every \d+ s\); due backlog mean \d+\.\d, max \d+; "
        assert (
            len(re.findall(steady + r"longest wait past due \d+\.\d\d s \(due and unclaimed", section)) == 2
        ), section
        if URLWATCH.exists():
            for count in (N, STEADY_N):
                assert re.search(f"urlwatch, {count} URLs" + FIGURE, section), section
            assert section.count("ms CPU/URL before netting out start-up") == 2, section
    table = text.split("== steady load beside saturated, per mode (cores: ", 1)[1].split("\n==", 1)[0]
    programs = ["redline run", "redline worker"] + (
        ["urlwatch \\(start-up netted out\\)"] if URLWATCH.exists() else []
    )
    for mode in MODES:
        for program in programs:
            assert re.search(rf"\({mode}\) {program}\s*\|{CELL}\|{CELL}", table), table
    if URLWATCH.exists():
        assert re.search(r"urlwatch: start-up netted out: a run with an empty job list costs \d+ ms", text)
    else:
        assert "urlwatch: skipped, not installed at" in text
    memory = text.split("== memory and idle: `redline run` with 30 articles ==", 1)[1]
    assert re.search(r"redline run, mode \(d\), all due" + FIGURE, memory), memory
    idle = r"redline run, none due \(idle\)\s+\d+ ms CPU in \d+\.\d s = \d+\.\d\d s CPU per minute"
    assert re.search(idle + r"\s+peak RSS\s+\d+ MB\s+(?:valid|INVALID)", memory), memory
    assert_follow_figures(text, 4)
    if find_bindir() is not None:
        assert re.search(r"1 worker \+ PostgreSQL" + FIGURE, text), text
        assert re.search(r"2 workers \+ PostgreSQL" + FIGURE, text), text
    else:
        assert "skipped: no PostgreSQL server binaries installed" in text
    assert "ERROR log lines" not in text  # the bench's own setup: a bot that logs errors is misled
    assert_targets(text)
    assert re.search(r"\(benchmark took \d+ s; load average now ", text), text


def assert_targets(text: str) -> None:
    """Every ratio of issue #19 (and of issue #8 still held) on a line with its target and verdict."""
    issue19 = text.split("== targets: issue #19 ==", 1)[1].split("\n==", 1)[0]
    lines = [
        f"({m}) steady `redline {kind}` CPU/check vs saturated worker  <= 1.3x  "
        for m in MODES
        for kind in ("run", "worker")
    ]
    lines += [
        "(a) saturated worker CPU/check vs one raw httpx request  <= 1.2x  ",
        "(c) saturated worker CPU/check vs one request + one fingerprint  <= 1.3x  ",
        "(d) saturated worker CPU per changed check vs one bare extraction  <= 1.3x  ",
        "(e) edits found in text outside the article (a defect)  0  ",
        "peak RSS, `redline run` with 30 articles under load  < 200 MB  ",
        "idle `redline run`, 30 articles, none due: CPU per minute  < 1 s  ",
        "runs invalid (a failed check, or not keeping up)  0  ",
    ]
    if URLWATCH.exists():
        lines += [
            "(a) steady CPU/check: urlwatch / `redline run`  >= 1.5x less  ",
            "(b) steady CPU/check: urlwatch / `redline run`  (no target)  ",
            "(c) steady CPU/check: urlwatch / `redline run`  >= 2x less  ",
            "(d) steady CPU/check: urlwatch / `redline run`  >= 1.3x less  ",
            "(e) steady CPU/check: urlwatch / `redline run`  (no target)  ",
        ]
    issue8 = text.split("== targets: issue #8, still held ==", 1)[1].split("\n==", 1)[0]
    old = [
        "(a) checks/s vs raw httpx  >= 0.75x  ",
        "(b) checks/s vs raw httpx  >= 0.75x  ",
        "(c) checks/s vs bare-extraction rate  >= 5x  ",
    ]
    if find_bindir() is not None:
        old.append("(c) checks/s, 2 workers on PostgreSQL vs 1  >= 1.7x  ")
    for section, expected in ((issue19, lines), (issue8, old)):
        for line in expected:
            figure, target, _ = (part.strip() for part in line.split("  "))
            pattern = (
                re.escape(figure) + r"\s+" + re.escape(target) + r"\s+.*" + NUMBER + r".*\s(?:yes|NO|-)$"
            )
            assert re.search(pattern, section, re.M), f"{line!r} not in:\n{section}"


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


@pytest.fixture
def stopped_page_server(tmp_path: Path) -> Iterator[tuple[PageServer, Path]]:
    """A page server whose articles were tracked while it answered, then stopped: every fetch
    from then on is refused."""
    corpus_or_skip()
    server = PageServer(tmp_path)
    try:
        populate(f"sqlite:///{tmp_path / 'bench.db'}", server, 6, {})
    finally:
        server.stop()
    yield server, tmp_path


def test_a_bot_run_with_failed_checks_is_invalid_and_printed_so(
    stopped_page_server: tuple[PageServer, Path],
) -> None:
    server, workdir = stopped_page_server
    api = FakeBotApi(chat_ids())
    try:
        config = workdir / "bench.toml"
        write_config(config, f"sqlite:///{workdir / 'bench.db'}", api, server, ["tick = 0.2"])
        fig = run_bot("worker", config, workdir, warmup=0.1, duration=0.5)
    finally:
        api.stop()
    assert fig.failed > 0
    assert not fig.valid
    assert f"{fig.failed} failed checks" in fig.invalid
    assert re.search(rf"failed {fig.failed}\s+INVALID \({fig.failed} failed checks", row("bot", fig))


@pytest.mark.skipif(not URLWATCH.exists(), reason="urlwatch is not installed (make bench installs it)")
def test_a_urlwatch_run_with_error_entries_in_its_report_is_invalid_though_it_exits_0(
    stopped_page_server: tuple[PageServer, Path],
) -> None:
    server, workdir = stopped_page_server
    fig = urlwatch_run(server, 3, workdir, "a", startup=0.0)
    assert fig is not None
    assert fig.failed == 6  # 3 jobs, 2 runs
    assert fig.invalid == ["6 ERROR entries in its reports"]  # the exit status was 0
    assert "INVALID (6 ERROR entries in its reports)" in row("urlwatch", fig)
