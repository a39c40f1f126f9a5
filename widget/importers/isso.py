"""Isso's SQLite database (comments.db): threads and comments tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ..models import APPROVED, DELETED, PENDING
from .base import ImportError_, Record, Report, progress_bar

#: Isso's comment modes.
MODES = {1: APPROVED, 2: PENDING, 4: DELETED}


def read(path: Path, report: Report, progress: bool) -> Iterator[Record]:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        total = db.execute("SELECT count(*) FROM comments").fetchone()[0]
        rows = db.execute(
            "SELECT c.*, t.uri, t.title FROM comments c JOIN threads t ON t.id = c.tid "
            "ORDER BY c.id"
        )
    except sqlite3.DatabaseError as exc:
        raise ImportError_(f"refused: not an Isso database ({exc})") from exc
    with progress_bar(total, progress) as bar:
        for row in rows:
            bar.update(1)
            status = MODES.get(row["mode"])
            if status is None:
                report.skip(f"comments in unknown mode {row['mode']}")
                continue
            yield Record(
                source_id=str(row["id"]),
                thread_key=row["uri"] or "/",
                thread_title=row["title"] or "",
                thread_url="",
                author=row["author"] or "",
                email=row["email"] or "",
                website=row["website"] or "",
                ip=row["remote_addr"] or "",
                created_at=datetime.fromtimestamp(row["created"], UTC).replace(tzinfo=None),
                body=row["text"] or "",
                status=status,
                parent_source_id=str(row["parent"]) if row["parent"] else None,
                markdown=True,
            )
    db.close()
