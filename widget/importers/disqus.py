"""Disqus XML exports: <thread> elements first, then <post> elements pointing at them.

A thread is keyed by the identifier the site gave Disqus (`<thread><id>`, the embed's
`disqus_identifier`, or a `dsq:identifier` element) when it has one: the `<link>` Disqus
recorded is whichever URL the first reader happened to load (with its query string, an old
domain, a preview host), so several threads can share a link. Without an identifier, the
link's path keys it, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

from ..models import APPROVED, DELETED, SPAM
from .base import ImportError_, Record, Report, iter_xml, local, parse_date, row_or_skip
from .clean import as_text, url_path

DSQ_ID = "{http://disqus.com/disqus-internals}id"


def read(path: Path, report: Report, progress: bool) -> Iterator[Record]:
    threads: dict[str, tuple[str, str, str]] = {}  # dsq:id -> (key, title, link)
    root_seen = False
    for event, element in iter_xml(path, progress):
        name = local(element.tag)
        if event == "start":
            if not root_seen:
                root_seen = True
                if name != "disqus":
                    raise ImportError_("refused: not a Disqus export (no <disqus> root)")
            continue
        if name == "thread" and element.get(DSQ_ID) and len(element):
            link = _text(element, "link")
            key = thread_key(_text(element, "id") or _text(element, "identifier"), link)
            threads[element.get(DSQ_ID)] = (
                key or f"/disqus/{element.get(DSQ_ID)}",
                _text(element, "title"),
                link,
            )
            element.clear()
        elif name == "post":
            record = row_or_skip(partial(_record, element, threads, report), report)
            element.clear()
            if record is not None:
                yield record


def thread_key(identifier: str, link: str) -> str:
    """The site's identifier (a URL one by its path), else the link's path; "" if neither."""
    identifier = as_text(identifier).strip()
    if identifier.lower().startswith(("http://", "https://")):
        identifier = url_path(identifier)
    # Only a web page's path names a thread; the loader keeps only http(s) URLs.
    return identifier or url_path(link)


def _text(element: object, child: str) -> str:
    for node in element:  # type: ignore[attr-defined]
        if local(node.tag) == child:
            return (node.text or "").strip()
    return ""


def _child(element: object, child: str) -> object | None:
    for node in element:  # type: ignore[attr-defined]
        if local(node.tag) == child:
            return node  # type: ignore[no-any-return]
    return None


def _record(
    post: object, threads: dict[str, tuple[str, str, str]], report: Report
) -> Record | None:
    thread_node = _child(post, "thread")
    thread_id = thread_node.get(DSQ_ID) if thread_node is not None else None  # type: ignore[attr-defined]
    if thread_id not in threads:
        report.skip("posts of unknown threads")
        return None
    key, title, link = threads[thread_id]
    deleted = _text(post, "isDeleted") == "true"
    spam = _text(post, "isSpam") == "true"
    author = _child(post, "author")
    parent = _child(post, "parent")
    return Record(
        source_id=post.get(DSQ_ID) or "",  # type: ignore[attr-defined]
        thread_key=key,
        thread_title=title,
        thread_url=link,
        author=_text(author, "name") if author is not None else "",
        email=_text(author, "email") if author is not None else "",
        website="",
        ip=_text(post, "ipAddress"),
        created_at=parse_date(_text(post, "createdAt")),
        body=_text(post, "message"),
        status=SPAM if spam else (DELETED if deleted else APPROVED),
        parent_source_id=parent.get(DSQ_ID) if parent is not None else None,  # type: ignore[attr-defined]
    )
