"""Running Parley for real: settings refused at start, `check`, no demo in production,
`sites remove`, gzip answers, cached counts, the systemd units of docs/operations.md."""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from widget import create_app
from widget.config import ConfigError
from widget.extensions import db
from widget.models import Address, Block, Comment, Site, Subscription, Thread
from widget.vault import vault

from .conftest import BASE_CONFIG, SECRET, Api
from .smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def run_flask(
    env: dict[str, str], *args: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- settings refused at start -------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PARLEY_PUBLIC_URL": "comments.example.com"},
            "PARLEY_PUBLIC_URL must start with https:// or http:// (got 'comments.example.com')",
        ),
        ({"PARLEY_SECRTE_KEY": "x" * 40}, "Unknown setting PARLEY_SECRTE_KEY; known: "),
        ({"PARLEY_SECRET_KEY": "too-short"}, "PARLEY_SECRET_KEY has 9 bytes, at least 32"),
        ({"PARLEY_PROXY_HOPS": "one"}, "PARLEY_PROXY_HOPS is the number of proxies"),
        (
            {"PARLEY_EDIT_WINDOW": "abc"},
            "PARLEY_EDIT_WINDOW must be a whole number from 0 to 1e+09",
        ),
        ({"PARLEY_EDIT_WINDOW": "-5"}, "PARLEY_EDIT_WINDOW must be a whole number from 0 to 1e+09"),
        ({"PARLEY_PAGE_SIZE": "0"}, "PARLEY_PAGE_SIZE must be a whole number from 1 to 1e+09"),
        ({"PARLEY_SMTP_TIMEOUT": "soon"}, "PARLEY_SMTP_TIMEOUT must be a number of seconds"),
        ({"PARLEY_SMTP_TIMEOUT": "0"}, "PARLEY_SMTP_TIMEOUT must be a number of seconds"),
        ({"PARLEY_EDIT_WINDOW": "Infinity"}, "PARLEY_EDIT_WINDOW must be a whole number"),
        ({"PARLEY_EDIT_WINDOW": "9" * 23}, "PARLEY_EDIT_WINDOW must be a whole number"),
        ({"PARLEY_SMTP_URL": "smtps://mail.example:465x"}, "has a port that is not a number"),
        ({"PARLEY_DATABASE_URL": "postgresql+asyncpg://db/x"}, "got postgresql+asyncpg://"),
        ({"PARLEY_DATABASE_URL": "sqlite:relative.db"}, "is not a URL Parley can read"),
        ({"PARLEY_RATE_LIMITS": "maybe"}, "PARLEY_RATE_LIMITS is a switch: on or off"),
        ({"PARLEY_DEMO": "yes please"}, "PARLEY_DEMO is a switch: on or off"),
        (
            {"PARLEY_SMTP_URL": "ftp://user:hunter2@mail.example"},
            "PARLEY_SMTP_URL must start with smtp://, smtp+starttls:// or smtps:// (got ftp://…)",
        ),
        ({"PARLEY_MAIL_FROM": "notanaddress"}, "PARLEY_MAIL_FROM must be an address"),
        ({"PARLEY_DATABASE_URL": "mysql://db/parley"}, "must be a sqlite:/// or postgresql://"),
        # The limiter would log these on the first request and then limit nothing at all.
        ({"PARLEY_RATE_LIMIT_POST": "garbage"}, "PARLEY_RATE_LIMIT_POST is a rate limit such as"),
        ({"PARLEY_RATE_LIMIT_VOTE": "30 a minute"}, "PARLEY_RATE_LIMIT_VOTE is a rate limit"),
        ({"PARLEY_RATE_LIMIT_LOGIN": "abc"}, "PARLEY_RATE_LIMIT_LOGIN is a rate limit"),
        ({"PARLEY_LOGIN_FAILURES": "nonsense"}, "PARLEY_LOGIN_FAILURES is a rate limit"),
        (
            {"PARLEY_RATE_LIMIT_STORAGE_URL": "foo://cache"},
            "PARLEY_RATE_LIMIT_STORAGE_URL must be memory:// or redis://HOST:6379 (got foo://…)",
        ),
        ({"PARLEY_CONFIG": "/nonexistent/parley.py"}, "PARLEY_CONFIG names /nonexistent/parley.py"),
        ({"PARLEY_INSTANCE_PATH": "/proc/parley"}, "The instance folder /proc/parley cannot be"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_start_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    base = {"PARLEY_SECRET_KEY": SECRET, "PARLEY_INSTANCE_PATH": str(tmp_path)}
    done = run_flask({**base, **env}, "sites", "list")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no traceback
    assert lines[0].startswith("Parley cannot start: ") and message in lines[0], lines[0]
    assert "hunter2" not in done.stderr  # a password in a URL is not repeated


def test_a_generated_secret_this_user_cannot_read_is_one_line(tmp_path: Path) -> None:
    # (As root made it 0600 for a service user; root reads anything, so a folder stands in.)
    (tmp_path / "secret_key").mkdir()
    done = run_flask({"PARLEY_INSTANCE_PATH": str(tmp_path)}, "sites", "list")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "secret key" in lines[0] and "run commands as the service's user" in lines[0]


def test_redis_named_without_its_client_installed_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "redis" else real(name, *a)
    )
    with pytest.raises(ConfigError, match=r"names Redis, whose client is not installed: pip"):
        create_app(
            {**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path), "RATE_LIMIT_STORAGE_URL": "redis://r"}
        )


