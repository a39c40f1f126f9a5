"""16 clients posting 250 comments each into a handful of threads, under gunicorn, on SQLite
and PostgreSQL: every accepted comment stored once, counts right, no 5xx, no "locked"."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import Comment, Thread

CLIENTS, POSTS, THREADS = 16, 250, 4

pytestmark = pytest.mark.slow


def post_many(base: str, client: int, results: list[tuple[int, str]]) -> None:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    for n in range(POSTS):
        body = {
            "site": "default",
            "thread": f"/load/{n % THREADS}",
            "author": f"Client {client}",
            "email": f"c{client}@example.org",
            "body": f"load {client}-{n}",
        }
        conn.request(
            "POST",
            "/api/comments",
            body=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        text = response.read().decode()
        results.append((response.status, text))


def test_concurrent_posting_loses_nothing(app: Flask, tmp_path: Path) -> None:
    from .live import serve_gunicorn, server_env

    env = server_env(app.config["DATABASE_URL"], tmp_path)
    results: list[list[tuple[int, str]]] = [[] for _ in range(CLIENTS)]
    with serve_gunicorn(env) as base:
        threads = [
            threading.Thread(target=post_many, args=(base, c, results[c])) for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    flat = [r for rs in results for r in rs]
    statuses = Counter(status for status, _ in flat)
    assert statuses == {201: CLIENTS * POSTS}, statuses
    assert not any("locked" in text for _, text in flat)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Comment.id))) == CLIENTS * POSTS
    bodies = Counter(db.session.scalars(select(Comment.body)))
    assert len(bodies) == CLIENTS * POSTS and set(bodies.values()) == {1}
    threads = db.session.scalars(select(Thread)).all()
    assert len(threads) == THREADS
    for thread in threads:
        stored = db.session.scalar(
            select(func.count(Comment.id)).where(
                Comment.thread_id == thread.id, Comment.status == "approved"
            )
        )
        assert thread.comment_count == stored
    assert sum(t.comment_count for t in threads) == CLIENTS * POSTS
    print(f"\n{CLIENTS * POSTS} comments posted by {CLIENTS} clients, all stored once")
