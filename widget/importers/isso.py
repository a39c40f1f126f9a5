"""Isso's SQLite database (comments.db): threads and comments tables.

The file is opened read-only and every statement runs under a time budget: a database is
a program as much as data (a view can recurse or join without end).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from ..models import APPROVED, DELETED, PENDING, utcnow
from .base import ImportError_, Record, Report, progress_bar, row_or_skip
from .clean import as_text

T = TypeVar("T")
#: Isso's comment modes.
MODES = {1: APPROVED, 2: PENDING, 4: DELETED}
#: Seconds SQLite may spend on one file in all (the loader's own time is not counted).
TIME_BUDGET = 60.0
#: The columns read, by name: a file without them is not an Isso database.
QUERY = (
    "SELECT c.id, c.parent, c.created, c.mode, c.remote_addr, c.text, c.author, c.email, "
    "c.website, t.uri, t.title FROM comments c JOIN threads t ON t.id = c.tid ORDER BY c.id"
)
BATCH = 500
#: Longest text or blob read (Isso keeps comments under 64 KiB): a row of a gigabyte made by
#: a view is refused instead of held in memory.
VALUE_MAX = 1 << 20
#: The schema is the file's, not ours: no side-effecting functions in its views or
#: triggers, and a damaged page is an error rather than a crash.
DISTRUST = "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;"


def read(
    path: Path, report: Report, progress: bool, *, time_budget: float = TIME_BUDGET
) -> Iterator[Record]:
    """Yield every comment; refuse a file that is not an Isso database or takes too long."""
    with closing(_open(path)) as db:
        budget = _Budget(db, time_budget)
        budget.run(lambda: db.executescript(DISTRUST))
        total = budget.run(lambda: int(db.execute("SELECT count(*) FROM comments").fetchone()[0]))
        rows = budget.run(lambda: db.execute(QUERY))
        with progress_bar(total, progress) as bar:
            for batch in iter(lambda: budget.run(lambda: rows.fetchmany(BATCH)), []):
                bar.update(len(batch))
                for row in batch:
                    record = row_or_skip(partial(_record, row, report), report)
                    if record is not None:
                        yield record


def _open(path: Path) -> sqlite3.Connection:
    try:
        # as_uri() escapes a "?" or "#" in the name, which would end a plain "file:" path.
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise ImportError_(f"refused: not an Isso database ({exc})") from exc
    db.row_factory = sqlite3.Row
    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_MAX)
    return db


class _Budget:
    """Bounds the time spent inside SQLite, summed over every statement and fetch."""

    def __init__(self, db: sqlite3.Connection, seconds: float) -> None:
        self.seconds, self.left = seconds, seconds
        self.started: float | None = None
        db.set_progress_handler(self._over, 1000)  # called every 1000 SQLite instructions

    def _over(self) -> bool:
        # A true answer makes SQLite interrupt the statement (OperationalError).
        return self.started is not None and time.monotonic() - self.started > self.left

    def run(self, step: Callable[[], T]) -> T:
        self.started = time.monotonic()
        try:
            return step()
        except sqlite3.DatabaseError as exc:
            raise self._refusal(exc) from exc
        finally:
            self.left -= time.monotonic() - self.started
            self.started = None

    def _refusal(self, exc: sqlite3.DatabaseError) -> ImportError_:
        if self._over():
            return ImportError_(
                f"refused: reading the Isso database took over {self.seconds:g} s "
                "(a view or table that does not end?)"
            )
        if isinstance(exc, sqlite3.DataError):  # "string or blob too big"
            return ImportError_(f"refused: a value in the Isso database is over {VALUE_MAX} bytes")
        return ImportError_(f"refused: not an Isso database ({exc})")


def _record(row: sqlite3.Row, report: Report) -> Record | None:
    status = MODES.get(row["mode"])
    if status is None:
        report.skip("comments in an unknown mode")  # one fixed reason, whatever the mode
        return None
    return Record(
        source_id=as_text(row["id"]),
        thread_key=as_text(row["uri"]) or "/",
        thread_title=as_text(row["title"]),
        thread_url="",
        author=as_text(row["author"]),
        email=as_text(row["email"]),
        website=as_text(row["website"]),
        ip=as_text(row["remote_addr"]),
        created_at=_date(row["created"]),
        body=as_text(row["text"]),
        status=status,
        parent_source_id=as_text(row["parent"]) if row["parent"] else None,
        markdown=True,
    )


def _date(created: object) -> datetime:
    # SQLite keeps whatever it was given: NaN, 1e20, text, a blob. Such a comment is kept
    # with the import's time, as the other readers keep one whose date they cannot read.
    try:
        seconds = float(created)  # type: ignore[arg-type]
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()
