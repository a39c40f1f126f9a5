"""Remark42 backups (`remark42 backup`, or the daily files in its backup folder).

The format, as Remark42's native exporter writes it: JSON lines, gzipped or not. The first
line is the metadata (`{"version": 1, "users": [...], "posts": [...]}`), then one comment
per line: `id`, `pid` (the parent's id, "" for none), `text` (rendered HTML), `orig` (the
Markdown the reader wrote), `user` (`name`, `id`, `picture`, a hashed `ip`), `locator`
(`site`, `url`: the page's full URL), `time`, `delete`, `title` (the page's title).

A backup holds no addresses and only hashed IPs: imported comments have neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ..models import APPROVED, DELETED
from .base import BadRow, ImportError_, Record, Report, parse_date, row_or_skip
from .clean import as_text, url_path
from .jsonstream import lines, open_export


def read(path: Path, report: Report, progress: bool) -> Iterator[Record]:
    """Yield every comment; refuse a file whose first line is not Remark42's metadata."""
    with open_export(path, progress) as handle:
        rows = lines(handle)
        meta = next(rows, None)
        if not isinstance(meta, dict) or meta.get("version") not in (0, 1):
            raise ImportError_("refused: not a Remark42 backup (no version 1 metadata line)")
        for row in rows:
            if isinstance(row, ImportError_):
                report.skip(f"comments with {row}")
                continue
            record = row_or_skip(partial(_record, row), report)
            if record is not None:
                yield record


def _fields(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRow("no fields")
    return value


def _record(row: object) -> Record:
    c = _fields(row)
    user = _fields(c.get("user") or {})
    url = as_text(_fields(c.get("locator") or {}).get("url")).strip()
    # Remark42 keys a thread by its page's URL; a site that gave it paths keeps them.
    key = url_path(url) or (url if url.startswith("/") else "")
    source_id = as_text(c.get("id"))
    if not key or not source_id:
        raise BadRow("no id or page URL")
    orig = as_text(c.get("orig"))
    parent = as_text(c.get("pid"))
    return Record(
        source_id=source_id,
        thread_key=key,
        thread_title=as_text(c.get("title")),
        thread_url=url,
        author=as_text(user.get("name")),
        email="",
        website="",
        ip="",  # a keyed hash in the backup, not an address
        created_at=parse_date(as_text(c.get("time"))),
        # The Markdown as written, rendered by Parley; else the stored HTML, sanitized.
        body=orig or as_text(c.get("text")),
        markdown=bool(orig),
        status=DELETED if c.get("delete") is True else APPROVED,
        parent_source_id=parent or None,
    )
