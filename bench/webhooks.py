"""Webhook delivery as an operator sees it: comments posted to Parley under gunicorn, a real
`flask mail worker` process polling the outbox, a receiver on 127.0.0.1 timing each arrival.

Prints the post -> receiver latency (median, p95, max) at the worker's default poll interval
(2 s) and at 0.2 s, then one delivery against a receiver that answers 503 twice (with
PARLEY_MAIL_BACKOFF_BASE=1, so the doubling is seen in seconds instead of minutes).

    .venv/bin/python bench/webhooks.py [--posts 40] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import PYTHON, ROOT, flask, fresh_sqlite, gunicorn, machine, parley_env

sys.path.insert(0, str(ROOT))

from tests.webhook_receiver import Receiver  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"


def post_comment(port: int, i: int) -> tuple[int, float]:
    """One reader's post over HTTP; returns the comment id and when the request started."""
    body = json.dumps(
        {
            "site": "default",
            "thread": "/bench/webhooks",
            "author": f"Reader {i}",
            "email": f"r{i}@example.org",
            "body": f"Comment number {i}.",
        }
    )
    started = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/comments", body, {"Content-Type": "application/json"})
    answer = conn.getresponse()
    data = json.loads(answer.read())
    assert answer.status == 201, data
    return int(data["comment"]["id"]), started


@contextmanager
def mail_worker(env: dict[str, str], interval: float) -> Iterator[None]:
    command = [PYTHON, "-m", "flask", "--app", "app", "mail", "worker", "--interval", str(interval)]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # started and polling
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def wait_for(receiver: Receiver, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while len(receiver.received()) < count and time.time() < deadline:
        time.sleep(0.02)


def latency_round(
    port: int, env: dict[str, str], receiver: Receiver, posts: int, interval: float
) -> list[float]:
    before = len(receiver.received())
    started: dict[int, float] = {}
    with mail_worker(env, interval):
        for i in range(posts):
            comment_id, at = post_comment(port, i)
            started[comment_id] = at
            time.sleep(0.137)  # not in step with the poll interval
        wait_for(receiver, before + posts)
    arrivals = receiver.received()[before:]
    ids = [r.json()["comment"]["id"] for r in arrivals]
    assert sorted(ids) == sorted(started), "a post arrived twice or not at all"
    return sorted((r.at - started[r.json()["comment"]["id"]]) * 1000 for r in arrivals)


def summary(label: str, ms: list[float]) -> str:
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"| {label} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--postgres", help="a database URL to use instead of SQLite (wiped)")
    args = parser.parse_args()
    # A folder of its own: other benchmarks may wipe bench/.work while this one runs.
    folder = Path(tempfile.mkdtemp(prefix="parley-webhooks-"))
    env = parley_env(
        args.postgres or f"sqlite:///{folder / 'parley.db'}",
        PARLEY_MAIL_BACKOFF_BASE="1",
        PARLEY_INSTANCE_PATH=str(folder),
    )
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        flask(env, "db", "upgrade")
    else:
        fresh_sqlite(env)
    flask(env, "sites", "set", "default", "--moderation", "none")
    receiver = Receiver().start()
    flask(env, "webhooks", "add", "default", receiver.url("/bench"), "--secret", SECRET)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Webhooks on {backend}; {machine()}")
    print("\n| worker poll interval | posts | median ms | p95 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    with gunicorn(env, workers=2) as (port, _server):
        for interval in (2.0, 0.2):
            ms = latency_round(port, env, receiver, args.posts, interval)
            print(summary(f"{interval:g} s", ms))

        # Retries: 503, 503, then 204; the worker polls every 0.2 s.
        receiver.answers = [503, 503]
        before = len(receiver.received())
        with mail_worker(env, 0.2):
            _id, started = post_comment(port, 999)
            wait_for(receiver, before + 3, timeout=30)
        tries = receiver.received()[before:]
        gaps = [b.at - a.at for a, b in zip(tries, tries[1:], strict=False)]
        print(
            f"\nRetries (PARLEY_MAIL_BACKOFF_BASE=1, poll 0.2 s): {len(tries)} tries "
            f"(503, 503, 204), first {1000 * (tries[0].at - started):.0f} ms after the post, "
            f"then after {', '.join(f'{g:.2f} s' for g in gaps)}; "
            f"delivered once: {len({t.body for t in tries}) == 1 and len(tries) == 3}"
        )
    receiver.stop()
    base, attempts = 60, 8
    waits = [base * 2**k for k in range(attempts - 1)]
    print(
        f"Default schedule (PARLEY_MAIL_BACKOFF_BASE={base}, PARLEY_MAIL_MAX_ATTEMPTS={attempts}): "
        f"waits {', '.join(f'{w // 60} min' for w in waits)}; failed after the 8th try, "
        f"{sum(waits) / 3600:.1f} h after the first."
    )


if __name__ == "__main__":
    main()
