"""Process-tree accounting from /proc: what a process and its descendants spent and held."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how shared the machine was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
