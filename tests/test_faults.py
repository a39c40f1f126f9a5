"""Faults: an SMTP server that refuses, hangs or drops the connection mid-message, and
PostgreSQL stopped and started under load. Requests fail cleanly; no mail is lost or doubled."""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from widget import mail as mailer
from widget.extensions import db
from widget.models import QUEUED, SENT, Comment, Delivery, utcnow

from .conftest import POSTGRES_URL, Api
from .live import free_port, serve_gunicorn, server_env
from .smtp import SmtpServer
from .test_notifications import subscribe_confirmed

ROOT = Path(__file__).resolve().parent.parent


class BrokenSmtp:
    """A raw TCP server: 'hang' never answers; 'drop' closes the connection inside DATA."""

    def __init__(self, mode: str) -> None:
        self.port = free_port()
        mode_ = mode

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock = self.request
                if mode_ == "hang":
                    time.sleep(5)
                    return
                sock.sendall(b"220 broken.example ESMTP\r\n")
                buffer = b""
                while True:
                    data = sock.recv(4096)
                    if not data:
                        return
                    buffer += data
                    while b"\r\n" in buffer:
                        line, buffer = buffer.split(b"\r\n", 1)
                        verb = line[:4].upper()
                        if verb in (b"EHLO", b"HELO"):
                            sock.sendall(b"250 broken.example\r\n")
                        elif verb in (b"MAIL", b"RCPT"):
                            sock.sendall(b"250 OK\r\n")
                        elif verb == b"DATA":
                            sock.sendall(b"354 go ahead\r\n")
                            sock.recv(64)  # a little of the message, then gone
                            sock.shutdown(socket.SHUT_RDWR)
                            return
                        else:
                            sock.sendall(b"250 OK\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def queued_notifications() -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(Delivery.kind == "notify")))


def make_due() -> None:
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    db.session.commit()


def test_smtp_temporary_refusal_is_retried(app: Flask, api: Api, smtp: SmtpServer) -> None:
    app.config.update(SMTP_URL=smtp.url, MAIL_BACKOFF_BASE=60)
    subscribe_confirmed(api, "busy@example.org")
    smtp.recorder.refuse["busy@example.org"] = "451 4.3.0 mailbox busy, try later"
    api.post(body="retry me")
    mailer.run_worker(once=True)
    [row] = queued_notifications()
    assert row.status == QUEUED and row.attempts == 1 and "451" in row.last_error
    del smtp.recorder.refuse["busy@example.org"]
    make_due()
    mailer.run_worker(once=True)
    assert len(smtp.recorder.to("busy@example.org")) == 1


@pytest.mark.parametrize("mode", ["hang", "drop"])
def test_broken_smtp_server_then_recovery_sends_each_once(
    app: Flask, api: Api, smtp: SmtpServer, mode: str
) -> None:
    broken = BrokenSmtp(mode)
    try:
        app.config.update(SMTP_URL=broken.url, SMTP_TIMEOUT=1, MAIL_BACKOFF_BASE=60)
        subscribe_confirmed(api, "reader@example.org")
        for i in range(3):
            assert api.post(body=f"during the fault {i}").status_code == 201
        started = time.time()
        mailer.run_worker(once=True)
        assert time.time() - started < 15  # timeouts, not a stuck worker
        rows = queued_notifications()
        assert len(rows) == 3 and all(r.status == QUEUED and r.attempts == 1 for r in rows)
        assert all(r.last_error for r in rows)
    finally:
        broken.close()
    app.config["SMTP_URL"] = smtp.url
    make_due()
    mailer.run_worker(once=True)
    mails = smtp.recorder.to("reader@example.org")
    assert len(mails) == 3 and len({m["Message-ID"] for m in mails}) == 3
    assert all(r.status == SENT for r in queued_notifications())


def _post(base: str, n: int) -> tuple[int, Any]:
    body = json.dumps(
        {
            "site": "default",
            "thread": "/outage",
            "author": "Poster",
            "email": "poster@example.org",
            "body": f"outage post {n}",
        }
    ).encode()
    request = urllib.request.Request(
        base + "/api/comments", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return 0, None


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="PARLEY_TEST_POSTGRES_URL not set")
@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgres_outage_gives_503_then_recovers(
    app: Flask, api: Api, smtp: SmtpServer, tmp_path: Path
) -> None:
    subscribe_confirmed(api, "watcher@example.org", thread="/outage")
    # 30 comments in a few seconds: more than the busy-thread cap would mail one by one.
    db.session.execute(db.text("UPDATE sites SET daily_mail_cap = 1000"))
    db.session.commit()
    db.session.remove()
    env = server_env(
        app.config["DATABASE_URL"],
        tmp_path,
        PARLEY_SMTP_URL=smtp.url,
        PARLEY_PUBLIC_URL="http://parley.test",
        PARLEY_MAIL_BACKOFF_BASE="1",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "mail", "worker", "--interval", "0.3"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    outcomes: list[tuple[str, int, Any]] = []
    try:
        with serve_gunicorn(env, workers=2) as base:
            for n in range(10):
                outcomes.append(("before", *_post(base, n)))
            subprocess.run([str(ROOT / "scripts/postgres.sh"), "stop"], check=True)
            for n in range(10, 20):
                outcomes.append(("down", *_post(base, n)))
            health = urllib.request.Request(base + "/healthz")
            try:
                urllib.request.urlopen(health, timeout=10)
                healthy_while_down = True
            except urllib.error.HTTPError as exc:
                healthy_while_down = exc.code != 503
            subprocess.run([str(ROOT / "scripts/postgres.sh"), "resume"], check=True)
            time.sleep(1)
            for n in range(20, 30):
                outcomes.append(("after", *_post(base, n)))
        deadline = time.time() + 40
        while time.time() < deadline and len(smtp.recorder.messages) < 20:
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    by_phase = Counter((phase, status) for phase, status, _ in outcomes)
    assert by_phase[("before", 201)] == 10 and by_phase[("after", 201)] == 10, by_phase
    assert by_phase[("down", 503)] == 10, by_phase
    assert all(
        body and body.get("error") == "unavailable"
        for phase, status, body in outcomes
        if phase == "down"
    )
    assert not healthy_while_down
    accepted = {body["comment"]["id"] for _, status, body in outcomes if status == 201}
    stored = set(db.session.scalars(select(Comment.id).where(Comment.body.like("outage post%"))))
    assert stored == accepted
    received = Counter(m["Message-ID"] for _, m in smtp.recorder.messages)
    assert len(received) == 20 and set(received.values()) == {1}
    assert (
        db.session.scalar(
            select(func.count()).where(Delivery.kind == "notify", Delivery.status != SENT)
        )
        == 0
    )
    print(f"\nPostgreSQL outage: {by_phase}, {len(received)} mails sent once each")
