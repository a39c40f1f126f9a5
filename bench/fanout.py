"""Publish one comment into a thread with 10,000 confirmed subscribers; then send the mail.

Prints the POST latency beside the same POST in a thread with no subscribers (the fan-out is
one INSERT … SELECT, so the request should not grow with the audience), and the mail worker's
rate into a local aiosmtpd server.

    .venv/bin/python bench/fanout.py [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from harness import PYTHON, ROOT, fresh_sqlite, gunicorn, load, machine, parley_env

sys.path.insert(0, str(ROOT))

SEED = """
import sys
from sqlalchemy import insert, select
from app import app
from widget.extensions import db
from widget.models import Address, Site, Subscription, Thread, utcnow
from widget.vault import vault
n = int(sys.argv[1])
with app.app_context():
    site = db.session.scalars(select(Site)).one(); site.moderation = "none"
    now = utcnow()
    for key in ("/quiet", "/busy"):
        db.session.add(Thread(site_id=site.id, key=key, title=key))
    db.session.flush()
    busy = db.session.scalar(select(Thread.id).where(Thread.key == "/busy"))
    db.session.execute(insert(Address), [
        {"email_hash": vault().lookup_hash(f"s{i}@example.org"),
         "email_enc": vault().encrypt(f"s{i}@example.org"), "confirmed_at": now,
         "suppression_reason": "", "created_at": now} for i in range(n)])
    ids = db.session.scalars(select(Address.id)).all()
    db.session.execute(insert(Subscription), [
        {"thread_id": busy, "address_id": a, "active": True, "confirmed_at": now,
         "created_at": now} for a in ids])
    db.session.commit()
"""


def post(thread: str, n: int) -> tuple[str, str, bytes, dict[str, str]]:
    body = {
        "site": "default",
        "thread": thread,
        "author": "Writer",
        "email": f"w{n}@example.org",
        "body": f"News number {n}.",
    }
    return "POST", "/api/comments", json.dumps(body).encode(), {"Content-Type": "application/json"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args()
    from tests.smtp import SmtpServer

    env = parley_env()
    fresh_sqlite(env)
    subprocess.run([PYTHON, "-c", SEED, str(args.subscribers)], cwd=ROOT, env=env, check=True)
    print(machine())
    with gunicorn(env) as (port, _server):
        quiet = load(port, lambda n: post("/quiet", n), 60, 1, max_requests=args.posts)
        busy = load(port, lambda n: post("/busy", 1000 + n), 60, 1, max_requests=args.posts)
    print(quiet.line("publish, 0 subscribers     "))
    print(busy.line(f"publish, {args.subscribers} subscribers"))
    print(f"ratio busy/quiet p50: {busy.pct(0.5) / quiet.pct(0.5):.2f}")
    smtp = SmtpServer().start()
    try:
        env["PARLEY_SMTP_URL"] = smtp.url
        env["PARLEY_MAIL_BATCH_SIZE"] = "200"
        queued = args.subscribers * args.posts
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "app", "mail", "worker", "--once"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - started
        sent = len(smtp.recorder.messages)
        print(
            f"mail worker: {sent} of {queued} mails in {elapsed:.1f} s = "
            f"{sent / elapsed:.0f} mails/s (one worker, one SMTP connection per batch)"
        )
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
