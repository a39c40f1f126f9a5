"""Scale-out for real (issue #18): two application hosts on one PostgreSQL and one Redis.

Two gunicorn instances (separate processes on separate ports, each with its own instance
folder, as two hosts would run them) share PARLEY_SECRET_KEY, one PostgreSQL database and
one Redis for rate limits; two `flask mail worker` processes drain the same queue into one
real SMTP server (aiosmtpd). Readers speak from their own loopback addresses (127.0.0.x),
so each has its own rate limit. The tests show:

1. what one host writes, the other reads at once: thread pages (and their ETags, and a
   conditional GET with the other host's old ETag), edits, and /api/counts, although every
   gunicorn worker keeps its own page and counts caches (keyed by versions in the database);
2. the post limit is one budget per reader across both hosts, counted in Redis;
3. two mail workers send each of 200 notifications exactly once (FOR UPDATE SKIP LOCKED).

Skipped without PARLEY_TEST_POSTGRES_URL or redis-server; `make test` provides both.
About 15 s in all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from widget import create_app
from widget.extensions import db
from widget.models import NOTIFY, SENT, Delivery, Site, Thread

from .conftest import POSTGRES_URL, SECRET
from .deploy import REDIS, Reader, Reply, redis
from .live import serve_gunicorn, server_env
from .seed import confirmed_subscribers
from .smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
DATABASE = "parley_scale_out"
SITE = "blog"
POST_LIMIT = 4  # per reader and minute, across both hosts
SUBSCRIBERS = 200

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="PARLEY_TEST_POSTGRES_URL not set"),
    pytest.mark.skipif(not Path(REDIS).exists(), reason="redis-server is not installed"),
]


@dataclass
class Cluster:
    a: str  # http://127.0.0.1:P, gunicorn instance A (2 workers)
    b: str  # http://127.0.0.1:Q, gunicorn instance B (2 workers)
    envs: dict[str, dict[str, str]]  # each host's environment, by name
    app: Flask  # in-process, same database and secret: seeds subscribers, reads the queue
    smtp: SmtpServer
    folder: Path


def fresh_database() -> str:
    """An empty database of our own on the test server: other tests wipe parley_test."""
    assert POSTGRES_URL
    server = make_url(POSTGRES_URL)
    engine = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    engine.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False)


def flask_cli(env: dict[str, str], *args: str) -> None:
    """`flask --app app …` as an owner runs it on one of the hosts."""
    done = subprocess.run(
        [FLASK, "--app", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def host_env(
    folder: Path, name: str, database_url: str, redis_url: str, smtp_url: str
) -> dict[str, str]:
    """The README's production settings for one host: everything shared but its instance
    folder; a post limit low enough to reach."""
    return server_env(
        database_url,
        folder / f"instance-{name}",
        PARLEY_DEMO="off",
        PARLEY_PUBLIC_URL="https://comments.example.com",
        PARLEY_RATE_LIMITS="on",
        PARLEY_RATE_LIMIT_POST=f"{POST_LIMIT} per minute",
        PARLEY_RATE_LIMIT_STORAGE_URL=redis_url,
        PARLEY_SMTP_URL=smtp_url,
        PARLEY_MAIL_BATCH_SIZE="10",  # small batches: both workers get a share of the queue
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("scale-out")
    database_url = fresh_database()
    smtp = SmtpServer().start()
    try:
        with redis(folder) as redis_url:
            envs = {
                name: host_env(folder, name, database_url, redis_url, smtp.url)
                for name in ("a", "b")
            }
            flask_cli(envs["a"], "db", "upgrade")
            # No moderation: every post is published at once, so it notifies and counts.
            site = ["--origin", "https://blog.example.com", "--moderation", "none"]
            flask_cli(envs["a"], "sites", "add", SITE, *site)
            app = create_app(
                {
                    "DATABASE_URL": database_url,
                    "SECRET_KEY": SECRET,
                    "INSTANCE_PATH": str(folder / "instance-test"),
                    "RATE_LIMITS": "off",
                    "SPAM_CHECKS": "off",
                }
            )
            with serve_gunicorn(envs["a"], workers=2) as a, serve_gunicorn(envs["b"], 2) as b:
                assert Reader().get(f"{a}/healthz").status == 200
                assert Reader().get(f"{b}/healthz").status == 200
                yield Cluster(a, b, envs, app, smtp, folder)
            with app.app_context():
                db.engine.dispose()
    finally:
        smtp.stop()


# --- helpers ------------------------------------------------------------------------------


def post(reader: Reader, host: str, thread: str, body: str, **extra: Any) -> Reply:
    payload = {"site": SITE, "thread": thread, "author": "Reader", "email": "r@example.org"}
    return reader.post_json(f"{host}/api/comments", json.dumps(payload | {"body": body} | extra))


def page(reader: Reader, host: str, thread: str, etag: str | None = None) -> Reply:
    headers = {"If-None-Match": etag} if etag else {}
    return reader.get(f"{host}/api/comments?site={SITE}&thread={thread}", headers)


def htmls(reply: Reply) -> list[str]:
    """Every comment's HTML on a page, replies included, in order."""

    def walk(comments: list[dict[str, Any]]) -> Iterator[str]:
        for comment in comments:
            yield comment["html"]
            yield from walk(comment["replies"])

    assert reply.status == 200, reply.text
    return list(walk(json.loads(reply.text)["comments"]))


