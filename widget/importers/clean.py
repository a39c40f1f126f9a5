"""Imported values made as safe as a reader's own: whatever a new comment's form would refuse
or the renderer would never produce does not get in through a file either.

Every function takes any value a file can hold (JSON numbers, SQLite blobs, None) and never
raises, so one odd field can never refuse a whole file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

from ..limits import URL_MAX
from ..text import remove_unsafe_in_body, remove_unsafe_in_line

_SPACES = re.compile(r"\s+")
#: Characters that could end an attribute or a tag around a URL, as the form refuses them.
_NOT_IN_URL = frozenset("\"'<>`\\")
#: Longest import key the column keeps; longer source ids are hashed instead.
IMPORT_KEY_MAX = 200


def as_text(value: object) -> str:
    """Any stored value as text a database column takes (None is "")."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    # What the comment form keeps out of a body (see widget/text.py).
    return remove_unsafe_in_body(value if isinstance(value, str) else str(value))


def line(value: object, limit: int) -> str:
    """A one-line field: no controls, whitespace runs as one space, at most `limit` long."""
    flat = remove_unsafe_in_line(_SPACES.sub(" ", as_text(value)))  # a line break is a space
    return flat.strip()[:limit].strip()


def web_url(value: object) -> str:
    """An http(s) URL fit for an href, as the comment form accepts it; else ""."""
    # Checked as written: a URL that held a control character is refused, not mended.
    url = (value if isinstance(value, str) else as_text(value)).strip()
    if len(url) > URL_MAX or not url.lower().startswith(("http://", "https://")):
        return ""
    if any(ch.isspace() or ch in _NOT_IN_URL or _is_control(ch) for ch in url):
        return ""
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a broken [IPv6] host or port
        return ""
    return url if host else ""


def _is_control(ch: str) -> bool:
    # Cc controls, Cf format characters (bidi, zero-width), Cs lone surrogates.
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs")


#: Parameters that never name a page: a campaign's (utm_…, mc_…, ref), click and analytics
#: ids, and WordPress's reply link (replytocom).
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|mc_[a-z]+|ref|fbclid|gclid|msclkid|igshid|_ga|_gl|replytocom)(=|$)",
    re.IGNORECASE,
)


def url_path(link: object) -> str:
    """The thread key an http(s) link names: its path, with its query less any tracking
    parameter (WordPress's plain permalinks, `/?p=12` or `/blog/?p=12`, name posts by query, and the
    widget keys such a page by its canonical link's path and query); "" for anything else."""
    url = web_url(link)
    if not url:
        return ""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not _TRACKING.match(p))
    return f"{parts.path or '/'}?{query}" if query else parts.path


def import_key(source: str, source_id: object) -> str:
    """`source:id`, the same for a comment and for the replies naming it; a source id too
    long for the column is replaced by its hash, so it still matches and stays unique."""
    key = f"{source}:{as_text(source_id)}"
    if len(key) <= IMPORT_KEY_MAX:
        return key
    return f"{source}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
