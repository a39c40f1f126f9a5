"""Build and send the daily digest for 10,000 subscribers of one thread (5 new comments each),
in-process on SQLite, into a local aiosmtpd server: time, statements, mails.

    .venv/bin/python bench/digest.py [--subscribers 10000] [--comments 5]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=5)
    args = parser.parse_args()
    from flask_migrate import upgrade
    from sqlalchemy import event, func, select

    from tests.seed import confirmed_subscribers
    from tests.smtp import SmtpServer
    from widget import create_app
    from widget.extensions import db
    from widget.mail import run_worker
    from widget.models import Comment, Delivery, Site, Thread, utcnow
    from widget.subscriptions import fan_out

    logging.getLogger("widget").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="parley-digest-"))
    smtp = SmtpServer().start()
    app = create_app(
        {
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-1234",
            "DATABASE_URL": f"sqlite:///{folder / 'parley.db'}",
            "INSTANCE_PATH": str(folder),
            "SMTP_URL": smtp.url,
            "MAIL_BATCH_SIZE": 500,
            "TESTING": True,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        site = Site(name="bench", origins="", moderation="none")
        db.session.add(site)
        db.session.flush()
        thread = Thread(site_id=site.id, key="/busy", title="A busy article")
        db.session.add(thread)
        db.session.flush()
        now = utcnow()
        addresses = [f"r{i}@example.org" for i in range(args.subscribers)]
        confirmed_subscribers(thread, addresses, mode="digest")
        for n in range(args.comments):
            comment = Comment(
                thread_id=thread.id,
                author=f"Writer {n}",
                body=f"News {n}.",
                html=f"<p>News {n}.</p>",
                status="approved",
                created_at=now,
            )
            db.session.add(comment)
            db.session.flush()
            comment.root_id = comment.id
            fan_out(comment)
        db.session.commit()
        rows = db.session.scalar(select(func.count(Delivery.id)))
        app.extensions["parley_clock"].advance(86400)
        statements = [0]
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
        started = time.perf_counter()
        run_worker(once=True)
        took = time.perf_counter() - started
        mails = len(smtp.recorder.raw)
    smtp.stop()
    print(f"{args.subscribers} digest subscribers, {rows} digest rows, {mails} mails sent")
    print(
        f"built and sent in {took:.1f} s ({mails / took:.0f} digests/s), "
        f"{statements[0]} statements ({statements[0] / max(mails, 1):.1f} per digest)"
    )


if __name__ == "__main__":
    main()
