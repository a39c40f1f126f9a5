"""Cost growth: the first page of threads with 100, 1,000, 10,000 and 100,000 comments, and
counts for 50 threads on a site with 100,000 threads. The page cache is off, so every request
reaches the database.

    .venv/bin/python bench/scale.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import subprocess

from harness import PYTHON, ROOT, flask, fresh_sqlite, gunicorn, load, machine, parley_env

SIZES = (100, 1_000, 10_000, 100_000)
THREADS = 100_000

SEED = """
import sys
from datetime import timedelta
from sqlalchemy import insert, select
from app import app
from widget.extensions import db
from widget.models import Comment, Site, Thread, utcnow
sizes = [int(s) for s in sys.argv[1].split(",")]
threads = int(sys.argv[2])
with app.app_context():
    site = db.session.scalars(select(Site)).one()
    start = utcnow() - timedelta(days=400)
    next_id = 1
    for size in sizes:
        thread = Thread(site_id=site.id, key=f"/size/{size}", title=str(size), comment_count=size)
        db.session.add(thread); db.session.flush()
        rows, tops = [], []
        for i in range(size):
            reply = tops and i % 3 == 2
            parent = tops[i % len(tops)] if reply else None
            rows.append({"id": next_id, "thread_id": thread.id, "parent_id": parent,
                         "root_id": parent or next_id, "author": f"R{i}", "website": "",
                         "email_enc": "", "email_hash": "", "avatar_seed": "00ff00ff00ff00ff",
                         "body": "x", "html": f"<p>Comment {i} with a few words.</p>",
                         "status": "approved", "reasons": "", "ip": "",
                         "created_at": start + timedelta(seconds=i)})
            if not reply:
                tops.append(next_id)
            next_id += 1
            if len(rows) == 5000:
                db.session.execute(insert(Comment), rows); rows = []
        if rows:
            db.session.execute(insert(Comment), rows)
    db.session.execute(insert(Thread), [
        {"site_id": site.id, "key": f"/t/{i}", "title": "", "url": "", "closed": False,
         "comment_count": i % 17, "version": 0, "created_at": start} for i in range(threads)])
    db.session.commit()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    env = parley_env(args.database_url, PARLEY_THREAD_CACHE_SIZE="0")
    if args.database_url:
        flask(env, "db", "upgrade")  # an empty database of your own: the seed needs tables
    else:
        fresh_sqlite(env)
    subprocess.run(
        [PYTHON, "-c", SEED, ",".join(map(str, SIZES)), str(THREADS)], cwd=ROOT, env=env, check=True
    )
    print(machine())
    with gunicorn(env) as (port, _):
        first = None
        for size in SIZES:
            path = f"/api/comments?site=default&thread=/size/{size}"
            load(port, lambda n, p=path: ("GET", p, None, {}), 5, 1, max_requests=20)
            result = load(
                port, lambda n, p=path: ("GET", p, None, {}), 60, 1, max_requests=args.requests
            )
            first = first or result.pct(0.5)
            print(
                result.line(f"first page, {size:>7} comments")
                + f"  p50 ×{result.pct(0.5) / first:.2f} of the smallest"
            )
        keys = "&".join(f"thread=/t/{i * 1999}" for i in range(50))
        counts = load(
            port,
            lambda n: ("GET", f"/api/counts?site=default&{keys}", None, {}),
            60,
            1,
            max_requests=args.requests,
        )
        print(counts.line(f"counts of 50 threads among {THREADS}"))


if __name__ == "__main__":
    main()
