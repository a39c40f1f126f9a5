"""What every importer shares: records, the loader (one transaction, idempotent), the report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from sqlalchemy import select, update

from ..extensions import db
from ..limits import AUTHOR_MAX, THREAD_KEY_MAX, TITLE_MAX
from ..models import Comment, ImportTombstone, Site, Thread, utcnow
from ..render import markdown_to_html, sanitize
from ..threads import page_url, refresh_thread
from ..vault import truncate_ip, vault
from .clean import as_text, import_key, line, web_url

T = TypeVar("T")
#: The longest comment an import stores (a post takes 10,000 characters; old systems took
#: more): a larger one is a broken or hostile file's, and would make its thread's page huge.
IMPORTED_BODY_MAX = 100_000
#: Passes of set_roots, one per level of nesting: a deeper chain (or a loop of parents)
#: would cost a pass per comment, so what is left after them becomes top-level.
MAX_PASSES = 1000


class ImportError_(Exception):  # noqa: N801 - `ImportError` is a builtin
    """The file was refused; nothing was imported."""


class BadRow(ValueError):
    """One row of a file cannot be imported; the message ends the reason, "with …"."""


@dataclass
class Record:
    """One comment, as any source describes it."""

    source_id: str
    thread_key: str
    thread_title: str
    thread_url: str
    author: str
    email: str
    website: str
    ip: str
    created_at: datetime
    body: str
    status: str
    parent_source_id: str | None = None
    markdown: bool = False  # Isso stores Markdown; the others HTML
    #: The article's publication date where the source has it (WordPress): auto-close
    #: (`--close-after-days`) counts from it.
    published_at: datetime | None = None


@dataclass
class Report:
    source: str
    threads: int = 0
    imported: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    orphans: int = 0
    loops: int = 0
    #: Things the owner should know although the file was read (a missing version tag).
    warnings: list[str] = field(default_factory=list)
    #: A dry run: nothing was stored; `per_thread` says what would have been.
    dry_run: bool = False
    #: New comments by thread key (kept for a dry run's listing).
    per_thread: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def summary(self, listed: int = 50) -> str:
        verb = "Would import (dry run, nothing stored)" if self.dry_run else "Imported"
        lines = [f"Warning: {message}" for message in self.warnings]
        lines.append(
            f"{verb} from {self.source}: {self.imported} comments in {self.threads} new "
            f"threads; {self.already} already imported."
        )
        if self.dry_run:
            for key, n in self.per_thread.most_common(listed):
                lines.append(f"  {n}\t{key}")
            if len(self.per_thread) > listed:
                lines.append(f"  … and {len(self.per_thread) - listed} more threads")
        if self.orphans:
            lines.append(f"{self.orphans} replies whose parent is missing became top-level.")
        if self.loops:
            lines.append(
                f"{self.loops} replies in a loop of parents (or nested over {MAX_PASSES} "
                "deep) became top-level."
            )
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"Skipped {count}: {reason}.")
        return "\n".join(lines)


def row_or_skip(build: Callable[[], T], report: Report, what: str = "comments") -> T | None:
    """What a row makes, or None and a reason in the report: one bad row never refuses a
    whole file (a file that is not the format at all still raises ImportError_)."""
    try:
        return build()
    except BadRow as exc:
        report.skip(f"{what} with {exc}")
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # Reasons are fixed texts: a file of odd rows must not make the report huge.
        report.skip(f"{what} that could not be read ({type(exc).__name__})")
    return None


def wordpress_html(text: str) -> str:
    """WordPress keeps raw text with line breaks; give it paragraphs, then sanitize."""
    if not re.search(r"<p[\s>]", text, flags=re.I):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
        text = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs if p)
    return sanitize(text)


def comment_values(record: Record, key: str, site_id: int) -> dict[str, Any]:
    """A record's columns, each as the comment form and the renderer would leave it."""
    email = as_text(record.email).strip()
    name = line(record.author, AUTHOR_MAX)
    body = as_text(record.body)
    return {
        "author": name or "Anonymous",
        "website": web_url(record.website),
        "email_enc": vault().encrypt(email) if email else "",
        "email_hash": vault().lookup_hash(email) if email else "",
        "avatar_seed": vault().avatar_seed(email or name or key, site_id=site_id),
        "body": body,
        "html": markdown_to_html(body) if record.markdown else wordpress_html(body),
        "status": record.status,
        "ip": truncate_ip(as_text(record.ip).strip()),
        "created_at": record.created_at,
        "import_key": key,
    }


