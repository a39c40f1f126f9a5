"""Fixtures: the app on SQLite and PostgreSQL, a client, a CLI runner, helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, text

from widget import create_app
from widget.extensions import db
from widget.models import Site

from .live import CHROMIUM, CHROMIUM_ARGS, ArticleServer, article_html, free_port, serve_app
from .smtp import SmtpServer

#: The moderator's password in every test that logs in.
PASSWORD = "correct horse battery staple"

POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL")
SECRET = "test-secret-key-that-is-long-enough-for-tests"
PUBLIC_URL = "http://parley.test"
BLOG = "https://blog.example"

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": SECRET,
    "PUBLIC_URL": PUBLIC_URL,
    "RATE_LIMITS": "off",
    "RATELIMIT_ENABLED": False,
    "SPAM_CHECKS": "off",
    "WTF_CSRF_ENABLED": True,
    "SMTP_URL": None,
    "DEMO": "on",  # the demo article at / (tests/test_install.py checks it is off by default)
}

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="PARLEY_TEST_POSTGRES_URL not set"),
        ],
    ),
]


def database_url(backend: str, folder: Path) -> str:
    if backend == "postgresql":
        assert POSTGRES_URL
        return POSTGRES_URL
    return f"sqlite:///{folder / 'parley.db'}"


_migrated: set[str] = set()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (fresh `g`, own database session), as in
    production; afterwards the test's own session forgets what it had loaded."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


def make_app(backend: str, folder: Path, **config: Any) -> Flask:
    """An app on a freshly wiped, migrated database."""
    url = database_url(backend, folder)
    instance = str(folder / "instance")
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url, "INSTANCE_PATH": instance, **config})
    app.test_client_class = FreshContextClient
    with app.app_context():
        if url not in _migrated:
            from flask_migrate import upgrade

            if backend == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            upgrade()
            _migrated.add(url)
        wipe_database()
    return app


def wipe_database() -> None:
    """Empty every table and put back the default site, as after `db upgrade`."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.add(
        Site(
            name="default",
            origins=f"{BLOG} {PUBLIC_URL}",
            moderation="none",
            notify_owner="held",
            max_links=3,
            spam_threshold=0.9,
            spam_docs=0,
            ham_docs=0,
        )
    )
    db.session.commit()
    current_app.extensions["parley_page_cache"].clear()


@pytest.fixture(scope="session")
def db_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the configuration."""
    return {}


@pytest.fixture
def app(backend: str, db_folder: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(backend, db_folder, **app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that records every message it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def comment_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "site": "default",
        "thread": "/2026/hello",
        "title": "Hello world",
        "url": "https://blog.example/2026/hello",
        "author": "Ada",
        "email": "ada@example.org",
        "body": "A first comment.",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


class Api:
    """Small helper so tests read like what a widget does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(self, **fields: Any) -> Any:
        return self.client.post("/api/comments", json=comment_payload(**fields))

    def thread(self, key: str = "/2026/hello", **params: Any) -> Any:
        return self.client.get(
            "/api/comments", query_string={"site": "default", "thread": key, **params}
        )


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


def csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at `path`, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def post_form(client: FlaskClient, path: str, token: str, **fields: Any) -> Any:
    """Press a page's button: its form's fields and CSRF token; the page it leads to."""
    return client.post(path, data={"csrf_token": token, **fields}, follow_redirects=True)


@pytest.fixture
def admin(client: FlaskClient, runner: FlaskCliRunner) -> FlaskClient:
    """The test client, logged in as a moderator created with the CLI."""
    result = runner.invoke(
        args=["admin", "create", "mod@blog.example", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    token = csrf(client, "/admin/login")
    response = client.post(
        "/admin/login",
        data={"csrf_token": token, "email": "mod@blog.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    return client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


# --- the widget in a browser: Parley on one origin, article pages on another ------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
#: The comment form's Post button.
POST = ".row button[type=submit]"


class Live:
    def __init__(self, app: Flask, api: str, articles: ArticleServer) -> None:
        self.app, self.api, self.articles = app, api, articles

    def reset(self, moderation: str = "none", spam_checks: str = "off") -> None:
        with self.app.app_context():
            wipe_database()
            site = db.session.scalars(select(Site)).one()
            site.origins += f" {self.articles.origin}"
            site.moderation = moderation
            db.session.commit()
        self.app.config["SPAM_CHECKS"] = spam_checks

    def seed(self, thread: str = "/post", **fields: Any) -> dict[str, Any]:
        payload = {
            "site": "default",
            "thread": thread,
            "author": "Seeder",
            "email": "seed@example.org",
            "body": "Seeded comment.",
            **fields,
        }
        response = self.app.test_client().post("/api/comments", json=payload)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def article(self, path: str = "/post", **options: Any) -> str:
        thread = options.pop("thread", path)
        return self.articles.add(path, article_html(self.api, thread, **options))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    port = free_port()
    folder = tmp_path_factory.mktemp("live")
    app = make_app("sqlite", folder, PUBLIC_URL=f"http://127.0.0.1:{port}")
    articles = ArticleServer()
    with serve_app(app, port) as api:
        yield Live(app, api, articles)
    articles.close()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    live.reset()
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(10_000)
    yield page
    context.close()


def fill_form(
    page: Any,
    body: str = "Hello from the browser.",
    author: str = "Reader",
    email: str = "reader@example.org",
) -> None:
    page.fill("#f-author", author)
    page.fill("#f-email", email)
    page.fill("#f-body", body)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
