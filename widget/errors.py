"""One place for errors: small exception classes, answered as JSON or HTML."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, g, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ParleyError(Exception):
    """An error a client can act on: a status, a stable code and a message."""

    status = 400
    code = "bad_request"
    #: Seconds after which the same request may succeed (sent as Retry-After).
    retry_after: int | None = None

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


#: Said whenever a page's form comes back without a valid CSRF token.
FORM_EXPIRED = "The form expired or was not sent from this site. Reload the page and try again."


class FormExpired(ParleyError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(FORM_EXPIRED)


class NotFound(ParleyError):
    status, code = 404, "not_found"


class ValidationFailed(ParleyError):
    status, code = 422, "validation_failed"


class Forbidden(ParleyError):
    status, code = 403, "forbidden"


class Unauthorized(ParleyError):
    status, code = 401, "unauthorized"


class Conflict(ParleyError):
    status, code = 409, "conflict"


class TooManyRequests(ParleyError):
    status, code = 429, "rate_limited"


class UnsupportedMediaType(ParleyError):
    status, code = 415, "unsupported_media_type"


class Unavailable(ParleyError):
    status, code = 503, "unavailable"


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def error_response(
    status: int,
    code: str,
    message: str,
    errors: dict[str, list[str]] | None = None,
    retry_after: int | None = None,
) -> tuple[Response, int] | tuple[str, int]:
    if wants_json():
        body: dict[str, object] = {"error": code, "message": message}
        if errors:
            body["errors"] = errors
        if retry_after:
            body["retry_after"] = retry_after
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def keep_own_retry_after(app: Flask, install_limiter: Callable[[Flask], None]) -> None:
    """Install the rate limiter so that only its 429s carry its Retry-After.

    With its headers on, Flask-Limiter sets Retry-After on every answer of a limited route
    to when its window resets, over the one an answer has: a 201 would say "retry in 60 s",
    a too-quick form's 422 "60" beside the body's `retry_after: 3`. Flask runs after_request
    hooks last-registered first: one registered before the limiter sees its result, one
    registered after it notes what the answer said before.
    """

    @app.after_request
    def _restore(response: Response) -> Response:
        if response.status_code != 429:
            own = g.pop("own_retry_after", None)
            if own is None:
                response.headers.pop("Retry-After", None)
            else:
                response.headers["Retry-After"] = own
        return response

    install_limiter(app)

    @app.after_request
    def _note(response: Response) -> Response:
        if "Retry-After" in response.headers:
            g.own_retry_after = response.headers["Retry-After"]
        return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ParleyError)
    def _parley(exc: ParleyError):  # type: ignore[no-untyped-def]
        response, status = error_response(
            exc.status, exc.code, exc.message, exc.errors, exc.retry_after
        )
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        return response, status, headers

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(400, FormExpired.code, FORM_EXPIRED)

    @app.errorhandler(RateLimitExceeded)
    def _rate(exc: RateLimitExceeded):  # type: ignore[no-untyped-def]
        response = error_response(429, "rate_limited", "Too many requests. Try again later.")
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        messages = {
            404: "Nothing here.",
            405: "That method is not allowed here.",
            413: "The request is too large.",
            415: "Send JSON (Content-Type: application/json).",
        }
        return error_response(status, code, messages.get(status, exc.description or exc.name))

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _db_down(exc: Exception):  # type: ignore[no-untyped-def]
        # The database is unreachable or busy: a clean, retryable answer.
        # The driver's own words say why ("attempt to write a readonly database", "database
        # is locked", a refused connection); they hold no statement and no values.
        log.warning("database unavailable: %s: %s", type(exc).__name__, getattr(exc, "orig", ""))
        _rollback_quietly()
        response, status = error_response(503, "unavailable", "Temporarily unavailable. Try again.")
        return response, status, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback_quietly()
        return error_response(500, "internal_error", "Something went wrong on our side.")


def _rollback_quietly() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone already
        pass
