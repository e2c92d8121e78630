"""Real rewrites: does the announcement show what a person would list as changed?

    python -m benchmarks.rewrites           # recall for Redline and the unified-diff baseline
    python -m benchmarks.rewrites --show    # and every announcement

The set is tests/fixtures/rewrites: real revision pairs of news stories (SOURCES says where each
came from) and, in changes.toml, the changes a person marked in each. A marked change counts as
shown when all its key words appear in the announcement's visible text. The baseline is a plain
unified diff (``diff -u`` of the headline and paragraphs, one per line) cut to the announcement's
visible length: what a reader would get from a generic page watcher in the same space.
``evaluate`` is the one place that scores; ``tests/test_rewrites.py`` calls it too.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.diff import diff_snapshots
from bot.core.extract import Snapshot
from bot.messages.announcement import MessageContext, render_announcement
from bot.messages.limits import visible_len, visible_text

REWRITES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rewrites"


@dataclass(frozen=True)
class Marked:
    what: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Pair:
    slug: str
    old: Snapshot
    new: Snapshot
    changes: tuple[Marked, ...]


@dataclass
class Scored:
    pair: Pair
    message: str
    shown: list[Marked] = field(default_factory=list)
    baseline_shown: list[Marked] = field(default_factory=list)


@dataclass
class Recall:
    scored: list[Scored]

    @property
    def marked(self) -> int:
        return sum(len(s.pair.changes) for s in self.scored)

    @property
    def redline(self) -> float:
        return sum(len(s.shown) for s in self.scored) / max(1, self.marked)

    @property
    def baseline(self) -> float:
        return sum(len(s.baseline_shown) for s in self.scored) / max(1, self.marked)

    @property
    def longest(self) -> int:
        return max((visible_len(s.message) for s in self.scored), default=0)


def _snapshot(path: Path) -> Snapshot:
    title, _, body = path.read_text(encoding="utf-8").partition("\n")
    return Snapshot(title.strip(), tuple(p.strip() for p in body.split("\n\n") if p.strip()))


def load_pairs(folder: Path = REWRITES) -> list[Pair]:
    marks = tomllib.loads((folder / "changes.toml").read_text(encoding="utf-8"))
    pairs = []
    for slug, entry in sorted(marks.items()):
        changes = tuple(Marked(c["what"], tuple(c["keys"])) for c in entry["changes"])
        pairs.append(
            Pair(slug, _snapshot(folder / f"{slug}.old.txt"), _snapshot(folder / f"{slug}.new.txt"), changes)
        )
    return pairs


def shows(text: str, marked: Marked) -> bool:
    """Every key word of the change is in the text, as whole words ("13" is not in "2013")."""
    folded = text.casefold()
    return all(re.search(rf"(?<!\w){re.escape(k.casefold())}(?!\w)", folded) for k in marked.keys)


def unified_baseline(old: Snapshot, new: Snapshot, length: int) -> str:
    """``diff -u`` of the two versions, one paragraph a line, cut to ``length`` characters."""
    lines = difflib.unified_diff([old.title, *old.paragraphs], [new.title, *new.paragraphs], lineterm="")
    return "\n".join(lines)[:length]


def announce(pair: Pair, budget: int | None = None) -> str:
    ctx = MessageContext(
        site="example.org",
        url="https://example.org/story",
        title=pair.new.title,
        old_version=1,
        new_version=2,
        elapsed=timedelta(hours=3),
        article_number=1,
        paragraphs=len(pair.old.paragraphs),
    )
    changes = diff_snapshots(pair.old, pair.new)
    if budget is None:
        return render_announcement(changes, ctx)
    return render_announcement(changes, ctx, budget=budget)


def evaluate(pairs: list[Pair] | None = None, budget: int | None = None) -> Recall:
    scored = []
    for pair in pairs if pairs is not None else load_pairs():
        message = announce(pair, budget)
        text = visible_text(message)
        baseline = unified_baseline(pair.old, pair.new, len(text))
        scored.append(
            Scored(
                pair,
                message,
                [m for m in pair.changes if shows(text, m)],
                [m for m in pair.changes if shows(baseline, m)],
            )
        )
    return Recall(scored)


def report(out: Any, show: bool = False) -> Recall:
    result = evaluate()
    print(f"{'pair':24} {'marked':>6} {'redline':>7} {'diff -u':>7} {'chars':>5}", file=out)
    for s in result.scored:
        print(
            f"{s.pair.slug:24} {len(s.pair.changes):>6} {len(s.shown):>7} {len(s.baseline_shown):>7} "
            f"{visible_len(s.message):>5}",
            file=out,
        )
        if show:
            missed = [m.what for m in s.pair.changes if m not in s.shown]
            print("\n".join(" " * 4 + line for line in s.message.split("\n")), file=out)
            if missed:
                print(f"    (not shown: {'; '.join(missed)})", file=out)
    print(
        f"real-revision recall:   Redline {result.redline:.0%}, unified diff cut to the same length "
        f"{result.baseline:.0%} ({result.marked} marked changes in {len(result.scored)} real pairs; "
        f"longest announcement {result.longest} chars)",
        file=out,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print every announcement")
    args = parser.parse_args(argv)
    report(sys.stdout, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
