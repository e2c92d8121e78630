"""The import contracts in pyproject.toml ([tool.importlinter]), checked by import-linter on
every test run: the layers import one way (ops.cli → app → tg | web → service → storage, net,
messages → core; the Telegram room and the web room know nothing of each other), the pure rooms (bot.core, bot.messages) import nothing of the edges, the
database and the network do not know each other, services know no Telegram, tg never fetches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layers: ops.cli → app → tg | web → service → storage, net, messages → core KEPT" in result.stdout
    assert "core and messages import nothing of the edges KEPT" in result.stdout
    assert "the database and the network know nothing of each other KEPT" in result.stdout
    assert "services know nothing of Telegram KEPT" in result.stdout
    assert "the Telegram layer never fetches KEPT" in result.stdout
    assert "0 broken" in result.stdout


def test_a_broken_contract_fails_the_run(tmp_path: Path) -> None:
    """The same runner on a contract the code breaks (the sender imports PTB): it must fail,
    naming the import, so a KEPT above means something."""
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "bot"\ninclude_external_packages = true\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "the sender imports no telegram"\ntype = "forbidden"\n'
        'source_modules = ["bot.tg.sender"]\nforbidden_modules = ["telegram"]\n'
    )
    result = lint_imports("--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the sender imports no telegram BROKEN" in result.stdout
    assert "bot.tg.sender -> telegram" in result.stdout
