"""Read a 200-comment thread (a third replies) under gunicorn with 2 workers, for 10 s.

.venv/bin/python bench/read_thread.py [--seconds 10] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse

from harness import fresh_sqlite, gunicorn, load, machine, parley_env, seed_thread, worker_rss_mb

ISSO_REFERENCE = 6.0  # requests/s, Isso 0.14 under gunicorn with 2 workers (issue text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url")
    parser.add_argument("--sort", default="oldest", choices=["oldest", "newest", "top"])
    args = parser.parse_args()
    env = parley_env(args.database_url)
    if not args.database_url:
        fresh_sqlite(env)
    seed_thread(env, "/bench", 200)
    # Votes are on (the default): every comment carries its score.
    path = f"/api/comments?site=default&thread=/bench&limit=200&sort={args.sort}"
    print(machine())
    with gunicorn(env) as (port, server):
        load(port, lambda n: ("GET", path, None, {}), 1, args.concurrency)  # warm-up
        result = load(port, lambda n: ("GET", path, None, {}), args.seconds, args.concurrency)
        print(result.line(f"GET thread of 200, sort={args.sort} ({args.concurrency} clients)"))
        print(f"ratio to Isso's ~{ISSO_REFERENCE:.0f} req/s: {result.rate / ISSO_REFERENCE:.0f}x")
        print(
            "worker RSS after the run: " + ", ".join(f"{mb:.0f} MB" for mb in worker_rss_mb(server))
        )


if __name__ == "__main__":
    main()
