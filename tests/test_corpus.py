"""Every page and version of the shared corpus, through extract → diff → render.

One row per manifest entry. The judging is ``benchmarks.corpus.evaluate`` (shared with
``python -m benchmarks.corpus``): an edit must produce exactly one substantive change of the
right kind naming the manifest's old/new words in the rendered message, a noise version must
produce no change at all. Failures not listed in tests/known_failures.toml fail the run.
"""

from __future__ import annotations

import pytest

from benchmarks.corpus import evaluate, iter_cases, load_manifest
from tests.corpus import Case, corpus_or_skip, corpus_params, known_failures


@pytest.mark.parametrize("case", corpus_params())
def test_corpus_case(case: Case) -> None:
    result = evaluate(case, corpus_or_skip())
    assert result.ok, f"{case.id} ({case.kind}): " + "; ".join(result.problems)


def test_known_failures_name_real_cases() -> None:
    """A typo in known_failures.toml must not silently excuse nothing."""
    corpus = corpus_or_skip()
    ids = {c.id for c in iter_cases(load_manifest(corpus))}
    unknown = set(known_failures()) - ids
    assert not unknown, f"known_failures.toml lists cases the manifest lacks: {sorted(unknown)}"
    assert all(reason.strip() for reason in known_failures().values())
