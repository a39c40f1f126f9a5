"""Answers for the widget's hot reads (`GET /api/counts`, `GET /api/comments`) that skip
Flask when nothing they were made from has changed.

A listing page asks the same counts URL again and again, and every reader of an article
asks for the same thread page. The first time, Flask answers as usual, and the view says
in the WSGI environ what its answer was made from: a kind, the names it looked up (site,
thread) and a token of their state (the site's counts version; the thread's version, its
closed state, the site's votes and origins). This middleware keeps the whole answer
(status, headers, body) under everything the request said that could change it (the
query string, Origin, Host, forwarded headers, Accept-Encoding, If-None-Match, cookies).
The next identical request costs one indexed read of that state (the same rows the view
reads: several hosts on one database stay consistent) and no parsing, routing or
serializing; when the state differs, Flask answers again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection, Engine

#: The environ key a view fills with (kind, lookup, token) for the answer it made.
MADE_FROM_KEY = "parley.made_from"
#: Paths whose GET answers may be kept.
PATHS = frozenset({"/api/counts", "/api/comments"})
#: What in a request can change an answer besides the state the token stands for.
_REQUEST_PARTS = (
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_ORIGIN",
    "HTTP_HOST",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_IF_NONE_MATCH",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_COOKIE",
    "wsgi.url_scheme",
    "SERVER_NAME",
    "SERVER_PORT",
)
#: The status lines an answer may be kept with.
_KEPT = ("200", "304")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: The token of a kind's state now, from its lookup (None: gone).
Validator = Callable[[Connection, tuple[Any, ...]], Any]


class Stored:
    __slots__ = ("kind", "lookup", "token", "status", "headers", "body")

    def __init__(
        self,
        made_from: tuple[str, tuple[Any, ...], Any],
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        self.kind, self.lookup, self.token = made_from
        self.status, self.headers, self.body = status, headers, body


class FastPath:
    """WSGI middleware in front of the Flask app (see the module docstring)."""

    def __init__(
        self,
        app: WsgiApp,
        engine: Callable[[], Engine],
        validators: Mapping[str, Validator],
        size: int = 2048,
    ) -> None:
        self.app = app
        self.engine = engine  # called on first use: the engine is made in an app context
        self.validators = validators
        self.size = size
        self.answers: OrderedDict[tuple[Any, ...], Stored] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in PATHS or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        key = tuple(environ.get(part) for part in _REQUEST_PARTS)
        with self.lock:
            stored = self.answers.get(key)
        if stored is not None and self._current(stored):
            start_response(stored.status, list(stored.headers))
            return [stored.body]
        return self._through_flask(key, environ, start_response)

    def _current(self, stored: Stored) -> bool:
        try:
            with self.engine().connect() as connection:
                token = self.validators[stored.kind](connection, stored.lookup)
        except Exception:  # noqa: BLE001 - the database is away: Flask answers (and says so)
            return False
        return token is not None and token == stored.token

    def _through_flask(
        self, key: tuple[Any, ...], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, *exc_info)

        body = b"".join(self.app(environ, keep))
        made_from = environ.get(MADE_FROM_KEY)
        status = str(seen.get("status", ""))
        cookie = any(name.lower() == "set-cookie" for name, _ in seen.get("headers", []))
        if made_from is not None and status.startswith(_KEPT) and not cookie:
            with self.lock:
                self.answers[key] = Stored(made_from, status, seen["headers"], body)
                self.answers.move_to_end(key)
                while len(self.answers) > self.size:
                    self.answers.popitem(last=False)
        return [body]
