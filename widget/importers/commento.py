"""Commento exports (Commento's "Export data", the version 1 format Comentario imports too).

One JSON object: `{"version": 1, "comments": [...], "commenters": [...]}`. A comment has
`commentHex`, `url` (the page's path), `commenterHex` ("anonymous" for a guest),
`markdown`, `html`, `parentHex` ("root" for a top-level comment), `state` (`approved`,
`unapproved`, `flagged`), `creationDate` and `deleted`; a commenter has `commenterHex`,
`email`, `name` and `link`.

The commenters come after the comments: the file is read twice, once for the commenters
(kept: a name, an address and a link each), once for the comments, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ..models import APPROVED, DELETED, PENDING
from .base import BadRow, ImportError_, Record, Report, parse_date, row_or_skip
from .clean import as_text, url_path
from .jsonstream import members, open_export

STATES = {"approved": APPROVED, "unapproved": PENDING, "flagged": PENDING}
ROOT = "root"


def read(path: Path, report: Report, progress: bool) -> Iterator[Record]:
    commenters = _commenters(path, report)
    with open_export(path, progress) as handle:
        for key, value in members(handle):
            if key != "comments":
                continue
            record = row_or_skip(partial(_record, value, commenters, report), report)
            if record is not None:
                yield record


def _commenters(path: Path, report: Report) -> dict[str, tuple[str, str, str]]:
    """commenterHex -> (name, email, link); refuses a file that is not a Commento export."""
    found: dict[str, tuple[str, str, str]] = {}
    version = None
    with open_export(path, False) as handle:
        for key, value in members(handle):
            if key == "version":
                version = value
            elif key == "commenters":
                person = row_or_skip(partial(_commenter, value), report, "commenters")
                if person is not None:
                    found[person[0]] = person[1:]
    if version != 1:
        raise ImportError_('refused: not a Commento export (no "version": 1)')
    return found


def _fields(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRow("no fields")
    return value


def _commenter(value: object) -> tuple[str, str, str, str]:
    c = _fields(value)
    return (
        as_text(c.get("commenterHex")),
        as_text(c.get("name")),
        as_text(c.get("email")),
        as_text(c.get("link")),
    )


def _record(
    value: object, commenters: dict[str, tuple[str, str, str]], report: Report
) -> Record | None:
    c = _fields(value)
    state = STATES.get(as_text(c.get("state")) or "approved")
    if state is None:
        report.skip("comments in an unknown state")
        return None
    raw_url = as_text(c.get("url")).strip()
    # Commento keeps the page's path (and its domain apart); a full URL is read as one.
    key = url_path(raw_url) or (raw_url if raw_url.startswith("/") else "")
    source_id = as_text(c.get("commentHex"))
    if not key or not source_id:
        raise BadRow("no id or page path")
    name, email, link = commenters.get(as_text(c.get("commenterHex")), ("", "", ""))
    domain = as_text(c.get("domain")).strip()
    parent = as_text(c.get("parentHex"))
    markdown = as_text(c.get("markdown"))
    return Record(
        source_id=source_id,
        thread_key=key,
        thread_title="",
        thread_url=f"https://{domain}{key}" if domain and key.startswith("/") else raw_url,
        author=name,
        email=email,
        website=link,
        ip="",
        created_at=parse_date(as_text(c.get("creationDate"))),
        body=markdown or as_text(c.get("html")),
        markdown=bool(markdown),
        status=DELETED if c.get("deleted") is True else state,
        parent_source_id=parent if parent and parent != ROOT else None,
    )
