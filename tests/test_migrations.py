"""`flask db upgrade` on an empty database builds exactly the models' schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BACKENDS, POSTGRES_URL, SECRET

ROOT = Path(__file__).resolve().parent.parent


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_then_check_finds_no_drift(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql":
        assert POSTGRES_URL
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/parley_migrations"
        admin = POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(
            ["psql", admin, "-qc", "DROP DATABASE IF EXISTS parley_migrations"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["psql", admin, "-qc", "CREATE DATABASE parley_migrations"],
            check=True,
            capture_output=True,
        )
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {
        "PARLEY_DATABASE_URL": url,
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    upgraded = flask(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = flask(env, "db", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    listed = flask(env, "sites", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""  # no demo site in production (0007 removed it)
    # With PARLEY_DEMO=on (`make run`), the demo's site is put back.
    assert flask(env, "db", "downgrade", "0006").returncode == 0
    demo = {**env, "PARLEY_DEMO": "on"}
    assert flask(demo, "db", "upgrade").returncode == 0
    assert flask(demo, "sites", "list").stdout.startswith("default\tfirst-time")
    downgraded = flask(env, "db", "downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
