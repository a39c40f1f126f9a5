"""Comment counts of 50 threads in one request (`data-parley-count` on a listing page), under
gunicorn with 2 workers on SQLite, 8 clients. With --before, the same run first on a copy of
the last commit (`git archive HEAD`), then on the working tree, and the ratio.

.venv/bin/python bench/counts.py [--seconds 8] [--before] [--database-url URL]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from harness import PYTHON, ROOT, Result, gunicorn, load, machine, parley_env

THREADS = 50
KEYS = [f"/bench/t{k}" for k in range(THREADS)]
SEED = f"""
from app import app
from widget.comments import post_comment
from widget.forms import NewComment
from widget.sites import save_site
from widget.threads import find_page_thread
with app.app_context():
    save_site("default", moderation="none", create=False)
    for k, key in enumerate({KEYS!r}):
        for i in range(k % 4):  # 0 to 3 comments: some threads have none
            page = find_page_thread("default", key)
            post_comment(page, NewComment(thread_key=key, author="Reader",
                email=f"r{{k}}-{{i}}@example.org", body="Some words.", title="T"))
"""


def run(root: Path, seconds: float, database_url: str | None) -> Result:
    env = parley_env(database_url)
    if not database_url:
        db = Path(env["PARLEY_DATABASE_URL"].removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=root, env=env, check=True
    )
    subprocess.run([PYTHON, "-c", SEED], cwd=root, env=env, check=True)
    path = "/api/counts?site=default&" + "&".join(f"thread={k}" for k in KEYS)
    with gunicorn(env, cwd=root) as (port, _):
        load(port, lambda n: ("GET", path, None, {}), 1, 8)  # warm-up
        return load(port, lambda n: ("GET", path, None, {}), seconds, 8)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--before", action="store_true", help="also run the last commit")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print(machine())
    label = f"GET /api/counts of {THREADS} threads (8 clients, 2 workers)"
    before = None
    if args.before:
        with tempfile.TemporaryDirectory() as folder:
            archive = subprocess.run(
                ["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            before = run(Path(folder), args.seconds, args.database_url)
        print(before.line(f"before (HEAD)  {label}"))
    after = run(ROOT, args.seconds, args.database_url)
    print(after.line(f"after (tree)   {label}"))
    if before is not None:
        print(f"after / before: {after.rate / before.rate:.2f}x")


if __name__ == "__main__":
    main()