class Loader:
    """Adds records to one site inside the caller's transaction; skips what it has seen."""

    BATCH = 500

    def __init__(self, site: Site, report: Report) -> None:
        self.site = site
        self.report = report
        self.threads: dict[str, Thread] = {}
        #: Every import key the site holds, whatever thread its comment is in now (threads
        #: move and merge), and those of comments erased for good: none comes back.
        self.known = site_import_keys(site.id)
        self.touched: set[int] = set()  # the threads comments were added to
        self.links: list[tuple[int, int, str]] = []  # (comment id, thread id, parent key)
        self.pending = 0

    def thread_for(self, record: Record) -> Thread:
        thread = self.threads.get(record.thread_key)
        if thread is None:
            thread = db.session.scalar(
                select(Thread).where(
                    Thread.site_id == self.site.id, Thread.key == record.thread_key
                )
            ) or self._new_thread(record)
            self.threads[record.thread_key] = thread
        return thread

    def _new_thread(self, record: Record) -> Thread:
        thread = Thread(
            site_id=self.site.id,
            key=record.thread_key,
            title=line(record.thread_title, TITLE_MAX),
            # The site's own pages only, as for new comments (mail and feeds link to it).
            url=page_url(self.site, web_url(record.thread_url), record.thread_key),
            created_at=record.created_at,
            published_at=record.published_at,
        )
        db.session.add(thread)
        db.session.flush()
        self.report.threads += 1
        return thread

    def add(self, record: Record) -> None:
        record.thread_key = as_text(record.thread_key) or "/"
        if len(record.thread_key) > THREAD_KEY_MAX:
            # No page can ask for such a thread (the API refuses the key).
            self.report.skip(f"comments on pages whose key is over {THREAD_KEY_MAX} characters")
            return
        if len(as_text(record.body)) > IMPORTED_BODY_MAX:
            self.report.skip(f"comments over {IMPORTED_BODY_MAX} characters")
            return
        key = import_key(self.report.source, record.source_id)
        if key in self.known:
            self.report.already += 1
            return
        thread = self.thread_for(record)
        comment = Comment(thread_id=thread.id, **comment_values(record, key, self.site.id))
        db.session.add(comment)
        db.session.flush()
        self.known.add(key)
        self.touched.add(thread.id)
        if self.report.dry_run:
            self.report.per_thread[record.thread_key] += 1
        if record.parent_source_id:
            parent_key = import_key(self.report.source, record.parent_source_id)
            self.links.append((comment.id, thread.id, parent_key))
        self._added()

    def _added(self) -> None:
        self.report.imported += 1
        self.pending += 1
        if self.pending >= self.BATCH:
            self.pending = 0
            db.session.expunge_all()  # keep memory flat on big files
            self.threads.clear()

    def finish(self) -> None:
        """Link replies to parents (which may come later in the file), set roots, recount."""
        for comment_id, thread_id, parent_key in self.links:
            parent_id = db.session.scalar(
                select(Comment.id).where(
                    Comment.thread_id == thread_id, Comment.import_key == parent_key
                )
            )
            if parent_id is None:
                self.report.orphans += 1
                continue
            db.session.execute(
                update(Comment).where(Comment.id == comment_id).values(parent_id=parent_id)
            )
        self.report.loops += set_roots(list(self.touched))
        for thread_id in self.touched:
            refresh_thread(thread_id)


def site_import_keys(site_id: int) -> set[str]:
    """The import keys of a site's comments and of those erased for good (tombstones)."""
    in_comments = (
        select(Comment.import_key)
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Thread.site_id == site_id, Comment.import_key.is_not(None))
    )
    buried = select(ImportTombstone.import_key).where(ImportTombstone.site_id == site_id)
    return {key for key in db.session.scalars(in_comments.union(buried)) if key}


def set_roots(ids: list[int]) -> int:
    """Give every comment of these threads its top-level ancestor and its depth, one level
    per pass; return how many replies had to become top-level instead (see MAX_PASSES)."""
    db.session.execute(
        update(Comment)
        .where(Comment.thread_id.in_(ids), Comment.parent_id.is_(None), Comment.root_id.is_(None))
        .values(root_id=Comment.id, depth=0)
    )
    parent = db.aliased(Comment)
    of_parent = select(parent.root_id).where(parent.id == Comment.parent_id).scalar_subquery()
    depth_of_parent = select(parent.depth).where(parent.id == Comment.parent_id).scalar_subquery()
    for _ in range(MAX_PASSES):
        # A parent's root and depth are set together, so its depth is final once it has a root.
        changed = db.session.execute(
            update(Comment)
            .where(Comment.thread_id.in_(ids), Comment.root_id.is_(None), of_parent.is_not(None))
            .values(root_id=of_parent, depth=depth_of_parent + 1)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not changed:
            break
    return _lift_unrooted(ids)


def _lift_unrooted(ids: list[int]) -> int:
    # A reply whose parents loop back to it never reaches a root: left so, it would be
    # stored but never shown. It becomes top-level, as a reply whose parent is missing.
    return int(
        db.session.execute(
            update(Comment)
            .where(Comment.thread_id.in_(ids), Comment.root_id.is_(None))
            .values(parent_id=None, root_id=Comment.id, depth=0)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    )


def parse_date(text: str | None, fallback: datetime | None = None) -> datetime:
    """Dates as exports write them, as naive UTC; the fallback (or now) when absent."""
    try:
        moment = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # absent, "0000-00-00 …", or past year 9999 in UTC
        return fallback or utcnow()
    return moment


class ProgressFile:
    """A binary file that reports how far it has been read (for the progress bar)."""

    def __init__(self, handle: IO[bytes], advance: Callable[[int], None]) -> None:
        self.handle, self.advance = handle, advance

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.advance(len(chunk))
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.handle.readline(size)
        self.advance(len(line))
        return line


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def iter_xml(path: Path, progress: bool) -> Iterator[tuple[str, Any]]:
    """Stream (event, element) pairs; refuse DTDs, entities and external references."""
    size = path.stat().st_size
    with open(path, "rb") as handle, progress_bar(size, progress) as bar:
        source = ProgressFile(handle, bar.update)
        try:
            yield from iterparse(
                source,
                events=("start", "end"),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            )
        except DefusedXmlException as exc:
            raise ImportError_(f"refused: the file declares a DTD or entities ({exc})") from exc
        except SyntaxError as exc:  # ParseError
            raise ImportError_(f"not well-formed XML: {exc}") from exc


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, _: int) -> None:
        return None


def progress_bar(length: int, shown: bool) -> Any:
    """click's progress bar on a terminal, nothing otherwise."""
    return click.progressbar(length=length, label="Importing") if shown else _NoBar()
