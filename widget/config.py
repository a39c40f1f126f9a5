"""Layered configuration: defaults, then a config file, then PARLEY_* variables, then tests."""

from __future__ import annotations

import importlib.util
import math
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: Values used when nothing else is set. Every key can be overridden by an
#: environment variable with the ``PARLEY_`` prefix (``PARLEY_EDIT_WINDOW=600``).
DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "SECRET_KEY": None,  # None: generated once and kept in the instance folder
    "EMAIL_KEY": None,  # optional separate key for addresses at rest
    "PUBLIC_URL": "http://127.0.0.1:5000",
    "SMTP_URL": None,  # None: mail is written to the log
    "SMTP_TIMEOUT": 20,
    "MAIL_FROM": "Parley <parley@localhost>",
    "RATE_LIMITS": "on",
    "RATE_LIMIT_STORAGE_URL": "memory://",
    "RATE_LIMIT_POST": "10 per minute;100 per hour",
    "RATE_LIMIT_VOTE": "30 per minute;300 per hour",
    "RATE_LIMIT_LOGIN": "10 per minute",
    # Failed logins one account may have before it is refused for a while ("off": no lock).
    "LOGIN_FAILURES": "5 per 15 minutes",
    # Proxies in front of Parley whose X-Forwarded-For/-Proto/-Host are trusted (0: none).
    "PROXY_HOPS": 0,
    "SPAM_CHECKS": "on",
    "EDIT_WINDOW": 900,
    "FORM_TOKEN_MIN_AGE": 3,
    "FORM_TOKEN_MAX_AGE": 86400,
    "PAGE_SIZE": 50,
    "MAX_DEPTH": 6,  # replies nest this deep; a reply to a deeper one attaches at this level
    "MAX_PAGE_SIZE": 200,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "CHECK_DELIVERABILITY": False,
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_BACKOFF_BASE": 60,
    "MAIL_BATCH_SIZE": 50,
    "MAIL_LEASE_SECONDS": 300,  # a killed worker's claimed rows return after this
    "WEBHOOK_TIMEOUT": 10,  # seconds a webhook receiver has to answer (then: retried)
    "MODERATION_LINK_MAX_AGE": 7 * 86400,
    "THREAD_CACHE_SIZE": 1024,
    "CLOCK_OFFSET": 0,  # seconds added to the time: tests only (widget/clock.py)
    "DEMO": "off",  # "on": the demo article at / and its `default` site (`make run`)
}

#: PARLEY_ variables read outside DEFAULTS: the config file and the instance folder…
EXTRA_VARIABLES = frozenset({"PARLEY_CONFIG", "PARLEY_INSTANCE_PATH"})
#: …and the test and benchmark scripts' own settings (accepted, never suggested).
SCRIPT_VARIABLES = frozenset(
    {"PARLEY_TEST_POSTGRES_URL", "PARLEY_FUZZ_EXAMPLES", "PARLEY_PG_PORT", "PARLEY_PG_DATA"}
)

#: Bytes a production SECRET_KEY needs at least (a generated one has 64).
SECRET_KEY_MIN = 32


class ConfigError(ValueError):
    """A setting Parley refuses to start with; the message is one line that says why."""


def known_variables() -> list[str]:
    return sorted({f"PARLEY_{name}" for name in DEFAULTS} | EXTRA_VARIABLES)