def counts(reader: Reader, host: str, thread: str) -> int:
    reply = reader.get(f"{host}/api/counts?site={SITE}&thread={thread}")
    assert reply.status == 200, reply.text
    return int(json.loads(reply.text)[thread])


def everywhere(cluster: Cluster, reader: Reader, thread: str, seen: str, count: int) -> str:
    """Each host, asked several times (so both of its gunicorn workers answer, each from its
    own caches), shows `seen` on the page and `count` in /api/counts, under one ETag."""
    etags = set()
    for host in (cluster.a, cluster.b) * 3:
        reply = page(reader, host, thread)
        assert any(seen in html for html in htmls(reply)), (host, htmls(reply))
        etags.add(reply.headers["ETag"])
        assert counts(reader, host, thread) == count, host
    assert len(etags) == 1, etags
    return etags.pop()


# --- 1. what one host writes, the other reads at once ---------------------------------------


def test_a_write_on_one_host_is_read_on_the_other_at_once(cluster: Cluster) -> None:
    reader, thread = Reader("127.0.0.2"), "/2026/scale-out"
    assert post(reader, cluster.a, thread, "First, on A.").status == 201
    first = everywhere(cluster, reader, thread, "First, on A.", 1)  # warms every cache
    assert page(reader, cluster.b, thread, first).status == 304

    # A post on A: B's very next answers have it, under a new ETag, even to a conditional
    # GET with the ETag B (and A) gave before.
    posted = post(reader, cluster.a, thread, "Second, on A.")
    assert posted.status == 201, posted.text
    fresh = page(reader, cluster.b, thread, first)
    assert fresh.status == 200, "B answered 304 with the page before A's post"
    assert "Second, on A." in htmls(fresh)[-1]
    assert fresh.headers["ETag"] != first
    assert counts(reader, cluster.b, thread) == 2
    second = everywhere(cluster, reader, thread, "Second, on A.", 2)

    # An edit on B, with the edit token A gave: A's next answers have it.
    created = json.loads(posted.text)
    edited = reader.request(
        "PATCH",
        f"{cluster.b}/api/comments/{created['comment']['id']}",
        json.dumps({"body": "Second, on A, edited on B."}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {created['edit_token']}"},
    )
    assert edited.status == 200, edited.text
    fresh = page(reader, cluster.a, thread, second)
    assert fresh.status == 200, "A answered 304 with the page before B's edit"
    assert "edited on B" in htmls(fresh)[-1]
    assert counts(reader, cluster.a, thread) == 2
    third = everywhere(cluster, reader, thread, "edited on B", 2)

    # A reply on B: counted on A at once.
    parent_id = created["comment"]["id"]
    assert post(reader, cluster.b, thread, "A reply, on B.", parent_id=parent_id).status == 201
    assert counts(reader, cluster.a, thread) == 3
    assert page(reader, cluster.a, thread, third).status == 200
    last = everywhere(cluster, reader, thread, "A reply, on B.", 3)
    print(f"\nETags on both hosts, change by change: {first} {second} {third} {last}")
    assert len({first, second, third, last}) == 4


# --- 2. one rate limit across both hosts ----------------------------------------------------


def test_the_post_limit_is_shared_by_both_hosts(cluster: Cluster) -> None:
    reader, thread = Reader("127.0.0.3"), "/2026/limits"
    hosts = [cluster.a, cluster.b] * 3
    replies = [post(reader, host, thread, f"Post {i}.") for i, host in enumerate(hosts)]
    statuses = [reply.status for reply in replies]
    # Per host, A would have taken 3 and B 3: all 201. Shared, the fifth post (on A) is over.
    assert statuses == [201] * POST_LIMIT + [429] * 2, statuses
    for refused in replies[POST_LIMIT:]:
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert json.loads(refused.text)["error"] == "rate_limited"
    # The limit is this reader's, not everybody's.
    assert post(Reader("127.0.0.5"), cluster.b, thread, "Another reader.").status == 201
    print(f"\nposts alternating A, B from one address: {statuses}")


# --- 3. two mail workers, each mail once -----------------------------------------------------


def seed_subscribers(app: Flask, thread_key: str, n: int) -> list[str]:
    """n confirmed subscribers of a new thread; returns their addresses."""
    addresses = [f"s{i}@example.org" for i in range(n)]
    with app.app_context():
        site = db.session.scalars(select(Site).where(Site.name == SITE)).one()
        thread = Thread(site_id=site.id, key=thread_key, title="Busy")
        db.session.add(thread)
        db.session.flush()
        confirmed_subscribers(thread, addresses)
        db.session.commit()
    return addresses


@contextmanager
def mail_workers(cluster: Cluster) -> Iterator[list[Path]]:
    """`flask --app app mail worker` on each host, polling every 0.2 s; yields their logs."""
    logs = [cluster.folder / f"worker-{name}.log" for name in cluster.envs]
    with ExitStack() as stack:
        workers = []
        for log, env in zip(logs, cluster.envs.values(), strict=True):
            out = stack.enter_context(log.open("wb"))
            workers.append(
                subprocess.Popen(
                    [FLASK, "--app", "app", "mail", "worker", "--interval", "0.2"],
                    cwd=ROOT,
                    env={**os.environ, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            yield logs
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=10)


def sent_by(log: Path) -> int:
    return len(re.findall(r"mail \d+ \(notify\): sent", log.read_text()))


def test_two_mail_workers_send_each_notification_once(cluster: Cluster) -> None:
    thread = "/2026/busy"
    addresses = seed_subscribers(cluster.app, thread, SUBSCRIBERS)
    recorder = cluster.smtp.recorder
    # 5 ms per message at the server: one worker alone would need a second at least, so the
    # other one, polling every 0.2 s, certainly claims batches of its own.
    recorder.delay = 0.005
    with mail_workers(cluster) as logs:
        time.sleep(1.5)  # both are up and polling an empty queue
        started = time.monotonic()
        published = post(Reader("127.0.0.4"), cluster.a, thread, "News for everyone.")
        assert published.status == 201, published.text
        deadline = started + 30
        while len(recorder.messages) < SUBSCRIBERS and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # five more polls each: anything sent twice would arrive now
    recorder.delay = 0
    # A notification's Message-ID is its comment's (replies thread under it), the same in
    # every subscriber's copy: one mail is one (recipient, Message-ID).
    mails = Counter((rcpt, str(message["Message-ID"])) for rcpt, message in recorder.messages)
    comment_id = json.loads(published.text)["comment"]["id"]
    shares = [sent_by(log) for log in logs]
    print(
        f"\n{len(recorder.messages)} mails received for {SUBSCRIBERS} subscribers in "
        f"{elapsed:.1f} s, {len(mails)} distinct (recipient, Message-ID); "
        f"worker A sent {shares[0]}, worker B {shares[1]}"
    )
    assert [mail for mail, n in mails.items() if n > 1] == []  # none twice
    assert sorted(to for to, _ in mails) == sorted(addresses)
    assert {message_id for _, message_id in mails} == {
        message_id for _, message_id in mails if message_id.startswith(f"<comment-{comment_id}.")
    }
    assert len({message_id for _, message_id in mails}) == 1  # the comment's, for everyone
    assert sum(shares) == SUBSCRIBERS and min(shares) > 0, shares
    with cluster.app.app_context():
        statuses = db.session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.kind == NOTIFY)
            .group_by(Delivery.status)
        ).all()
    assert dict(statuses) == {SENT: SUBSCRIBERS}
