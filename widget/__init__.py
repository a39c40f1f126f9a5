"""Parley: self-hosted comments. `create_app()` builds the Flask application.

Layers (enforced by import-linter in `make lint`; see `.importlinter`), each importing only
the ones below it:

- blueprints: `api`, `pages`, `admin` (HTTP) and `cli`: parse, call one service, serialize;
- services: `comments`, `moderation`, `subscriptions`, `sites`, `auth`, `mail`,
  `importers`: the logic, taking plain values, never `request`;
- domain: `threads`, `spam`, `mailboxes` (stored addresses and the inboxes behind their
  spellings), `forms` (input shapes), `serializers` (output shapes), `render`, `tokens`,
  `vault`, `avatars`, `locks` (row locks, and the one order every writer takes them in);
- base: `models`, `extensions`, `errors`, `config`, `limits`, `clock`.

One transaction rule: a public service function owns its transaction and commits once at
its end (or runs inside one `with db.session.begin()`); helpers (functions named with a
leading underscore, and those documented "never commits") only add to the caller's
transaction; views and CLI commands never commit. A bulk action is one transaction.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix

from . import admin, api, cli, pages, threads
from .auth import LoginThrottle
from .clock import Clock
from .compression import compress
from .config import ConfigError, load_config
from .errors import keep_own_retry_after, register_error_handlers
from .extensions import csrf, db, limiter, migrate
from .fastpath import FastPath
from .mail.headers import parse_sender
from .threads import PageCache
from .vault import Vault

PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """A folder the wheel carries inside the package (`static`, `migrations`); in a
    checkout (or an editable install) it is the repository's top-level folder."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application factory used by `flask --app app`, gunicorn and the tests.

    A test may name its instance folder with ``INSTANCE_PATH`` in `test_config`; else it
    is PARLEY_INSTANCE_PATH, else `instance/` in the current directory (never the package's
    folder, which may be a read-only site-packages).
    """
    instance = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("PARLEY_INSTANCE_PATH")
        or str(Path.cwd() / "instance")
    )
    app = Flask(
        __name__,
        instance_path=str(Path(instance).resolve()),
        static_folder=str(shipped("static")),
        static_url_path="/static",
    )
    load_config(app, test_config)
    try:
        parse_sender(app.config["MAIL_FROM"])  # refuse a From that would break every mail
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    _trust_proxies(app, app.config["PROXY_HOPS"])
    app.session_interface = CookieSessions()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(shipped("migrations")), render_as_batch=True)
    csrf.init_app(app)
    keep_own_retry_after(app, limiter.init_app)
    _attach_services(app)
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin.bp)
    cli.register(app)
    register_error_handlers(app)
    # Now, not on first use: the hot paths build model instances without their constructors,
    # which is where SQLAlchemy would otherwise configure the mappers.
    configure_mappers()
    app.after_request(_security_headers)
    app.after_request(compress)
    with app.app_context():
        engine = db.engine
    validators = {"counts": threads.counts_state_now, "thread": threads.page_state_now}
    app.wsgi_app = FastPath(app.wsgi_app, lambda: engine, validators)  # type: ignore[method-assign]
    return app


def _attach_services(app: Flask) -> None:
    app.extensions["parley_vault"] = Vault(app.config["EMAIL_KEY"] or app.config["SECRET_KEY"])
    app.extensions["parley_page_cache"] = PageCache(int(app.config["THREAD_CACHE_SIZE"]))
    app.extensions["parley_clock"] = Clock(float(app.config.get("CLOCK_OFFSET", 0)))
    app.extensions["parley_login_throttle"] = LoginThrottle(
        app.config["RATE_LIMIT_STORAGE_URL"],
        str(app.config["LOGIN_FAILURES"]),
        str(app.config["SECRET_KEY"]),
    )


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` proxies (PARLEY_PROXY_HOPS), take the client's address, the scheme and
    the host from the X-Forwarded-* headers the nearest `hops` proxies added. Without it,
    every reader would be the proxy's address (one rate limit for all) and HTTPS would look
    like plain HTTP. Each trusted proxy must set all three headers itself (docs/operations.md).
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with no signer built for a request that carries no
    session cookie: widget requests never do (only the no-JS page and the admin use one)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Without a Cookie header (the widget's requests) there is nothing to parse either.
        sent = "HTTP_COOKIE" in request.environ and self.get_cookie_name(app) in request.cookies
        if app.secret_key and not sent:
            return self.session_class()
        return super().open_session(app, request)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: our own forms send a Referer (Flask-WTF's HTTPS check needs it: see
    # docs/security.md), while a link to any other site, from a page whose URL holds a
    # token, sends none.
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        frame = "'self'" if request.path.startswith("/threads") or request.path == "/" else "'none'"
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame}",
        )
        headers.setdefault("X-Frame-Options", "DENY" if frame == "'none'" else "SAMEORIGIN")
    return response