def check_environment(environ: dict[str, str] | os._Environ[str]) -> None:
    """Refuse a PARLEY_ variable Parley does not know (a typo would be silently ignored)."""
    known = set(known_variables()) | SCRIPT_VARIABLES
    unknown = sorted(k for k in environ if k.startswith("PARLEY_") and k not in known)
    if unknown:
        raise ConfigError(
            f"Unknown setting {', '.join(unknown)}; known: {', '.join(known_variables())}."
        )


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config``; later layers win. Raises ConfigError on a setting that cannot work."""
    check_environment(os.environ)
    app.config.from_mapping(DEFAULTS)
    config_file = os.environ.get("PARLEY_CONFIG")
    if config_file:
        try:
            app.config.from_pyfile(config_file)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(f"PARLEY_CONFIG names {config_file}: {reason}.") from exc
    app.config.from_prefixed_env("PARLEY")
    if test_config:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    if not app.config["SECRET_KEY"]:
        _make_instance_folder(instance)
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if not app.config["DATABASE_URL"]:
        _make_instance_folder(instance)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'parley.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["PUBLIC_URL"] = _public_url(app.config["PUBLIC_URL"])
    _check_secret(app)
    app.config["RATELIMIT_ENABLED"] = is_on(app.config["RATE_LIMITS"])
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATE_LIMIT_STORAGE_URL"]
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_URL"].startswith("https://")
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # a reader may write for hours
    # Over HTTPS a form must also come with a same-origin Referer (Flask-WTF's default, kept
    # on purpose; docs/security.md): our pages send one because of `Referrer-Policy:
    # same-origin` (widget/__init__.py).
    app.config["WTF_CSRF_SSL_STRICT"] = True
    app.config["PROXY_HOPS"] = _proxy_hops(app.config["PROXY_HOPS"])
    _check_values(app.config)


#: Whole-number settings and the least each may be (a page of 0 comments shows nothing).
_COUNTS = {
    "EDIT_WINDOW": 0,
    "FORM_TOKEN_MIN_AGE": 0,
    "FORM_TOKEN_MAX_AGE": 1,
    "PAGE_SIZE": 1,
    "MAX_DEPTH": 0,
    "MAX_PAGE_SIZE": 1,
    "MAX_CONTENT_LENGTH": 1024,
    "MAIL_MAX_ATTEMPTS": 1,
    "MAIL_BACKOFF_BASE": 0,
    "MAIL_BATCH_SIZE": 1,
    "MAIL_LEASE_SECONDS": 1,
    "MODERATION_LINK_MAX_AGE": 1,
    "THREAD_CACHE_SIZE": 0,
}
#: Settings in seconds that may have a fraction.
_SECONDS = ("SMTP_TIMEOUT", "WEBHOOK_TIMEOUT")  # more than 0: 0 would never wait at all
_SWITCHES = ("RATE_LIMITS", "SPAM_CHECKS", "DEMO", "CHECK_DELIVERABILITY")
_SWITCH_WORDS = {"on", "off", "true", "false", "yes", "no", "1", "0", ""}
#: The SMTP URL schemes Parley speaks, with each one's usual port.
SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def _check_values(config: Any) -> None:
    """Refuse at start what would fail later (a 500 on the first post, a worker that never
    sends): each mistake as one line naming the variable. Numbers are stored as numbers."""
    for name, least in _COUNTS.items():
        config[name] = _number(name, config[name], int, least)
    for name in _SECONDS:
        config[name] = _number(name, config[name], float, 0.001)
    config["CLOCK_OFFSET"] = _number("CLOCK_OFFSET", config["CLOCK_OFFSET"], float, None)
    for name in _SWITCHES:
        value = config[name]
        if not isinstance(value, bool) and str(value).strip().lower() not in _SWITCH_WORDS:
            raise ConfigError(f"PARLEY_{name} is a switch: on or off (got {value!r}).")
    if config["SMTP_URL"]:
        _check_smtp_url(str(config["SMTP_URL"]))
    _check_database_url(str(config["SQLALCHEMY_DATABASE_URI"]))
    _check_rate_limits(config)


#: Rate limits, in the limiter's words: "10 per minute;100 per hour".
_LIMITS = ("RATE_LIMIT_POST", "RATE_LIMIT_VOTE", "RATE_LIMIT_LOGIN")
#: Where limits are counted: in each worker, or shared in Redis (the `redis` extra).
STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


def _check_rate_limits(config: Any) -> None:
    # The limiter reads these on the first request and, on a typo, logs it and limits
    # nothing: the site would run without limits and nobody would know.
    for name in _LIMITS:
        _rate_limit(name, config[name])
    if is_on(config["LOGIN_FAILURES"]):
        _rate_limit("LOGIN_FAILURES", config["LOGIN_FAILURES"], "5 per 15 minutes, or off")
    url = str(config["RATE_LIMIT_STORAGE_URL"])
    scheme = urlsplit(url).scheme
    if scheme not in STORAGE_SCHEMES:
        raise ConfigError(
            "PARLEY_RATE_LIMIT_STORAGE_URL must be memory:// or redis://HOST:6379 "
            f"(got {scheme or 'no scheme'}://…)."
        )
    if scheme != "memory" and importlib.util.find_spec("redis") is None:
        raise ConfigError(
            "PARLEY_RATE_LIMIT_STORAGE_URL names Redis, whose client is not installed: "
            "pip install 'parley[redis]' (or the wheel with [redis])."
        )


def _rate_limit(name: str, value: Any, example: str = "10 per minute;100 per hour") -> None:
    try:
        parse_many(str(value))
    except ValueError as exc:
        raise ConfigError(
            f"PARLEY_{name} is a rate limit such as {example} (got {value!r})."
        ) from exc


def _make_instance_folder(instance: Path) -> None:
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"The instance folder {instance} cannot be made ({exc.strerror}): set "
            "PARLEY_INSTANCE_PATH to a folder Parley may write."
        ) from exc


def _check_smtp_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in SMTP_PORTS:
        raise ConfigError(
            "PARLEY_SMTP_URL must start with smtp://, smtp+starttls:// or smtps:// "
            f"(got {parts.scheme or 'no scheme'}://…)."
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise ConfigError("PARLEY_SMTP_URL has a port that is not a number.") from exc
    if not parts.hostname:
        raise ConfigError("PARLEY_SMTP_URL names no host, e.g. smtp+starttls://mail.example:587")


#: The drivers Parley ships with (PARLEY_DATABASE_URL's postgres:// and postgresql://
#: become postgresql+psycopg://).
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number raises
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            "PARLEY_DATABASE_URL is not a URL Parley can read, e.g. sqlite:////srv/parley.db "
            "or postgresql://user@host/parley."
        ) from exc
    if parsed.drivername not in DATABASE_DRIVERS:
        raise ConfigError(
            "PARLEY_DATABASE_URL must be a sqlite:/// or postgresql:// URL "
            f"(got {parsed.drivername}://…)."
        )


def _number(name: str, value: Any, kind: type[int] | type[float], least: float | None) -> Any:
    number = _parsed_number(value, kind)
    low = -_MOST if least is None else least
    if number is None or not low <= number <= _MOST:
        what = "a whole number" if kind is int else "a number of seconds"
        at_least = f" from {least:g}" if least is not None else ""
        raise ConfigError(f"PARLEY_{name} must be {what}{at_least} to {_MOST:g} (got {value!r}).")
    return number


#: No setting needs more (a billion seconds is 31 years): beyond, dates overflow.
_MOST = 10**9


def _parsed_number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    """`value` (text from the environment, or a number from a config file) as `kind`, or
    None: not a number, not whole for a count, infinite or NaN."""
    if isinstance(value, bool):
        return None
    number: int | float | None
    try:
        if isinstance(value, str):
            number = int(value.strip()) if kind is int else float(value.strip())
        elif isinstance(value, float) and kind is int:
            number = int(value) if value.is_integer() else None
        else:
            number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number is None or not math.isfinite(number):
        return None
    return number


def is_on(value: Any) -> bool:
    """Read a switch such as ``PARLEY_SPAM_CHECKS=off``."""
    return str(value).strip().lower() not in {"off", "0", "false", "no", ""}


def _public_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"PARLEY_PUBLIC_URL must start with https:// or http:// (got {url!r}), "
            "e.g. https://comments.example.com"
        )
    return url


def _check_secret(app: Flask) -> None:
    # A short key signs every link and derives the address key: guessable means forgeable.
    secret = app.config["SECRET_KEY"]
    size = len(secret.encode() if isinstance(secret, str) else bytes(secret))
    if size < SECRET_KEY_MIN and not (app.config.get("TESTING") or app.debug):
        raise ConfigError(
            f"PARLEY_SECRET_KEY has {size} bytes, at least {SECRET_KEY_MIN} are needed: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def _proxy_hops(value: Any) -> int:
    # A count, not a switch: trusting one hop too many lets a client choose its own address.
    try:
        hops = int(value)
    except ValueError:
        hops = -1
    if hops < 0:
        raise ConfigError("PARLEY_PROXY_HOPS is the number of proxies in front of Parley (>= 0).")
    return hops


def _instance_secret(path: Path) -> str:
    # Generated once, then kept: sessions, tokens and encrypted addresses
    # must survive restarts.
    try:
        if path.exists():
            return path.read_text().strip()
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)
        return secret
    except OSError as exc:  # made by root (0600) for a service that runs as its own user
        raise ConfigError(
            f"The generated secret key {path} cannot be read or written ({exc.strerror}): "
            "run commands as the service's user, or set PARLEY_SECRET_KEY."
        ) from exc


def _normalise_db_url(url: str) -> str:
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_timeout": 10}
