"""Reading a thread costs the same number of SQL statements however big it grows (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from widget.extensions import db

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
