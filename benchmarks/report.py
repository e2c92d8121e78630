"""What ``make bench`` prints: measured runs as rows and tables, targets as ratios met or not."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

FAILED_OUTCOMES = ("failed", "gone")


@dataclass
class Figures:
    """One measured run: of the bot, or of a reference point."""

    checks: int
    seconds: float
    cpu: float  # seconds, whole process tree
    peak_rss_mb: float
    outcomes: Counter[str] = field(default_factory=Counter)  # the bot's check outcomes, in the window
    failed: int = 0  # failed checks over the whole run (Redline: failed/gone/crashed; urlwatch: ERROR)
    invalid: list[str] = field(default_factory=list)  # why the figures cannot be trusted
    notes: list[str] = field(default_factory=list)  # how the run was measured, printed under it

    @property
    def rate(self) -> float:
        return self.checks / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.checks if self.checks else float("nan")

    @property
    def valid(self) -> bool:
        return not self.invalid


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def validity(r: Figures) -> str:
    return "valid" if r.valid else "INVALID (" + "; ".join(r.invalid) + ")"


def row(label: str, r: Figures | None) -> str:
    if r is None:
        return f"  {label:30} skipped"
    return (
        f"  {label:30} {r.rate:9.1f} checks/s  {r.cpu_ms:8.2f} ms CPU/check  "
        f"peak RSS {r.peak_rss_mb:6.0f} MB  ({r.checks} checks in {r.seconds:.1f} s)  "
        f"failed {r.failed}  {validity(r)}"
    )


def cell(r: Figures | None) -> str:
    if r is None:
        return f"{'skipped':>44}"
    return (
        f"{r.rate:8.1f} {r.cpu_ms:8.2f} {r.peak_rss_mb:5.0f} {r.failed:6d} "
        f"{'valid' if r.valid else 'INVALID':>8}     "
    )


def side_by_side(
    steady_title: str,
    saturated_title: str,
    rows: list[tuple[str, Figures | None, Figures | None]],
) -> None:
    """The steady-load table beside the saturated one, one line per mode and program."""
    head = f"{'checks/s':>8} {'ms/check':>8} {'RSS':>5} {'failed':>6} {'validity':>8}     "
    print(f"  {'':34}| {steady_title:44}| {saturated_title}")
    print(f"  {'mode, program':34}| {head}| {head}")
    for label, steady, saturated in rows:
        print(f"  {label:34}| {cell(steady)}| {cell(saturated)}")
    print("  (RSS: peak MB of the process tree; ms/check: CPU of the whole tree per check)")


class Report:
    """Targets in sections; ``met`` None is a figure printed beside them with no target."""

    def __init__(self) -> None:
        self.sections: dict[str, list[tuple[str, str, str, bool | None]]] = {}

    def target(self, section: str, figure: str, target: str, shown: str, met: bool | None) -> None:
        self.sections.setdefault(section, []).append((figure, target, shown, met))

    def print_targets(self) -> None:
        for section, verdicts in self.sections.items():
            print(f"\n== targets: {section} ==")
            print(f"{'figure':66} {'target':16} {'measured':>34}  met")
            for figure, target, shown, met in verdicts:
                verdict = "-" if met is None else "yes" if met else "NO"
                print(f"{figure:66} {target:16} {shown:>34}  {verdict}")
