"""WordPress export (WXR) files, streamed with a hardened incremental parser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from ..models import APPROVED, PENDING, SPAM
from .base import ImportError_, Record, Report, iter_xml, local, parse_date, row_or_skip
from .clean import url_path

#: wp:comment_approved -> Parley state; anything else (trash, post-trashed) is skipped.
STATES = {"1": APPROVED, "approve": APPROVED, "0": PENDING, "hold": PENDING, "spam": SPAM}
PINGS = {"pingback", "trackback"}
#: The WordPress export namespace (WXR 1.0 to 1.2, http or https), as a parsed tag holds it.
WXR_NAMESPACE = re.compile(r"^\{https?://wordpress\.org/export/\d+\.\d+/\}")
NO_VERSION = (
    "the file has no <wp:wxr_version>; it was read as a WordPress export because its "
    "elements are in the WordPress export namespace"
)


def thread_key(link: str, post_id: str) -> str:
    # Only a web page's path names a thread: `javascript:alert(1)` has a "path" too.
    return url_path(link) or f"/?p={post_id}"


def read(path: Path, report: Report, keep_pings: bool, progress: bool) -> Iterator[Record]:
    """Yield every comment of every post or page; refuse a file that is not WXR."""
    version_seen = namespace_seen = False
    item: dict[str, str] = {}
    comment: dict[str, str] | None = None
    for event, element in iter_xml(path, progress):
        name = local(element.tag)
        if event == "start":
            if not namespace_seen:
                namespace_seen = WXR_NAMESPACE.match(element.tag) is not None
            if name == "item":
                item = {}
            elif name == "comment" and WXR_NAMESPACE.match(element.tag):
                comment = {}
            continue
        if name == "wxr_version":
            version_seen = True
            if not (element.text or "").strip()[:1].isdigit():
                raise ImportError_("refused: unknown WXR version")
        elif comment is not None and name.startswith("comment") and name != "comment":
            comment[name] = element.text or ""
        elif name == "comment" and comment is not None:
            record = row_or_skip(partial(_record, item, comment, report, keep_pings), report)
            comment = None
            if record is not None:
                if not version_seen:  # a hand-trimmed export: its namespace says what it is
                    report.warn(NO_VERSION)
                yield record
        elif name == "item":
            element.clear()
        elif comment is None and name in (
            "title",
            "link",
            "post_id",
            "status",
            "post_type",
            "post_date_gmt",
        ):
            item.setdefault(name, element.text or "")
    if not version_seen:
        if not namespace_seen:
            raise ImportError_(
                "refused: not a WordPress export (no wp:wxr_version, no WordPress namespace)"
            )
        report.warn(NO_VERSION)


def _published(item: dict[str, str]) -> datetime | None:
    raw = (item.get("post_date_gmt") or "").strip()
    if not raw or raw.startswith("0000"):  # drafts carry 0000-00-00 00:00:00
        return None
    moment = parse_date(raw, datetime.min)  # datetime.min: not a date
    return None if moment == datetime.min else moment


def _record(
    item: dict[str, str], c: dict[str, Any], report: Report, keep_pings: bool
) -> Record | None:
    kind = (c.get("comment_type") or "comment").strip() or "comment"
    if kind in PINGS and not keep_pings:
        report.skip(f"{kind}s (use --keep-pings to keep them)")
        return None
    # An export without the element means approved, as WordPress's own default.
    state = STATES.get((c.get("comment_approved", "1") or "").strip())
    if state is None:
        report.skip("trashed comments")
        return None
    if item.get("status") == "trash":
        report.skip("comments on trashed posts")
        return None
    parent = (c.get("comment_parent") or "0").strip()
    created = parse_date(c.get("comment_date_gmt"), parse_date(c.get("comment_date")))
    post_id = (item.get("post_id") or "").strip()
    return Record(
        source_id=(c.get("comment_id") or "").strip(),
        thread_key=thread_key((item.get("link") or "").strip(), post_id),
        thread_title=(item.get("title") or "").strip(),
        thread_url=(item.get("link") or "").strip(),
        author=c.get("comment_author") or "",
        email=c.get("comment_author_email") or "",
        website=(c.get("comment_author_url") or "").strip(),
        ip=(c.get("comment_author_IP") or "").strip(),
        created_at=created,
        body=c.get("comment_content") or "",
        status=state,
        published_at=_published(item),
        parent_source_id=parent if parent not in ("", "0") else None,
    )
