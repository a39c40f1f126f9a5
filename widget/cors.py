"""CORS for the JSON API: only a site's own origins may read or write from a browser."""

from __future__ import annotations

from flask import Response, current_app, g, request

from .errors import Forbidden
from .models import Site
from .sites import any_site_allows, normalise_origin, origin_allowed

ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "Content-Type, Authorization, If-None-Match"


def _same_origin(origin: str) -> bool:
    try:
        mine = {
            normalise_origin(current_app.config["PUBLIC_URL"]),
            normalise_origin(request.host_url),
        }
        return normalise_origin(origin) in mine
    except Exception:  # noqa: BLE001 - a malformed Origin is simply not ours
        return False


#: Origins some site allowed lately, a few hundred at most: while the database is away their
#: browsers may still send and read the 503 that says so (without it, a network error).
_lately_allowed: set[str] = set()


def _remember(origin: str) -> None:
    if len(_lately_allowed) >= 256:
        _lately_allowed.clear()
    _lately_allowed.add(origin)


def allow_origin(site: Site) -> None:
    """Refuse a browser request from an origin the site does not list."""
    origin = request.headers.get("Origin")
    if not origin or _same_origin(origin):
        return
    if not origin_allowed(site, origin):
        raise Forbidden("This site does not accept comments from this origin.")
    g.cors_origin = origin
    _remember(origin)


def _some_site_allows(origin: str) -> bool:
    """Does any site list `origin`? As lately seen, when the database cannot say."""
    try:
        allowed = any_site_allows(origin)
    except Exception:  # noqa: BLE001 - the database may be the reason for the error
        return origin in _lately_allowed
    if allowed:
        _remember(origin)
    return allowed


def preflight() -> Response:
    """Answer an OPTIONS preflight: it names no site, so any site's origin may proceed."""
    origin = request.headers.get("Origin", "")
    if not origin or not (_some_site_allows(origin) or _same_origin(origin)):
        raise Forbidden("This origin may not use the API.")
    response = Response(status=204)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "86400"
    response.vary.add("Origin")
    return response


def add_cors_headers(response: Response) -> Response:
    origin = g.get("cors_origin")
    if origin is None and response.status_code >= 400:
        # An error raised before the site was known (a 422, a 429): let the
        # widget read it if some site allows this origin.
        candidate = request.headers.get("Origin")
        if candidate and _some_site_allows(candidate):
            origin = candidate
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
    if "Vary" in response.headers:
        response.vary.add("Origin")
    else:  # the usual case, without parsing a header set
        response.headers["Vary"] = "Origin"
    return response
