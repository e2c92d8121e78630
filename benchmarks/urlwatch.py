"""urlwatch 2.29, the reference point: pip-installed into benchmarks/.venv-urlwatch by ``make bench``.

Jobs use the ``css: body`` + ``html2text`` filters over the same URLs the bot checks. One whole
process per run; the first run fills its cache, the second is measured. Its start-up (imports,
config, cache open) is netted out: a run with an empty job list is measured the same way and its
CPU subtracted, so the per-check figure is what one more URL costs. Its errors are read from its
report (``ERROR:`` entries on stdout: urlwatch exits 0 when jobs fail), and any makes the run
invalid.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from benchmarks.pages import PageServer
from benchmarks.proc import PROJECT_ROOT, tree_peak_rss_mb
from benchmarks.report import Figures

URLWATCH = PROJECT_ROOT / "benchmarks" / ".venv-urlwatch" / "bin" / "urlwatch"
# The report's summary lines: "01. ERROR: a17" (display.error is on).
REPORT_ERROR = re.compile(r"^\d+\. ERROR: ", re.M)
REPORT_CHANGED = re.compile(r"^\d+\. CHANGED: ", re.M)

CONFIG = """display:
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


def installed() -> bool:
    return URLWATCH.exists()


def _once(d: Path) -> tuple[float, float, float, str, int]:
    """One urlwatch process over d/urls.yaml: wall s, CPU s, peak RSS MB, its report, exit status."""
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
    t0 = time.monotonic()
    with (d / "stdout.log").open("w") as out, (d / "stderr.log").open("w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=d)
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
    report = (d / "stdout.log").read_text(errors="replace") + (d / "stderr.log").read_text(errors="replace")
    return seconds, usage.ru_utime + usage.ru_stime, peak, report, os.waitstatus_to_exitcode(status)


def startup_cpu(workdir: Path, runs: int = 3) -> float:
    """CPU seconds of a urlwatch run with an empty job list (the least of ``runs``)."""
    d = workdir / "urlwatch-empty"
    d.mkdir(exist_ok=True)
    (d / "urls.yaml").write_text("")
    (d / "config.yaml").write_text(CONFIG)
    return min(_once(d)[1] for _ in range(runs))


def urlwatch_run(server: PageServer, n: int, workdir: Path, mode: str, startup: float) -> Figures | None:
    """Two urlwatch runs over the N URLs (the first fills its cache); figures of the second, with
    ``startup`` CPU seconds subtracted."""
    if not installed():
        return None
    d = workdir / f"urlwatch-{mode}-{n}"
    d.mkdir(exist_ok=True)
    jobs = "---\n".join(
        f'name: "a{i}"\nurl: "{server.url(i)}"\nfilter:\n  - css: body\n  - html2text\n' for i in range(n)
    )
    (d / "urls.yaml").write_text(jobs)
    (d / "config.yaml").write_text(CONFIG)
    errors = 0
    for _ in range(2):
        seconds, cpu, peak, report, status = _once(d)
        errors += len(REPORT_ERROR.findall(report))
    fig = Figures(n, seconds, max(0.0, cpu - startup), peak)
    fig.failed = errors
    fig.outcomes["changed"] = len(REPORT_CHANGED.findall(report))
    if status != 0:
        fig.invalid.append(f"exit status {status}: {report.strip()[-300:]!r}")
    if errors:
        fig.invalid.append(f"{errors} ERROR entries in its reports")
    fig.notes.append(f"whole run {1000 * cpu / n:.2f} ms CPU/URL before netting out start-up")
    return fig
