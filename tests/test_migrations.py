"""`flask db upgrade` on an empty database builds exactly the models' schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

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


def empty_database(backend: str, tmp_path: Path, name: str = "parley_migrations") -> str:
    """The URL of a new, empty database."""
    if backend != "postgresql":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    assert POSTGRES_URL
    admin = POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", admin, "-qc", statement], check=True, capture_output=True)
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_then_check_finds_no_drift(backend: str, tmp_path: Path) -> None:
    url = empty_database(backend, tmp_path)
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_0011_gives_existing_sites_the_placeholder_erase_policy(
    backend: str, tmp_path: Path
) -> None:
    url = empty_database(backend, tmp_path, "parley_migration_0011")
    env = {
        "PARLEY_DATABASE_URL": url,
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    assert flask(env, "db", "upgrade", "0010").returncode == 0
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as connection:  # a site stored before 0011, as 0010 left it
            connection.execute(
                text(
                    "INSERT INTO sites (name, origins, moderation, max_links, spam_threshold,"
                    " spam_docs, ham_docs, created_at)"
                    " VALUES ('blog', 'https://blog.example', 'none', 3, 0.9, 0, 0,"
                    " CURRENT_TIMESTAMP)"
                )
            )
        upgraded = flask(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT name, erase_policy FROM sites")).all()
        assert [tuple(row) for row in stored] == [("blog", "placeholder")]
        assert "erase-policy:placeholder" in flask(env, "sites", "list").stdout
        changed = flask(env, "sites", "set", "blog", "--erase-policy", "remove")
        assert changed.returncode == 0, changed.stderr
        downgraded = flask(env, "db", "downgrade", "0010")
        assert downgraded.returncode == 0, downgraded.stderr
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM sites")).scalars().all() == ["blog"]
    finally:
        engine.dispose()
