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


def database_and_env(backend: str, tmp_path: Path, *name: str) -> tuple[str, dict[str, str]]:
    """An empty database and the environment a `flask --app app` command needs for it."""
    url = empty_database(backend, tmp_path, *name)
    env = {
        "PARLEY_DATABASE_URL": url,
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    return url, env


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_then_check_finds_no_drift(backend: str, tmp_path: Path) -> None:
    url, env = database_and_env(backend, tmp_path)
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
    url, env = database_and_env(backend, tmp_path, "parley_migration_0011")
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_0012_keeps_merged_links_and_lets_an_id_have_several_aliases(
    backend: str, tmp_path: Path
) -> None:
    url, env = database_and_env(backend, tmp_path, "parley_migration_0012")
    assert flask(env, "db", "upgrade", "0011").returncode == 0
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    now = "CURRENT_TIMESTAMP"
    try:
        with engine.begin() as connection:  # a merge done before 0012: alias 7 -> 1
            for statement in (
                "INSERT INTO sites (id, name, origins, moderation, max_links, spam_threshold,"
                f" spam_docs, ham_docs, created_at) VALUES (1, 'blog', '', 'none', 3, 0.9, 0, 0,"
                f" {now})",
                "INSERT INTO threads (id, site_id, key, title, url, closed, comment_count,"
                f" version, created_at) VALUES (1, 1, '/a', '', '', false, 0, 0, {now})",
                "INSERT INTO addresses (id, email_hash, email_enc, suppression_reason,"
                f" created_at) VALUES (1, 'h', 'e', '', {now})",
                "INSERT INTO subscriptions (id, thread_id, address_id, active, created_at)"
                f" VALUES (1, 1, 1, true, {now})",
                "INSERT INTO subscription_aliases (old_id, subscription_id) VALUES (7, 1)",
            ):
                connection.execute(text(statement))
        upgraded = flask(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        with engine.begin() as connection:
            [row] = connection.execute(
                text(
                    "SELECT old_id, subscription_id, old_created_at, created_at"
                    " FROM subscription_aliases"
                )
            ).all()
            assert row[:3] == (7, 1, None) and row[3] is not None
            connection.execute(  # a second alias of the same id: SQLite gave it again
                text(
                    "INSERT INTO subscription_aliases (old_id, subscription_id, created_at)"
                    f" VALUES (7, 1, {now})"
                )
            )
        downgraded = flask(env, "db", "downgrade", "0011")
        assert downgraded.returncode == 0, downgraded.stderr
        with engine.connect() as connection:
            kept = connection.execute(
                text("SELECT old_id, subscription_id FROM subscription_aliases")
            )
            assert [tuple(r) for r in kept] == [(7, 1)]
    finally:
        engine.dispose()
