"""Where the tests find their inputs: our own fixtures, and the shared article corpus.

The corpus lives outside the project (``REDLINE_CORPUS``, default ``../shared/corpus`` relative
to the project root) and is not copied in; tests that need it skip with a reason when it is
absent, so the suite still runs on the fixtures alone. The corpus evaluation itself is
``benchmarks.corpus.evaluate``, shared with the benchmark so both judge a case the same way.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
KNOWN_FAILURES = Path(__file__).resolve().parent / "known_failures.toml"

# `benchmarks` is a top-level directory of the project, not an installed package.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.corpus import Case, corpus_dir, iter_cases, load_manifest  # noqa: E402

SKIP_REASON = (
    "article corpus not found: set REDLINE_CORPUS to the corpus directory "
    "(default ../shared/corpus next to the project)"
)


def fixture_html(name: str) -> str:
    """One of our hand-written pages, exactly as a server would send it."""
    with (FIXTURES / name).open(encoding="utf-8", newline="") as f:
        return f.read()


def corpus_or_skip() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


def known_failures() -> dict[str, str]:
    """``"slug/file" → reason`` for corpus cases we knowingly fail."""
    if not KNOWN_FAILURES.is_file():
        return {}
    data: dict[str, Any] = tomllib.loads(KNOWN_FAILURES.read_text(encoding="utf-8"))
    return {key: str(entry["reason"]) for key, entry in data.get("failures", {}).items()}


def corpus_params(kinds: set[str] | None = None) -> list[Any]:
    """``pytest.param`` per corpus case (known failures marked xfail), or one skipped param."""
    path = corpus_dir()
    if path is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=SKIP_REASON), id="no-corpus")]
    known = known_failures()
    params = []
    for case in iter_cases(load_manifest(path)):
        if kinds and case.kind not in kinds:
            continue
        marks = []
        if case.id in known:
            marks.append(pytest.mark.xfail(reason=known[case.id], strict=True))
        params.append(pytest.param(case, marks=marks, id=case.id))
    return params


__all__ = [
    "FIXTURES",
    "SKIP_REASON",
    "Case",
    "corpus_or_skip",
    "corpus_params",
    "fixture_html",
    "known_failures",
]
