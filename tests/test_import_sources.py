"""Importers added for #20: Remark42 backups, Commento exports, Disqus identifiers, WXR
without a version tag, and `--dry-run` on every import command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import DELETED, PENDING, Comment, Thread

from .conftest import SECRET, Api
from .export_files import (
    C,
    backup_comment,
    backup_thread,
    commento_comment,
    disqus,
    isso_db,
    remark42_comment,
    write_backup,
    write_commento,
    write_remark42,
    wxr,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "wordpress"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures absent")
HOSTILE = '<p><a href="javascript:alert(1)">x</a><script>alert(2)</script><img src=x onerror=y></p>'


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


def count(*where: object) -> int:
    return db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0


def threads() -> int:
    return db.session.scalar(select(func.count(Thread.id))) or 0


# --- Remark42 -------------------------------------------------------------------------------


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_remark42_backup(runner: FlaskCliRunner, api: Api, tmp_path: Path, gzipped: bool) -> None:
    url = "https://blog.example/2021/remark/"
    rows = [
        remark42_comment("c1", url, "Hello *remark*"),
        remark42_comment("c2", url, "A reply", pid="c1"),
        remark42_comment("c3", url, "", text="", orig="", delete=True),
        remark42_comment("c4", url, "Under a deleted one", pid="c3"),
        remark42_comment("c5", url, "", text=HOSTILE, orig="", user={"name": "Eve\u202e"}),
        remark42_comment("c6", url, "Parent gone", pid="nope"),
        remark42_comment("c7", "javascript:alert(1)", "no page"),
        remark42_comment("c8", "https://blog.example/other/", "🦊 other post", title="Other"),
    ]
    path = tmp_path / ("backup.gz" if gzipped else "backup.jsonl")
    write_remark42(path, rows, gzipped=gzipped)
    with open(path, "ab") as handle:  # a broken line is skipped, not fatal
        handle.write(b"" if gzipped else b"{not json\n")
    code, output = run(runner, "import", "remark42", str(path), "--site", "default")
    assert code == 0, output
    assert "Imported from remark42: 7 comments in 2 new threads" in output
    assert "comments with no id or page URL" in output
    assert "1 replies whose parent is missing became top-level" in output
    if not gzipped:
        assert "comments with a line that is not JSON" in output
    thread = db.session.scalars(select(Thread).where(Thread.key == "/2021/remark/")).one()
    assert thread.title == "A post" and thread.url == url and thread.comment_count == 5
    page = api.thread("/2021/remark/").get_json()
    first = page["comments"][0]
    assert first["html"] == "<p>Hello <em>remark</em></p>"
    assert first["author"] == "Remark Reader" and first["replies"][0]["html"] == "<p>A reply</p>"
    assert page["comments"][1]["deleted"]
    assert page["comments"][1]["replies"][0]["html"] == "<p>Under a deleted one</p>"
    text = json.dumps(page)
    assert "javascript:" not in text and "<script" not in text and "onerror" not in text
    assert "\u202e" not in text
    stored = db.session.scalars(select(Comment)).all()
    assert {c.ip for c in stored} == {""} and {c.email_enc for c in stored} == {""}
    code, output = run(runner, "import", "remark42", str(path), "--site", "default")
    assert "0 comments" in output and "7 already imported" in output and count() == 7


def test_not_a_remark42_backup_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "c1", "text": "a comment first"}\n')
    code, output = run(runner, "import", "remark42", str(path), "--site", "default")
    assert code == 1 and "not a Remark42 backup" in output and count() == 0


# --- Commento -------------------------------------------------------------------------------


COMMENTERS = [
    {
        "commenterHex": "a1",
        "email": "somegreatmail@example.org",
        "name": "User5276",
        "link": "https://example.com/profile/257",
        "photo": "https://secure.gravatar.com/avatar/8f27",
        "provider": "sso:example.com",
        "joinDate": "2021-03-19T19:27:25.954285Z",
        "isModerator": False,
    },
    {"commenterHex": "b2", "email": "", "name": "Saturnin", "link": "javascript:x()"},
]


def test_commento_export(runner: FlaskCliRunner, api: Api, tmp_path: Path) -> None:
    rows = [
        commento_comment("e706", "/blog/post/1", "Example comment by a guest."),
        commento_comment("7d77", "/blog/post/1", "Example **2**", commenterHex="a1"),
        commento_comment(
            "ea5f", "/blog/post/1", "Great reply!", commenterHex="b2", parentHex="7d77"
        ),
        commento_comment("f001", "/blog/post/1", "Held", state="unapproved"),
        commento_comment("f002", "/blog/post/1", "Gone", deleted=True),
        commento_comment("f003", "/blog/post/1", "", html=HOSTILE),
        commento_comment("f004", "/blog/post/2", "Odd", state="shadowbanned"),
        "not a comment",
    ]
    path = tmp_path / "commento.json"
    write_commento(path, rows, COMMENTERS)
    code, output = run(runner, "import", "commento", str(path), "--site", "default")
    assert code == 0, output
    assert "Imported from commento: 6 comments in 1 new threads" in output
    assert "comments in an unknown state" in output and "comments with no fields" in output
    thread = db.session.scalars(select(Thread)).one()
    assert thread.key == "/blog/post/1" and thread.url == "https://blog.example/blog/post/1"
    assert thread.comment_count == 4
    assert count(Comment.status == PENDING) == 1 and count(Comment.status == DELETED) == 1
    page = api.thread("/blog/post/1").get_json()
    by_author = {c["author"]: c for c in page["comments"]}
    assert by_author["User5276"]["html"] == "<p>Example <strong>2</strong></p>"
    assert by_author["User5276"]["website"] == "https://example.com/profile/257"
    assert by_author["User5276"]["replies"][0]["author"] == "Saturnin"
    assert by_author["User5276"]["replies"][0]["website"] == ""
    assert "Anonymous" in by_author
    text = json.dumps(page)
    assert "javascript:" not in text and "<script" not in text and "example.org" not in text
    code, output = run(runner, "import", "commento", str(path), "--site", "default")
    assert "6 already imported" in output and count() == 6


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 2, "comments": [], "commenters": []}',
        '[{"commentHex": "x"}]',
        '{"version": 1, "comments": [' + "[" * 100_000,
        '{"version": 1, "comments": [{"commentHex": "' + "x" * (2 << 20) + '"}]}',
        '{"version": 1, "comments": [{"commentHex": "x"}',
    ],
    ids=["version", "array", "deep", "huge-value", "truncated"],
)
def test_bad_commento_files_are_refused(
    runner: FlaskCliRunner, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    code, output = run(runner, "import", "commento", str(path), "--site", "default")
    assert code == 1 and "Import refused" in output, output
    assert count() == 0 and threads() == 0


# --- Disqus identifiers ---------------------------------------------------------------------


def test_disqus_threads_are_keyed_by_their_identifier(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    # Two Disqus threads recorded the same link (a preview host, a query string): their
    # identifiers tell them apart. A URL identifier keys by its path; none: the link's path.
    path = tmp_path / "disqus.xml"
    path.write_text(
        disqus(
            [
                ("10", "https://blog.example/post/?utm=x", "First", "/2019/first/"),
                ("11", "https://blog.example/post/", "Second", "second-post"),
                ("12", "http://old.example/p/", "Third", "https://blog.example/2019/third/"),
                ("13", "https://blog.example/fourth/", "Fourth"),
            ],
            [{"id": str(100 + i), "thread": str(10 + i), "body": f"on {i}"} for i in range(4)],
        )
    )
    code, output = run(runner, "import", "disqus", str(path), "--site", "default")
    assert code == 0, output
    keys = dict(db.session.execute(select(Thread.key, Thread.title)).all())
    assert keys == {
        "/2019/first/": "First",
        "second-post": "Second",
        "/2019/third/": "Third",
        "/fourth/": "Fourth",
    }


# --- WXR without a version tag ----------------------------------------------------------------


def test_wxr_without_version_is_read_by_its_namespace(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "trimmed.xml"
    text = wxr([("a", "A", [C(1, "kept"), C(2, "reply", parent=1)])])
    text = text.replace("<wp:wxr_version>1.2</wp:wxr_version>", "")
    path.write_text(text)
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert output.startswith("Warning: the file has no <wp:wxr_version>")
    assert count() == 2


def test_xml_without_the_wordpress_namespace_is_still_refused(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "rss.xml"
    text = wxr([("a", "A", [C(1, "x")])]).replace("wordpress.org/export/1.2/", "example.org/wp/")
    path.write_text(text.replace("<wp:wxr_version>1.2</wp:wxr_version>", ""))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 1 and "not a WordPress export" in output and count() == 0


@needs_fixtures
def test_missing_version_tag_fixture_imports_with_a_warning(runner: FlaskCliRunner) -> None:
    name = str(FIXTURES / "missing-version-tag.xml")
    code, output = run(runner, "import", "wordpress", name, "--site", "default")
    assert code == 0, output
    assert "Warning: the file has no <wp:wxr_version>" in output


# --- dry runs -------------------------------------------------------------------------------


def _files(tmp_path: Path) -> dict[str, tuple[Path, int]]:
    """One file per source: (path, comments it holds)."""
    files: dict[str, tuple[Path, int]] = {}
    wp = tmp_path / "wp.xml"
    wp.write_text(wxr([("a", "A", [C(1, "one"), C(2, "two", parent=1)]), ("b", "B", [C(3, "x")])]))
    files["wordpress"] = (wp, 3)
    dq = tmp_path / "dq.xml"
    dq.write_text(
        disqus([("10", "https://blog.example/d/", "D")], [{"id": "1", "thread": "10", "body": "d"}])
    )
    files["disqus"] = (dq, 1)
    isso = tmp_path / "isso.db"
    isso_db(
        isso, [(1, "/i/", "I")], [(1, 1, None, 1, "Ann", "", "hi"), (1, 2, 1, 1, "Bo", "", "yo")]
    )
    files["isso"] = (isso, 2)
    r42 = tmp_path / "r42.jsonl"
    write_remark42(r42, [remark42_comment("c1", "https://blog.example/r/", "r")])
    files["remark42"] = (r42, 1)
    cm = tmp_path / "c.json"
    write_commento(cm, [commento_comment("h1", "/c/", "c"), commento_comment("h2", "/c/", "d")], [])
    files["commento"] = (cm, 2)
    backup = tmp_path / "backup.json"
    write_backup(
        backup, [backup_thread(1, "/p/", [backup_comment(1, "p"), backup_comment(2, "q")])]
    )
    files["parley"] = (backup, 2)
    return files


@pytest.mark.parametrize(
    "source", ["wordpress", "disqus", "isso", "remark42", "commento", "parley"]
)
def test_dry_run_says_what_would_be_imported_and_stores_nothing(
    runner: FlaskCliRunner, tmp_path: Path, source: str
) -> None:
    path, comments = _files(tmp_path)[source]
    site = [] if source == "parley" else ["--site", "default"]
    code, output = run(runner, "import", source, str(path), *site, "--dry-run")
    assert code == 0, output
    assert f"Would import (dry run, nothing stored) from {source}: {comments} comments" in output
    assert "\t/" in output  # the threads, each with its number of comments
    db.session.rollback()
    assert count() == 0 and threads() == 0
    code, output = run(runner, "import", source, str(path), *site)
    assert code == 0 and f"Imported from {source}: {comments} comments" in output
    assert count() == comments


# --- throughput -------------------------------------------------------------------------------

MEASURE = """
import sys, time
from pathlib import Path
from app import app
from flask_migrate import upgrade
from widget.importers import run_import
with app.app_context():
    upgrade()
    started = time.perf_counter()
    report = run_import(sys.argv[1], Path(sys.argv[2]), "default")
    print(report.imported, time.perf_counter() - started)
