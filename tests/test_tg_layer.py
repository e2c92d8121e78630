"""The Telegram layer asks services and never reads the network itself; the policy is pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((BOT / "tg").glob("*.py")), ids=lambda p: p.name)
def test_tg_never_fetches(path: Path) -> None:
    assert not {name for name in imported(path) if name.startswith("bot.net.fetch")}


def test_policy_imports_only_the_core() -> None:
    ours = {name for name in imported(BOT / "core" / "policy.py") if name.startswith("bot")}
    assert ours and all(name.startswith("bot.core") for name in ours)
