"""The layer order (docs/architecture.md) is a gate: an upward import fails ``make lint``."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "bank", "trust", "identity", "ledger", "federation", "config")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's packages and import contracts, to add modules to."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=tree, env={"PYTHONPATH": str(tree)}, capture_output=True, text=True, check=False)


def test_the_project_keeps_its_contracts(tree):
    result = lint_imports(tree)

    assert result.returncode == 0, result.stdout
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("trust/upward.py", "from ledger.models import Entry\n", "trust is not allowed to import ledger"),
        ("core/upward.py", "import bank.models\n", "core is not allowed to import bank"),
        (
            "trust/services/upward.py",
            "from trust import tasks\n",
            "trust.services is not allowed to import trust.tasks",
        ),
    ],
)
def test_an_upward_import_breaks_the_gate(tree, module, source, broken):
    (tree / module).write_text(source)

    result = lint_imports(tree)

    assert result.returncode == 1 and broken in result.stdout, result.stdout