"""


def big_file(tmp_path: Path, source: str, n: int) -> Path:
    from .export_files import write_big_wxr

    if source == "wordpress":
        path = tmp_path / "big.xml"
        write_big_wxr(path, n)
    elif source == "disqus":
        path = tmp_path / "big-disqus.xml"
        path.write_text(
            disqus(
                [(str(t), f"https://blog.example/p{t}/", f"P{t}") for t in range(n // 100)],
                [
                    {
                        "id": str(i),
                        "thread": str(i // 100),
                        "body": f"<p>Comment {i}</p>",
                        **({"parent": str(i - 1)} if i % 3 == 2 else {}),
                    }
                    for i in range(n)
                ],
            )
        )
    elif source == "remark42":
        path = tmp_path / "big.jsonl.gz"
        write_remark42(
            path,
            (
                remark42_comment(
                    f"c{i}",
                    f"https://blog.example/p{i // 100}/",
                    f"Comment {i}",
                    pid=f"c{i - 1}" if i % 3 == 2 else "",
                )
                for i in range(n)
            ),
            gzipped=True,
        )
    elif source == "commento":
        path = tmp_path / "big-commento.json"
        write_commento(
            path,
            (
                commento_comment(
                    f"h{i}",
                    f"/p{i // 100}/",
                    f"Comment {i}",
                    commenterHex=f"u{i % 50}",
                    parentHex=f"h{i - 1}" if i % 3 == 2 else "root",
                )
                for i in range(n)
            ),
            [
                {"commenterHex": f"u{i}", "name": f"U{i}", "email": f"u{i}@example.org", "link": ""}
                for i in range(50)
            ],
        )
    else:  # isso
        path = tmp_path / "big-isso.db"
        isso_db(
            path,
            [(t, f"/p{t}/", f"P{t}") for t in range(1, n // 100 + 1)],
            [
                (i // 100 + 1, i + 1, i if i % 3 == 2 else None, 1, "A", "", f"Comment {i}")
                for i in range(n)
            ],
        )
    return path


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("source", ["wordpress", "disqus", "isso", "remark42", "commento"])
def test_throughput_on_50000_comments(backend: str, tmp_path: Path, source: str) -> None:
    n = int(os.environ.get("PARLEY_IMPORT_BENCH_COMMENTS", "50000"))
    path = big_file(tmp_path, source, n)
    env = {
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}",
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_DEMO": "on",  # the `default` site (migration 0007)
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, source, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported, seconds = done.stdout.split()[-2:]
    assert int(imported) == n
    print(f"\n{source}: {n} comments in {float(seconds):.1f} s = {n / float(seconds):.0f}/s")
