"""The layering contract in .importlinter holds, and lint-imports really fails on a cycle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=folder, capture_output=True, text=True, timeout=120
    )


def copy_of_widget(folder: Path) -> Path:
    shutil.copytree(
        ROOT / "widget", folder / "widget", ignore=shutil.ignore_patterns("__pycache__", "*.html")
    )
    shutil.copy(ROOT / ".importlinter", folder / ".importlinter")
    return folder / "widget"


def test_layers_and_acyclic_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "2 kept, 0 broken" in result.stdout


def test_a_deferred_import_that_closes_a_cycle_breaks_the_contracts(tmp_path: Path) -> None:
    package = copy_of_widget(tmp_path)
    threads = package / "threads.py"
    # moderation imports threads; a function-level import back is the kind of cycle we had.
    threads.write_text(
        threads.read_text()
        + "\n\ndef _late() -> None:\n    from . import moderation  # noqa: F401\n"
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "no import cycles inside any package BROKEN" in result.stdout
