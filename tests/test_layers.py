"""The layers contract (pyproject.toml, run by `make lint`): it holds, and an upward import breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "api", "booking", "practice", "community", "coaching", "accounts", "common")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120, check=False
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_it_keeps_the_layers_of_the_real_tree(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "refusal"),
    [
        ("coaching/selectors.py", "from booking import models", "coaching is not allowed to import booking"),
        (
            "accounts/services.py",
            "from community import services",
            "accounts is not allowed to import community",
        ),
        ("common/display.py", "from config import settings", "common is not allowed to import config"),
        ("practice/selectors.py", "from booking import models", "practice is not allowed to import booking"),
    ],
)
def test_it_fails_on_an_upward_import(tmp_path: Path, module: str, line: str, refusal: str) -> None:
    """An import from a higher layer, or of the project shell, breaks the contract."""
    tree = _copy(tmp_path)
    with (tree / module).open("a") as source:
        source.write(f"\n{line} as _upward  # noqa: E402\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert refusal in result.stdout
