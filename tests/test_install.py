"""Install anywhere: the wheel carries the widget's assets, the templates and the migrations;
installed into a fresh venv and run from an unrelated folder (as systemd does), it
migrates, serves /embed.js under gunicorn and keeps its instance folder in that folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import SECRET
from .live import free_port

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "app.py", "widget", "static", "migrations")
ASSETS = [
    "widget/static/embed.min.js",
    "widget/static/embed-extra.js",
    "widget/static/embed.css",
    "widget/static/pages.css",
    "widget/static/demo.css",
    "widget/static/admin.css",
    "widget/static/i18n/en.json",
    "widget/static/i18n/ar.json",
    "widget/templates/thread.html",
    "widget/templates/admin/queue.html",
    "widget/templates/admin/site.html",
    "widget/templates/privacy.html",
    "widget/templates/mail/owner.html",
    "widget/templates/mail/notification.txt",
    "widget/templates/feed.xml",
    "widget/migrations/env.py",
    "widget/migrations/alembic.ini",
    "widget/migrations/script.py.mako",
    "widget/migrations/versions/0001_initial_schema.py",
    "widget/mail/worker.py",
    "widget/importers/base.py",
]


def build_wheel(folder: Path) -> Path:
    """`pip wheel .` on a clean copy of the sources (no stale build/ of the checkout)."""
    source = folder / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy(path, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "dist"), "."],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = (folder / "dist").glob("parley-*.whl")
    return wheel


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.slow
def test_wheel_installs_and_runs_from_any_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in ASSETS if name not in names]
    assert not missing, missing
    assert not any(name.startswith("widget/static/src/") for name in names)  # sources stay out

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    elsewhere = tmp_path / "srv"
    elsewhere.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_PUBLIC_URL": "https://comments.example.com",
    }

    def run(*command: str) -> str:
        done = subprocess.run(
            command, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(str(venv / "bin" / "flask"), "--app", "app", "db", "upgrade")
    assert (elsewhere / "instance" / "parley.db").exists()  # the current folder's instance/
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site_packages / "instance").exists()
    assert not (site_packages / "widget" / "instance").exists()
    # The `parley` command: the same commands as `flask --app app`, and the worker.
    assert run(str(venv / "bin" / "parley"), "sites", "list") == ""  # no demo site
    run(str(venv / "bin" / "parley"), "sites", "add", "blog", "--origin", "https://blog.example")
    assert run(str(venv / "bin" / "parley"), "worker", "--once") == "Processed 0 deliveries.\n"

    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "app:app"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        status, script = get(base + "/embed.js")
        assert status == 200 and b"__PARLEY_CSS__" not in script and len(script) > 5000
        assert get(base + "/embed-extra.js")[0] == 200
        assert get(base + "/i18n/de.json")[0] == 200
        assert get(base + "/static/pages.css")[0] == 200
        status, page = get(base + "/threads?site=blog&thread=/2026/first")
        assert status == 200 and b"<form" in page  # templates
        assert get(base + "/")[0] == 404  # no demo in production
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert os.listdir(elsewhere) == ["instance"]
