"""Reading a thread costs the same number of SQL statements however big it grows (no N+1);
the hot path's prepared statements read and write as SQLAlchemy Core does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, event, select, table
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from widget.extensions import db
from widget.models import Comment
from widget.statements import Prepared
from widget.threads import _PAGE_THREAD

from .conftest import Api


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for_read(app: Flask, api: Api) -> int:
    app.extensions["parley_page_cache"].clear()  # measure the database, not the cache
    with counted_statements(app) as statements:
        assert api.thread(limit=200).status_code == 200
    return len(statements)


def test_thread_read_statement_count_is_constant(app: Flask, api: Api) -> None:
    counts, posted = [], 0
    for size in (3, 30, 90):
        while posted < size:  # each round: a top-level comment, a reply and a reply to it
            top = api.post(body=f"top {posted}").get_json()["comment"]["id"]
            reply = api.post(body="reply", parent_id=top).get_json()["comment"]["id"]
            api.post(body="reply to reply", parent_id=reply)
            posted += 3
        assert api.thread(limit=200).get_json()["thread"]["count"] == size
        counts.append(statements_for_read(app, api))
    assert counts[0] == counts[1] == counts[2] <= 3, counts


def test_unchanged_thread_is_served_from_the_page_cache(app: Flask, api: Api) -> None:
    api.post()
    api.thread()
    with counted_statements(app) as statements:
        api.thread()
    assert len(statements) <= 2  # site and thread (for the version); the page comes from memory


def test_prepared_statements_read_and_write_as_core_does(app: Flask, api: Api) -> None:
    """The hot path's own executor (widget.statements) gives back what Core gives back, and
    stores what Core stores: datetimes, booleans and NULLs alike, on either database."""
    api.post(body="first")  # written by Prepared inserts
    reply_to = api.post(body="second").get_json()["comment"]["id"]
    api.post(body="reply", parent_id=reply_to)
    connection = db.session.connection()
    params = {"name": "default", "key": "/2026/hello"}
    prepared = _PAGE_THREAD.first(connection, params)
    core = connection.execute(_PAGE_THREAD.statement, params).first()
    assert core is not None and prepared == tuple(core)
    assert any(isinstance(value, datetime) for value in prepared)
    assert any(value is False for value in prepared) and any(value is True for value in prepared)
    # The rows it inserted read back through the ORM as the ORM would have written them.
    stored = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [c.body for c in stored] == ["first", "second", "reply"]
    assert all(isinstance(c.created_at, datetime) and c.edited_at is None for c in stored)
    assert [c.root_id for c in stored] == [stored[0].id, stored[1].id, stored[1].id]
    assert db.session.scalars(
        select(Comment.id).where(Comment.created_at <= stored[2].created_at)
    ).all() == [c.id for c in stored]


def test_a_prepared_statements_error_is_sqlalchemys_own_without_its_values(app: Flask) -> None:
    """A database error keeps the class the error handlers know (a lost or locked database
    answers 503, not 500), and its message names no value it was given."""
    missing = Prepared(select(column("x")).select_from(table("nowhere")).where(column("x") == 1))
    with pytest.raises(DBAPIError) as raised:
        missing.first(db.session.connection(), {"x_1": "secret@example.org"})
    db.session.rollback()
    assert isinstance(raised.value, (OperationalError, ProgrammingError))
    assert "secret@example.org" not in str(raised.value)
