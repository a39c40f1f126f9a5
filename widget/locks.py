"""Row locks that hold until commit, the same way on both databases.

Writers that change more than one row take their locks in one order, so that two of them
wait for each other instead of deadlocking (PostgreSQL aborts one: a 503): the comments (by
id), then their threads (by id), then the site, then the spam filter's words; an address's
mailbox on its own. SQLite has one writer at a time: there the first lock is its write lock,
and every read after it sees every write committed before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, update

from .extensions import db


def lock_rows(table: Table, column: Any, ids: list[int]) -> None:
    """Hold these rows of `table` until commit, in id order. `column` is one it may write to
    itself on SQLite (which has no row locks: that write takes the database's write lock).
    Never commits."""
    if not ids:
        return
    wanted = table.c.id.in_(sorted(set(ids)))
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(table).where(wanted).values({column.key: column}))
    else:  # FOR NO KEY UPDATE: a new row may still name a locked one (a reply its parent)
        db.session.execute(
            select(table.c.id).where(wanted).order_by(table.c.id).with_for_update(key_share=True)
        )