def test_a_backup_is_readable_by_its_owner_only(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "backup.json"
    assert runner.invoke(args=["export", str(out)]).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600  # it holds every reader's address


def test_the_test_scripts_settings_are_accepted_but_never_suggested(tmp_path: Path) -> None:
    base = {"PARLEY_SECRET_KEY": SECRET, "PARLEY_INSTANCE_PATH": str(tmp_path)}
    accepted = run_flask({**base, "PARLEY_PG_PORT": "5432"}, "check")
    assert "cannot start" not in accepted.stderr, accepted.stderr
    refused = run_flask({**base, "PARLEY_SMTP": "x"}, "sites", "list").stderr
    assert "PARLEY_SMTP_URL" in refused and "PARLEY_PG_PORT" not in refused, refused


def test_settings_given_as_text_are_read_as_numbers_and_switches(tmp_path: Path) -> None:
    app = create_app(
        {**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path), "EDIT_WINDOW": "600", "DEMO": "off"}
    )
    assert app.config["EDIT_WINDOW"] == 600 and app.config["WEBHOOK_TIMEOUT"] == 10.0


def test_unknown_variable_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_SMTP_HOST", "mail.example")
    with pytest.raises(ConfigError) as caught:
        create_app({**BASE_CONFIG})
    assert "PARLEY_SMTP_URL" in str(caught.value) and "PARLEY_DEMO" in str(caught.value)


