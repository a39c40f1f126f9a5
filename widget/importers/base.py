"""What every importer shares: records, the loader (one transaction, idempotent), the report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from sqlalchemy import select, update

from ..extensions import db
from ..models import Comment, Site, Thread, utcnow
from ..render import markdown_to_html, sanitize
from ..threads import refresh_thread
from ..vault import truncate_ip, vault


class ImportError_(Exception):  # noqa: N801 - `ImportError` is a builtin
    """The file was refused; nothing was imported."""


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


@dataclass
class Report:
    source: str
    threads: int = 0
    imported: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    orphans: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def summary(self) -> str:
        lines = [
            f"Imported from {self.source}: {self.imported} comments in {self.threads} new "
            f"threads; {self.already} already imported."
        ]
        if self.orphans:
            lines.append(f"{self.orphans} replies whose parent is missing became top-level.")
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"Skipped {count}: {reason}.")
        return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    # Old systems allowed longer names and URLs than Parley keeps.
    return text.strip()[:limit]


def wordpress_html(text: str) -> str:
    """WordPress keeps raw text with line breaks; give it paragraphs, then sanitize."""
    if not re.search(r"<p[\s>]", text, flags=re.I):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
        text = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs if p)
    return sanitize(text)


class Loader:
    """Adds records to one site inside the caller's transaction; skips what it has seen."""

    BATCH = 500

    def __init__(self, site: Site, report: Report) -> None:
        self.site = site
        self.report = report
        self.threads: dict[str, Thread] = {}
        self.known: dict[int, set[str]] = {}
        self.links: list[tuple[int, int, str]] = []  # (comment id, thread id, parent key)
        self.pending = 0

    def thread_for(self, record: Record) -> Thread:
        thread = self.threads.get(record.thread_key)
        if thread is None:
            thread = db.session.scalar(
                select(Thread).where(
                    Thread.site_id == self.site.id, Thread.key == record.thread_key
                )
            )
            if thread is None:
                thread = Thread(
                    site_id=self.site.id,
                    key=record.thread_key,
                    title=clip(record.thread_title, 300),
                    url=clip(record.thread_url, 2048),
                    created_at=record.created_at,
                )
                db.session.add(thread)
                db.session.flush()
                self.report.threads += 1
            self.threads[record.thread_key] = thread
            self.known[thread.id] = set(
                db.session.scalars(
                    select(Comment.import_key).where(
                        Comment.thread_id == thread.id, Comment.import_key.is_not(None)
                    )
                )
            )
        return thread

    def add(self, record: Record) -> None:
        thread = self.thread_for(record)
        key = f"{self.report.source}:{record.source_id}"
        if key in self.known[thread.id]:
            self.report.already += 1
            return
        email = record.email.strip()
        html = markdown_to_html(record.body) if record.markdown else wordpress_html(record.body)
        comment = Comment(
            thread_id=thread.id,
            author=clip(record.author, 80) or "Anonymous",
            website=clip(record.website, 2048) if record.website.startswith("http") else "",
            email_enc=vault().encrypt(email) if email else "",
            email_hash=vault().lookup_hash(email) if email else "",
            avatar_seed=vault().avatar_seed(email or record.author or key),
            body=record.body,
            html=html,
            status=record.status,
            ip=truncate_ip(record.ip),
            created_at=record.created_at,
            import_key=key,
        )
        db.session.add(comment)
        db.session.flush()
        self.known[thread.id].add(key)
        if record.parent_source_id:
            self.links.append(
                (comment.id, thread.id, f"{self.report.source}:{record.parent_source_id}")
            )
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
        set_roots(list(self.known))
        for thread_id in set(self.known):
            refresh_thread(thread_id)


def set_roots(ids: list[int]) -> None:
    """Give every comment of these threads its top-level ancestor, one level per pass."""
    db.session.execute(
        update(Comment)
        .where(Comment.thread_id.in_(ids), Comment.parent_id.is_(None), Comment.root_id.is_(None))
        .values(root_id=Comment.id)
    )
    parent = db.aliased(Comment)
    root_of_parent = select(parent.root_id).where(parent.id == Comment.parent_id).scalar_subquery()
    for _ in range(1000):  # one pass per level of nesting
        changed = db.session.execute(
            update(Comment)
            .where(
                Comment.thread_id.in_(ids), Comment.root_id.is_(None), root_of_parent.is_not(None)
            )
            .values(root_id=root_of_parent)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not changed:
            break


def parse_date(text: str | None, fallback: datetime | None = None) -> datetime:
    """Dates as exports write them, as naive UTC; the fallback (or now) when absent."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return fallback or utcnow()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return fallback or utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class ProgressFile:
    """A binary file that reports how far it has been read (for the progress bar)."""

    def __init__(self, handle: IO[bytes], advance: Callable[[int], None]) -> None:
        self.handle, self.advance = handle, advance

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.advance(len(chunk))
        return chunk


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
