"""gzip for answers over 1 KB when the client accepts it: the cached thread pages and counts
carry their gzip form (compressed once, threads.CachedBody); other answers are compressed
as they leave (`compress`, an after_request hook)."""

from __future__ import annotations

import gzip

from flask import Request, Response, request

#: Smaller answers gain nothing from compression.
GZIP_MIN = 1024
_COMPRESSIBLE = ("text/", "application/json", "application/atom+xml", "image/svg+xml")


def accepts_gzip(req: Request | None = None) -> bool:
    """Does the client take `Content-Encoding: gzip` (Accept-Encoding, q > 0)?"""
    return (req or request).accept_encodings.quality("gzip") > 0


def send_body(response: Response, body: bytes, gzipped: bytes | None) -> Response:
    """Put a cached answer in `response`: its gzip form when there is one and the client
    accepts it. Either way caches must key on Accept-Encoding."""
    if gzipped is not None and accepts_gzip():
        response.set_data(gzipped)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.set_data(body)
    response.vary.add("Accept-Encoding")
    return response


def compress(response: Response) -> Response:
    """after_request: gzip any other complete answer over GZIP_MIN bytes of a text type."""
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(_COMPRESSIBLE)
        or request.method == "HEAD"
    ):
        return response
    body = response.get_data()
    if len(body) <= GZIP_MIN:
        return response
    response.vary.add("Accept-Encoding")
    if accepts_gzip():
        response.set_data(gzip.compress(body, 6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response
