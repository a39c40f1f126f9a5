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


def lock_rows(table: Table, column: Any, ids: list[int], exclusive: bool = False) -> None:
    """Hold these rows of `table` until commit, in id order. `column` is one it may write to
    itself on SQLite (which has no row locks: that write takes the database's write lock).
    Never commits."""
    if ids:
        lock_where(table, column, table.c.id.in_(sorted(set(ids))), exclusive)


def lock_where(table: Table, column: Any, wanted: Any, exclusive: bool = False) -> None:
    """Hold the rows of `table` that match `wanted` until commit, in id order (see lock_rows).

    On PostgreSQL the lock is FOR NO KEY UPDATE: a new row may still name a locked one (a
    reply its parent). `exclusive` takes FOR UPDATE instead, for rows about to be deleted:
    a new row naming one waits until the deletion is committed, then fails, instead of
    being deleted with it by a cascade it never saw. Never commits."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(table).where(wanted).values({column.key: column}))
    else:
        db.session.execute(
            select(table.c.id)
            .where(wanted)
            .order_by(table.c.id)
            .with_for_update(key_share=not exclusive)
        )