def test_a_short_secret_is_fine_in_tests_and_debug(tmp_path: Path) -> None:
    app = create_app({**BASE_CONFIG, "SECRET_KEY": "short", "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "short"


def test_instance_folder_is_the_current_directory_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARLEY_INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    app = create_app({**BASE_CONFIG, "SECRET_KEY": None, "DATABASE_URL": None})
    assert app.instance_path == str(tmp_path / "instance")
    assert (tmp_path / "instance" / "secret_key").exists()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'parley.db'}"


# --- check -----------------------------------------------------------------------------------


def test_check_prints_the_configuration_without_secrets(tmp_path: Path) -> None:
    smtp = SmtpServer().start()
    try:
        host_port = smtp.url.split("://", 1)[1]
        env = {
            "PARLEY_SECRET_KEY": SECRET,
            "PARLEY_INSTANCE_PATH": str(tmp_path),
            "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "PARLEY_SMTP_URL": f"smtp://{host_port}",
            "PARLEY_PROXY_HOPS": "1",
            "PARLEY_RATE_LIMIT_STORAGE_URL": "memory://",
        }
        fresh = run_flask(env, "check")  # where the README has it: before db upgrade
        assert run_flask(env, "db", "upgrade").returncode == 0
        done = run_flask(env, "check")
        # A login this server does not offer: said, and no secret repeated.
        login = run_flask({**env, "PARLEY_SMTP_URL": f"smtp://mailer:hunter2@{host_port}"}, "check")
        # STARTTLS asked of a server without it: a port that answers is not enough.
        tls = run_flask({**env, "PARLEY_SMTP_URL": f"smtp+starttls://{host_port}"}, "check")
    finally:
        smtp.stop()
    for failed in (login, tls):
        assert failed.returncode == 1 and "NOT working (connecting: " in failed.stdout
        assert "hunter2" not in failed.stdout + failed.stderr and "mailer" not in failed.stdout
    assert "AUTH" in login.stdout and "STARTTLS" in tls.stdout
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "reachable, schema empty: run db upgrade" in fresh.stdout
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "database: sqlite:///" in out and "reachable, schema 0" in out
    assert (
        f"mail: smtp://{host_port} answers (greeting, TLS, login and sender as configured)" in out
    )
    assert "proxy hops: 1" in out and "rate limits: on, storage memory://" in out
    assert SECRET not in out
    # Nothing listens there any more: the check says so and fails.
    down = run_flask(env, "check", "--timeout", "1")
    assert down.returncode == 1 and "mail: smtp://" in down.stdout and "NOT working" in down.stdout


def test_check_says_when_this_user_cannot_write_the_sqlite_database(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's file only")
    # As a service user finds a file root made (the tests run as root, who writes anyway).
    monkeypatch.setattr(os, "access", lambda path, mode: not str(path).endswith(".db"))
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "but read-only for this user" in result.output and "service's user" in result.output


def test_check_in_log_mode_says_mail_is_not_sent(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "mail: written to the log" in result.output
    assert SECRET not in result.output


# --- no demo in production -------------------------------------------------------------------


def test_no_demo_page_without_parley_demo(tmp_path: Path) -> None:
    config = {**BASE_CONFIG, "INSTANCE_PATH": str(tmp_path)}
    config.pop("DEMO")
    client = create_app({**config, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}).test_client()
    assert client.get("/").status_code == 404
    demo = create_app({**config, "DEMO": "on", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert demo.test_client().get("/").status_code == 200


def test_upgrade_removes_an_unused_demo_site_and_keeps_a_used_one(tmp_path: Path) -> None:
    env = {
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path),
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
    }

    def names() -> list[str]:
        with sqlite3.connect(tmp_path / "p.db") as conn:
            return [name for (name,) in conn.execute("SELECT name FROM sites")]

    assert run_flask(env, "db", "upgrade", "0006").returncode == 0
    assert names() == ["default"]  # as every install had it before 0007
    assert run_flask(env, "db", "upgrade").returncode == 0
    assert names() == []
    # A `default` site someone uses (it holds a comment) stays.
    assert run_flask(env, "db", "downgrade", "0001").returncode == 0
    assert run_flask(env, "db", "upgrade", "0006").returncode == 0  # 0002 makes it again
    with sqlite3.connect(tmp_path / "p.db") as conn:  # the 0006 schema: no ORM models
        conn.execute(
            "INSERT INTO threads (site_id, key, title, url, comment_count, closed, version, "
            "created_at) SELECT id, '/p', 'P', '', 1, 0, 1, '2026-01-01' FROM sites"
        )
        conn.execute(
            "INSERT INTO comments (thread_id, author, website, email_enc, email_hash, "
            "avatar_seed, body, html, status, reasons, ip, created_at, notify, depth, score) "
            "SELECT id, 'A', '', '', '', '', 'b', '<p>b</p>', 'approved', '', '', "
            "'2026-01-01', '', 0, 0 FROM threads"
        )
    assert run_flask(env, "db", "upgrade").returncode == 0
    assert names() == ["default"]


# --- sites remove ----------------------------------------------------------------------------


def _rows(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_sites_remove_refuses_while_comments_exist(
    api: Api, runner: FlaskCliRunner, app: Flask
) -> None:
    api.post(body="Keep me.")
    for email in ("s@example.org", "both@example.org", "never@example.org"):
        api.client.post(
            "/api/subscriptions",
            json={"site": "default", "thread": "/2026/hello", "email": email},
        )
    assert (
        runner.invoke(args=["sites", "add", "other", "--origin", "https://o.example"]).exit_code
        == 0
    )
    api.client.post(
        "/api/subscriptions", json={"site": "other", "thread": "/x", "email": "both@example.org"}
    )
    never = db.session.scalars(
        select(Address).where(Address.email_hash == vault().lookup_hash("never@example.org"))
    ).one()
    never.suppressed_at = never.created_at  # "never email me again": the wish is kept
    site = db.session.scalars(select(Site).where(Site.name == "default")).one()
    db.session.add(Block(site_id=site.id, kind="word", value="casino"))
    db.session.commit()
    refused = runner.invoke(args=["sites", "remove", "default"])
    assert refused.exit_code == 1 and "holds 1 comments" in refused.output
    asked = runner.invoke(args=["sites", "remove", "default", "--delete-comments"], input="n\n")
    assert asked.exit_code == 1 and "for good?" in asked.output
    assert _rows(Comment) == 1
    done = runner.invoke(args=["sites", "remove", "default", "--delete-comments", "--yes"])
    assert done.exit_code == 0, done.output
    assert "Removed site default and its 1 comments." in done.output
    for model in (Thread, Comment, Subscription, Block):
        assert _rows(model) == 1 if model in (Thread, Subscription) else _rows(model) == 0, model
    # The readers only this site knew are forgotten; one subscribed elsewhere, and one who
    # asked never to be mailed, are kept. The commenter's address was never stored.
    kept = {vault().lookup_hash(e) for e in ("both@example.org", "never@example.org")}
    assert set(db.session.scalars(select(Address.email_hash))) == kept
    missing = runner.invoke(args=["sites", "remove", "nope"])
    assert missing.exit_code == 1 and "No site named 'nope'" in missing.output


def test_sites_remove_an_empty_site_needs_no_flag(runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["sites", "add", "spare"]).exit_code == 0
    done = runner.invoke(args=["sites", "remove", "spare"])
    assert done.exit_code == 0 and done.output == "Removed site spare.\n"


def test_origins_typed_with_commas_are_each_allowed_and_a_broken_one_is_refused(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    added = runner.invoke(
        args=["sites", "add", "blog4", "--origin", "https://a.example, https://b.example"]
    )
    assert added.exit_code == 0, added.output
    for origin in ("https://a.example", "https://b.example"):
        answer = client.get("/api/counts?site=blog4&thread=/x", headers={"Origin": origin})
        assert answer.headers.get("Access-Control-Allow-Origin") == origin
    for broken in ("https://a..b", "https://exa mple.org", "http://[::1", "https://x.example:port"):
        refused = runner.invoke(args=["sites", "set", "blog4", "--origin", broken])
        assert refused.exit_code != 0 and "Not an http(s) origin" in refused.output, broken
    for with_path in ("https://a.example/blog", "https://a.example/?x=1", "https://u@a.example"):
        refused = runner.invoke(args=["sites", "set", "blog4", "--origin", with_path])
        assert refused.exit_code != 0 and "scheme, host and port only" in refused.output
    ipv6 = runner.invoke(args=["sites", "set", "blog4", "--origin", "http://[::1]:8080"])
    assert ipv6.exit_code == 0 and "http://[::1]:8080" in ipv6.output
    # A page on it keeps its URL (the thread's link in mail and feeds).
    posted = client.post(
        "/api/comments",
        json={
            "site": "blog4",
            "thread": "/v6",
            "url": "http://[::1]:8080/v6",
            "author": "A",
            "email": "a@example.org",
            "body": "From an IPv6 page.",
        },
    )
    assert posted.status_code == 201, posted.get_json()
    thread = client.get("/api/comments?site=blog4&thread=/v6").get_json()["thread"]
    assert thread["url"] == "http://[::1]:8080/v6"


def test_reader_and_backup_commands_refuse_a_typo_and_an_unwritable_file(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    out = str(tmp_path / "out.json")
    for command in (["readers", "erase", "notanemail", "--yes"], ["readers", "export", "x@", out]):
        refused = runner.invoke(args=command)
        assert refused.exit_code == 2 and "Enter a valid email address" in refused.output, command
    missing = str(tmp_path / "no" / "such" / "folder" / "out.json")
    for command in (["readers", "export", "ann@example.org", missing], ["export", missing]):
        failed = runner.invoke(args=command)
        assert failed.exit_code == 1, (command, failed.output, failed.exception)
        assert f"cannot write {missing}: no such file or directory." in failed.output.lower()


@pytest.mark.parametrize("name", ["my blog", "a..b", "x.", "блог", "_x", "a/b"])
def test_a_site_name_that_would_not_read_well_in_a_command_or_a_mail_is_refused(
    runner: FlaskCliRunner, name: str
) -> None:
    refused = runner.invoke(args=["sites", "add", name])
    assert refused.exit_code != 0 and "A site's name is up to 64 letters" in refused.output


# --- gzip and cached counts ------------------------------------------------------------------


def read(api: Api, **kwargs: Any) -> Any:
    return api.client.get("/api/comments?site=default&thread=/2026/hello", **kwargs)


def test_thread_page_is_gzipped_once_and_still_revalidates(api: Api, app: Flask) -> None:
    for n in range(12):
        api.post(body=f"Comment number {n} with enough words to make a page over a kilobyte.")
    plain = api.thread()
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert len(plain.data) > 1024
    zipped = read(api, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    # The compressed bytes come from the cache: the same object on the next request.
    cache = app.extensions["parley_page_cache"]
    [entry] = [v for v in cache._items.values()]
    assert entry.gzipped == zipped.data
    etag = zipped.headers["ETag"]
    again = read(api, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and "Accept-Encoding" in again.headers["Vary"]
    refused = read(api, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_small_answers_are_not_compressed(api: Api) -> None:
    api.post(body="Short.")
    response = read(api, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers and len(response.data) < 1024


def test_other_large_answers_are_compressed(api: Api) -> None:
    for n in range(12):
        api.post(body=f"Comment number {n} with enough words to make a page over a kilobyte.")
    page = api.client.get(
        "/threads?site=default&thread=/2026/hello", headers={"Accept-Encoding": "gzip"}
    )
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"Comment number 11" in gzip.decompress(page.data)


def test_counts_are_cached_per_site_version_and_move_with_every_change(
    api: Api, app: Flask
) -> None:
    keys = [f"/2026/11/an-article-with-a-long-name-{n}" for n in range(50)]
    path = "/api/counts?site=default&" + "&".join(f"thread={k}" for k in keys)
    one, two = keys[1], keys[2]
    api.post(thread=one)
    first = api.client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"  # 50 keys: over a kilobyte
    counts = json.loads(gzip.decompress(first.data))
    assert counts[one] == 1 and counts[two] == 0 and list(counts) == keys
    with app.app_context():
        version = db.session.scalar(select(Site.counts_version))
    api.post(thread=two)
    second = api.client.get(path).get_json()
    assert second[two] == 1
    with app.app_context():
        assert db.session.scalar(select(Site.counts_version)) == version + 1
    # A reader's delete moves the count too.
    posted = api.post(thread=two, body="Mine.").get_json()
    assert api.client.get(path).get_json()[two] == 2
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert api.client.get(path).get_json()[two] == 1


def test_a_cached_counts_answer_costs_one_statement(api: Api, app: Flask) -> None:
    from sqlalchemy import event

    api.post(thread="/c/1")
    path = "/api/counts?site=default&thread=/c/1&thread=/c/2"
    api.client.get(path)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert api.client.get(path).get_json() == {"/c/1": 1, "/c/2": 0}
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "FROM sites" in statements[0]


# --- systemd units in docs/operations.md -----------------------------------------------------


def systemd_units() -> dict[str, ConfigParser]:
    text = (ROOT / "docs" / "operations.md").read_text()
    units = {}
    for name, body in re.findall(r"```ini\n# (parley[\w-]*\.service)\n(.*?)```", text, re.S):
        parser = ConfigParser(strict=True, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(body)
        units[name] = parser
    return units


def test_operations_md_has_systemd_units_whose_commands_exist() -> None:
    units = systemd_units()
    assert set(units) == {"parley-web.service", "parley-worker.service"}
    for name, unit in units.items():
        service = unit["Service"]
        assert unit["Install"]["WantedBy"] == "multi-user.target"
        assert service["User"] == "parley" and service["Restart"] in ("always", "on-failure")
        assert service["WorkingDirectory"] == "/srv/parley"  # instance/ lands there
        assert service["EnvironmentFile"] == "/etc/parley/parley.env"
        command = shlex.split(service["ExecStart"])
        binary = Path(command[0])
        assert binary.parent == Path("/srv/parley/.venv/bin"), name
        # The same executable exists in a venv where the package is installed (this one).
        assert (VENV_BIN / binary.name).exists(), binary.name
    web = shlex.split(units["parley-web.service"]["Service"]["ExecStart"])
    assert web[0].endswith("/gunicorn") and web[-1] == "app:app"
    worker = shlex.split(units["parley-worker.service"]["Service"]["ExecStart"])
    assert worker[1:] == ["--app", "app", "mail", "worker"]
    # The commands they run are real: gunicorn takes its options, flask knows `mail worker`.
    env = {"PARLEY_SECRET_KEY": SECRET, "PARLEY_INSTANCE_PATH": "/tmp/parley-unit-check"}
    checked = subprocess.run(  # every option of the unit, the app loaded, nothing served
        [web[0].replace("/srv/parley/.venv/bin", str(VENV_BIN)), *web[1:-1], "--check-config"]
        + web[-1:],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    # The home folder is read-only under ProtectSystem=strict: gunicorn must not write there.
    assert "--no-control-socket" in web
    assert run_flask(env, "mail", "worker", "--help").returncode == 0
