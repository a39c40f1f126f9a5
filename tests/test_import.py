"""Importers (WordPress, Disqus, Isso) and the Parley backup, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from widget.extensions import db
from widget.importers import isso
from widget.importers.base import ImportError_, Report
from widget.importers.clean import web_url
from widget.limits import AUTHOR_MAX, THREAD_KEY_MAX, TITLE_MAX
from widget.models import (
    APPROVED,
    DELETED,
    PENDING,
    SPAM,
    Comment,
    Subscription,
    SubscriptionAlias,
    Thread,
    utcnow,
)
from widget.vault import vault

from .conftest import SECRET, Api
from .export_files import (
    C,
    backup_comment,
    backup_thread,
    disqus,
    isso_db,
    write_backup,
    write_big_wxr,
    write_top_and_reply,
    wxr,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "wordpress"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures absent")


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


def count(*where: object) -> int:
    return db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0


def depth(comment: Comment) -> int:
    level = 0
    while comment.parent_id is not None:
        comment = db.session.get(Comment, comment.parent_id)  # type: ignore[assignment]
        level += 1
    return level


def import_fixture(runner: FlaskCliRunner, name: str, *flags: str) -> tuple[int, str]:
    return run(runner, "import", "wordpress", str(FIXTURES / name), "--site", "default", *flags)


# --- the WordPress importer's own fixtures -----------------------------------------------


@needs_fixtures
def test_theme_unit_test_data(runner: FlaskCliRunner, api: Api) -> None:
    # The blog's own origin, as an owner moving it sets it first: its article URLs are kept.
    origins = ["https://wpthemetestdata.wordpress.com", "https://blog.example"]
    runner.invoke(args=["sites", "set", "default", *[a for o in origins for a in ("--origin", o)]])
    code, output = import_fixture(runner, "theme-unit-test-data.xml")
    assert code == 0, output
    assert count() == 29  # 33 comments less 2 trackbacks and 2 pingbacks
    assert "pingbacks" in output and "trackbacks" in output
    assert count(Comment.status == APPROVED) + count(Comment.status == PENDING) == 29
    assert max(depth(c) for c in db.session.scalars(select(Comment))) >= 9
    thread = db.session.scalars(select(Thread).order_by(Thread.comment_count.desc())).first()
    assert thread is not None and thread.url.startswith("https://wpthemetestdata.wordpress.com/")
    assert thread.key == thread.url.split("wordpress.com", 1)[1]
    page = api.client.get(
        "/api/comments", query_string={"site": "default", "thread": thread.key, "limit": 200}
    ).get_json()
    assert page["thread"]["count"] == thread.comment_count > 0


@needs_fixtures
def test_theme_unit_test_data_with_pings(runner: FlaskCliRunner) -> None:
    code, _ = import_fixture(runner, "theme-unit-test-data.xml", "--keep-pings")
    assert code == 0
    assert count() == 33
    assert count(Comment.status == APPROVED) == 30 and count(Comment.status == PENDING) == 3


@needs_fixtures
def test_a11y_unit_test_data(runner: FlaskCliRunner) -> None:
    code, output = import_fixture(runner, "a11y-unit-test-data.xml", "--keep-pings")
    assert code == 0, output
    assert count() == 29
    assert count(Comment.parent_id.is_not(None)) == 9


@needs_fixtures
# missing-version-tag.xml is read by its namespace now, with a warning (test_import_sources).
@pytest.mark.parametrize("name", ["malformed.xml", "crazy-cdata.xml"])
def test_broken_wordpress_files_are_refused(runner: FlaskCliRunner, name: str) -> None:
    code, output = import_fixture(runner, name)
    assert code == 1 and "Import refused" in output
    assert count() == 0 and db.session.scalar(select(func.count(Thread.id))) == 0


@needs_fixtures
@pytest.mark.parametrize(
    "name",
    [
        "crazy-cdata-escaped.xml",
        "slashes.xml",
        "small-export.xml",
        "test-serialized-comment-meta.xml",
        "valid-wxr-1.0.xml",
        "valid-wxr-1.1.xml",
        "wxr-comprehensive.xml",
        "wxr-utf-8-challenges.xml",
        "wxr-with-sub-data.xml",
    ],
)
def test_other_wordpress_files_import(runner: FlaskCliRunner, name: str) -> None:
    code, output = import_fixture(runner, name)
    assert code == 0, output


# --- generated WXR ---------------------------------------------------------------------


def test_generated_wxr_covers_the_hard_cases(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    comments = [
        C(1, "Top level"),
        C(2, "Reply", parent=1),
        C(3, "Reply to reply", parent=2),
        C(4, "Deeper still", parent=3),
        C(5, "Even deeper", parent=4),
        C(6, "שלום עולם — مرحبا بالعالم — 日本語 🦊", author="Zoë ✨"),
        C(
            7,
            '<script>alert(1)</script><p onclick="x()">Click</p><a href="javascript:x">j</a>'
            "<img src=x onerror=alert(1)>",
        ),
        C(8, "Parent is gone", parent=999),
        C(9, "Waiting", approved="0"),
        C(10, "Buy pills", approved="spam"),
        C(11, "In the bin", approved="trash"),
        C(12, "ping", kind="pingback"),
        C(13, "Line one\nline two\n\nSecond paragraph", url="https://reader.example"),
    ]
    path = tmp_path / "export.xml"
    path.write_text(wxr([("hard", "Hard cases", comments), ("empty", "No comments", [])]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert "Skipped 1: trashed comments" in output and "pingbacks" in output
    assert "1 replies whose parent is missing became top-level" in output
    assert db.session.scalar(select(func.count(Thread.id))) == 1  # the empty post adds no thread
    by_body = {c.body: c for c in db.session.scalars(select(Comment))}
    assert depth(by_body["Even deeper"]) == 4
    assert by_body["Even deeper"].root_id == by_body["Top level"].id
    assert by_body["Parent is gone"].parent_id is None
    assert by_body["Waiting"].status == PENDING and by_body["Buy pills"].status == SPAM
    hostile = next(c for c in by_body.values() if "script" in c.body)
    assert "<script" not in hostile.html and "onclick" not in hostile.html
    assert "javascript:" not in hostile.html and "onerror" not in hostile.html
    assert by_body["Line one\nline two\n\nSecond paragraph"].html == (
        "<p>Line one<br>line two</p><p>Second paragraph</p>"
    )
    page = api.client.get("/api/comments?site=default&thread=/hard/").get_json()
    assert any("🦊" in c["html"] for c in page["comments"])
    assert any(c["author"] == "Zoë ✨" for c in page["comments"])
    assert "reader@example.org" not in json.dumps(page)
    assert page["thread"]["count"] == 9


def test_reimport_changes_nothing(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(wxr([("a", "A", [C(1, "one"), C(2, "two", parent=1)])]))
    run(runner, "import", "wordpress", str(path), "--site", "default")
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0 and "0 comments" in output and "2 already imported" in output
    assert count() == 2


XML_BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<item><title>&lol3;</title></item></channel></rss>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<item><title>&xxe;</title></item></channel></rss>"""


@pytest.mark.parametrize("content", [XML_BOMB, XXE], ids=["bomb", "external-entity"])
@pytest.mark.parametrize("source", ["wordpress", "disqus"])
def test_hostile_xml_is_refused(
    runner: FlaskCliRunner, tmp_path: Path, content: str, source: str
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_text(content)
    code, output = run(runner, "import", source, str(path), "--site", "default")
    assert code == 1 and "refused" in output
    assert "root:" not in output


def test_unknown_site_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "e.xml"
    path.write_text(wxr([("a", "A", [C(1, "x")])]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "nope")
    assert code == 1 and "no site named" in output


# --- Disqus and Isso ---------------------------------------------------------------------


def test_disqus_import(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "disqus.xml"
    path.write_text(
        disqus(
            [
                ("10", "https://blog.example/one/", "One"),
                ("11", "https://blog.example/empty/", "E"),
            ],
            [
                {"id": "100", "thread": "10", "body": "<p>First</p>"},
                {"id": "101", "thread": "10", "body": "<p>Reply</p>", "parent": "100"},
                {"id": "102", "thread": "10", "body": "<p>Reply to reply</p>", "parent": "101"},
                {"id": "103", "thread": "10", "body": "<p>Spam</p>", "spam": "true"},
                {"id": "104", "thread": "10", "body": "<p>Gone</p>", "deleted": "true"},
                {"id": "105", "thread": "10", "body": "<p>مرحبا <b onmouseover=x>bold</b></p>"},
                {"id": "106", "thread": "99", "body": "<p>Orphan thread</p>"},
            ],
        )
    )
    code, output = run(runner, "import", "disqus", str(path), "--site", "default")
    assert code == 0, output
    assert "posts of unknown threads" in output
    thread = db.session.scalars(select(Thread)).one()
    assert thread.key == "/one/" and thread.title == "One" and thread.comment_count == 4
    assert count(Comment.status == SPAM) == 1 and count(Comment.status == DELETED) == 1
    deepest = db.session.scalars(
        select(Comment).where(Comment.body == "<p>Reply to reply</p>")
    ).one()
    assert depth(deepest) == 2
    assert (
        "onmouseover"
        not in db.session.scalars(select(Comment).where(Comment.body.like("%مرحبا%"))).one().html
    )
    code, output = run(runner, "import", "disqus", str(path), "--site", "default")
    assert "6 already imported" in output and count() == 6


def test_isso_import(runner: FlaskCliRunner, api: Api, tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    isso_db(
        path,
        [(1, "/isso/post/", "Isso post"), (2, "/isso/empty/", "Empty")],
        [
            (1, 1, None, 1, "Ann", "ann@example.org", "Hello *isso*"),
            (1, 2, 1, 1, "Ben", "", "A reply"),
            (1, 3, 2, 2, "Cat", "cat@example.org", "Pending reply"),
            (1, 4, None, 4, "", "", ""),
            (1, 5, 4, 1, "Dan", "", "Reply under a deleted comment"),
        ],
    )
    code, output = run(runner, "import", "isso", str(path), "--site", "default")
    assert code == 0, output
    page = api.client.get("/api/comments?site=default&thread=/isso/post/").get_json()
    assert page["comments"][0]["html"] == "<p>Hello <em>isso</em></p>"
    assert page["comments"][1]["deleted"] and page["comments"][1]["replies"][0]["author"] == "Dan"
    assert page["thread"]["count"] == 3
    code, output = run(runner, "import", "isso", str(path), "--site", "default")
    assert "5 already imported" in output


def test_not_an_isso_database_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_text("this is not sqlite")
    code, output = run(runner, "import", "isso", str(path), "--site", "default")
    assert code == 1 and "refused" in output


# --- export and restore ---------------------------------------------------------------------


def test_export_import_export_is_identical(
    runner: FlaskCliRunner, api: Api, tmp_path: Path, backend: str, db_folder: Path
) -> None:
    from .conftest import make_app

    parent = api.post(body="Parent", email="p@example.org", notify=True).get_json()
    api.post(body="Child", parent_id=parent["comment"]["id"], email="c@example.org")
    api.post(thread="/other", body="Other thread 🦊", website="https://ada.example")
    # What a reader chose and what voided their old links travel too: the mode, a pause,
    # the address's generation ("never" moved it), and ids merged into the subscription.
    subscription = db.session.scalars(select(Subscription)).one()
    subscription.mode = "replies"
    subscription.address.generation, subscription.address.confirmations_sent = 2, 3
    subscription.address.paused_until = datetime(2030, 1, 2, 3, 4, 5)
    db.session.add(SubscriptionAlias(old_id=99, subscription_id=subscription.id))
    db.session.commit()
    first = tmp_path / "first.json"
    code, output = run(runner, "export", str(first))
    assert code == 0, output
    backup = json.loads(first.read_text())
    assert backup["format"] == "parley-backup"
    assert {a["email"] for a in backup["addresses"]} == {"p@example.org"}
    [address] = backup["addresses"]
    assert (address["generation"], address["confirmations_sent"]) == (2, 3)
    [saved] = [s for t in backup["sites"][0]["threads"] for s in t["subscriptions"]]
    assert saved["mode"] == "replies" and [a["old_id"] for a in saved["aliases"]] == [99]
    db.session.rollback()  # the next app empties the same database
    fresh = make_app(backend, db_folder)
    with fresh.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 0
        fresh_runner = fresh.test_cli_runner()
        code, output = run(fresh_runner, "import", "parley", str(first))
        assert code == 0, output
        second = tmp_path / "second.json"
        run(fresh_runner, "export", str(second))
        assert second.read_text() == first.read_text()
        assert db.session.scalar(select(func.count(Subscription.id))) == 1
        restored = db.session.scalars(select(Subscription)).one()
        assert restored.mode == "replies" and restored.address.generation == 2
        alias = db.session.scalars(select(SubscriptionAlias)).one()
        assert (alias.old_id, alias.subscription_id) == (99, restored.id)
        api2 = Api(fresh.test_client())
        assert api2.post(body="New after restore").status_code == 201
        code, output = run(fresh_runner, "import", "parley", str(first))
        assert code == 1 and "empty database" in output


# --- a big file ---------------------------------------------------------------------------


IMPORT_AND_MEASURE = """
import resource, sys
from pathlib import Path
from app import app
from flask_migrate import upgrade
from widget.importers import run_import
with app.app_context():
    upgrade()
    report = run_import("wordpress", Path(sys.argv[1]), "default")
    print(report.summary())
    print("peak-rss-kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def import_in_child(tmp_path: Path, comments: int) -> tuple[str, float]:
    """Import a generated file in a fresh process; return its report and its peak RSS in MB."""
    path = tmp_path / f"big-{comments}.xml"
    write_big_wxr(path, comments)
    env = {
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / f'big-{comments}.db'}",
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_INSTANCE_PATH": str(tmp_path / "instance"),
        "PARLEY_DEMO": "on",  # the `default` site (migration 0007)
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_MEASURE, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    peak_kb = int(done.stdout.rsplit("peak-rss-kb", 1)[1])
    return done.stdout, peak_kb / 1024


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_50000_comment_file_streams_in_flat_memory(app: object, tmp_path: Path) -> None:
    small_report, small_peak = import_in_child(tmp_path, 5_000)
    report, peak = import_in_child(tmp_path, 50_000)
    assert "Imported from wordpress: 50000 comments in 500 new threads" in report
    print(f"\npeak RSS: {small_peak:.0f} MB for 5,000 comments, {peak:.0f} MB for 50,000")
    assert peak < small_peak + 40  # ten times the comments, (almost) the same memory


# --- hostile files ------------------------------------------------------------------------

HOSTILE_HTML = (
    '<p><a href="javascript:alert(1)">x</a><script>alert(2)</script>'
    "<img src=x onerror=alert(3)></p>"
)
#: What no stored name or title may contain: C0 and C1 controls, bidi controls, surrogates.
UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_safe_text(*values: str) -> None:
    for value in values:
        assert not UNSAFE_IN_LINE.search(value), repr(value)


def test_backup_fields_are_cleaned_as_a_new_comment_would_be(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.json"
    long_name = "Eve\u202e\x1b[31m\x00\ud800 " * 40
    write_backup(
        path,
        [
            backup_thread(
                1,
                "/hostile/",
                [
                    backup_comment(1, "x", html=HOSTILE_HTML, website="javascript:alert(1)"),
                    backup_comment(2, "y", author=long_name, website='https://a.example/"><b>'),
                    backup_comment(3, "z\x00", website="https://ok.example/page"),
                    backup_comment(4, "**md**", html=None, parent_id=3),
                ],
                url="javascript:alert(document.cookie)",
                title="Title\u2066\u202a\x85 " + "t" * 1000,
            )
        ],
    )
    code, output = run(runner, "import", "parley", str(path))
    assert code == 0, output
    by_id = {c.id: c for c in db.session.scalars(select(Comment))}
    assert "javascript:" not in by_id[1].html and "onerror" not in by_id[1].html
    assert by_id[1].html == "<p>x</p>"  # a link with no address it may keep is its text
    assert [by_id[i].website for i in (1, 2, 3)] == ["", "", "https://ok.example/page"]
    assert len(by_id[2].author) <= AUTHOR_MAX and by_id[2].author.startswith("Eve[31m Eve")
    assert by_id[3].body == "z" and by_id[4].html == "<p><strong>md</strong></p>"
    thread = db.session.scalars(select(Thread)).one()
    assert thread.url == "" and len(thread.title) <= TITLE_MAX
    assert_safe_text(thread.title, *(c.author for c in by_id.values()))
    page = api.client.get("/api/comments?site=default&thread=/hostile/").get_json()
    assert "javascript:" not in json.dumps(page) and page["thread"]["count"] == 4


def test_bad_backup_rows_are_skipped_with_a_reason(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    ok = backup_comment(1, "kept")
    rows = [
        ok,
        backup_comment(2, "bad date", created_at="9999-12-31T23:00:00-05:00"),
        backup_comment(3, "odd status", status="published"),
        backup_comment(1, "same id again"),
        backup_comment(2**40, "huge id"),
        "not a comment",
        backup_comment(5, "parent elsewhere", parent_id=99),
    ]
    address = {
        "id": 1,
        "email": "x@example.org\r\nBcc: y@example.org",
        "confirmed_at": "2021-03-04T05:06:07",
        "confirmation_sent_at": None,
        "suppressed_at": None,
        "suppression_reason": "",
        "created_at": "2021-03-04T05:06:07",
    }
    sub = {"id": 1, "address_id": 1, "active": True, "created_at": "2021-03-04T05:06:07"}
    fine = {**address, "id": 2, "email": "fine@example.org"}
    odd_count = {**address, "id": 3, "email": "odd@example.org", "generation": "3"}
    odd_mode = {**sub, "id": 2, "address_id": 2, "mode": "everything"}
    write_backup(
        path,
        [
            backup_thread(1, "/a/", rows, subscriptions=[sub, odd_mode]),
            backup_thread(1, "/b/", [ok]),
        ],
        [address, fine, odd_count],
    )
    code, output = run(runner, "import", "parley", str(path))
    assert code == 0, output
    assert count() == 2 and "1 replies whose parent is missing" in output
    for reason in (
        "comments with a bad date",
        "comments with an unknown status",
        "comments with an id or key used twice",
        "comments with a bad id",
        "comments with no fields",
        "addresses with an address that cannot receive mail safely",
        "subscriptions with an address the backup does not hold",
        "subscriptions with a bad mail mode",
        "addresses with a bad count",
        "threads with an id or key used twice",
        "Skipped 1: comments of skipped threads",
    ):
        assert reason in output, (reason, output)


def test_deeply_nested_backup_json_is_refused(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"format": "parley-backup", "sites": ' + "[" * 200_000)
    code, output = run(runner, "import", "parley", str(path))
    assert code == 1 and "Import refused: not a readable JSON file" in output


def test_wordpress_and_disqus_links_must_be_web_pages(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "wp.xml"
    comments = [C(1, "a", url='https://a.example/"onmouseover="x'), C(2, "b", url="https://b.ex/")]
    path.write_text(wxr([("js", "JS", comments)], links={"js": "javascript:alert(1)"}))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.key, thread.url) == ("/?p=1", "")
    assert sorted(c.website for c in db.session.scalars(select(Comment))) == ["", "https://b.ex/"]
    path = tmp_path / "disqus.xml"
    link = "javascript:alert(1)//https://blog.example/x/"
    path.write_text(disqus([("10", link, "T")], [{"id": "100", "thread": "10", "body": "b"}]))
    code, output = run(runner, "import", "disqus", str(path), "--site", "default")
    assert code == 0, output
    thread = db.session.scalars(select(Thread).where(Thread.key != "/?p=1")).one()
    assert (thread.key, thread.url) == ("/disqus/10", "")


def test_a_date_past_year_9999_falls_back_in_wordpress(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "wp.xml"
    comments = [C(1, "from the future", date="9999-12-31 23:00:00-05:00"), C(2, "fine")]
    path.write_text(wxr([("d", "D", comments)]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert count() == 2


def test_isso_rows_with_bad_dates_are_kept_with_the_import_time(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """As the WordPress and Disqus readers do: a comment is worth more than its date."""
    path = tmp_path / "comments.db"
    rows = [(1, i, 1 if i == 7 else None, 1, "Ann", "", f"text {i}") for i in range(1, 8)]
    rows.append((2, 8, None, 1, "Ann", "", "on a page no request can name"))
    isso_db(path, [(1, "/p/", "P"), (2, "/" + "k" * THREAD_KEY_MAX, "Long")], rows)
    with closing(sqlite3.connect(path)) as conn, conn:
        for comment_id, created in [(1, 1e20), (2, -1e20), (3, "NaN"), (4, "soon"), (5, b"\x00")]:
            conn.execute("UPDATE comments SET created = ? WHERE id = ?", (created, comment_id))
        conn.execute("UPDATE comments SET author = x'ff00', website = 42 WHERE id = 6")
    before = utcnow()
    code, output = run(runner, "import", "isso", str(path), "--site", "default")
    assert code == 0, output
    assert "bad date" not in output
    assert f"Skipped 1: comments on pages whose key is over {THREAD_KEY_MAX}" in output
    assert "parent is missing" not in output
    kept = {c.body: c for c in db.session.scalars(select(Comment))}
    assert sorted(kept) == [f"text {i}" for i in range(1, 8)]
    assert all(kept[f"text {i}"].created_at >= before for i in range(1, 6))
    assert kept["text 7"].parent_id == kept["text 1"].id
    odd = db.session.scalars(select(Comment).where(Comment.body == "text 6")).one()
    assert odd.author == "\ufffd" and odd.website == ""


def isso_view_db(path: Path, rows_sql: str) -> None:
    """An "Isso database" whose comments table is a view over `rows_sql` (column n)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri TEXT, title TEXT);"
            "INSERT INTO threads VALUES (1, '/p/', 'P');"
            f"CREATE VIEW comments AS WITH RECURSIVE {rows_sql} SELECT 1 AS tid, n AS id, "
            "NULL AS parent, 1577880000.0 AS created, 1 AS mode, '' AS remote_addr, "
            "'t' AS text, 'A' AS author, '' AS email, '' AS website FROM r;"
        )


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    "rows_sql",
    [
        "r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)",  # never ends
        "s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100000), "
        "r(n) AS (SELECT a.i FROM s a, s b)",  # ends, after 10^10 rows
    ],
    ids=["recursive", "cross-join"],
)
def test_isso_view_that_does_not_end_is_refused_in_time(
    backend: str, tmp_path: Path, rows_sql: str
) -> None:
    path = tmp_path / "comments.db"
    isso_view_db(path, rows_sql)
    started = time.monotonic()
    with pytest.raises(ImportError_, match="took over 0.5 s"):
        list(isso.read(path, Report("isso"), False, time_budget=0.5))
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("backend", ["sqlite"])
def test_isso_value_over_a_mebibyte_is_refused(backend: str, tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    isso_db(path, [(1, "/p/", "P")], [(1, 1, None, 1, "Ann", "", "x" * (isso.VALUE_MAX + 1))])
    with pytest.raises(ImportError_, match="over 1048576 bytes"):
        list(isso.read(path, Report("isso"), False))


def test_imported_replies_get_their_depth(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "wp.xml"
    comments = [C(1, "top"), C(2, "r", parent=1), C(3, "rr", parent=2), C(4, "rrr", parent=3)]
    comments += [C(5, "answers a later one", parent=6), C(6, "later top")]
    path.write_text(wxr([("d", "D", comments)]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    stored = list(db.session.scalars(select(Comment)))
    assert {c.body: c.depth for c in stored}["rrr"] == 3
    assert all(c.depth == depth(c) for c in stored)


def test_reply_loops_become_top_level(runner: FlaskCliRunner, api: Api, tmp_path: Path) -> None:
    path = tmp_path / "wp.xml"
    comments = [C(1, "one", parent=2), C(2, "two", parent=1), C(3, "three", parent=2)]
    path.write_text(wxr([("loop", "Loop", comments + [C(4, "fine")])]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert "3 replies in a loop of parents" in output
    assert all(c.root_id is not None for c in db.session.scalars(select(Comment)))
    page = api.client.get("/api/comments?site=default&thread=/loop/").get_json()
    assert len(page["comments"]) == 4


def test_backup_restore_sets_depth_and_cuts_loops(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    rows = [backup_comment(1, "top"), backup_comment(2, "r", parent_id=1)]
    rows += [backup_comment(3, "rr", parent_id=2), backup_comment(4, "self", parent_id=4)]
    rows += [backup_comment(5, "a", parent_id=6), backup_comment(6, "b", parent_id=5)]
    write_backup(path, [backup_thread(1, "/n/", rows)])
    code, output = run(runner, "import", "parley", str(path))
    assert code == 0, output
    assert {c.id: c.depth for c in db.session.scalars(select(Comment))} == {
        1: 0,
        2: 1,
        3: 2,
        4: 0,
        5: 0,
        6: 0,
    }
    assert "1 replies whose parent is missing" in output and "2 replies in a loop" in output


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://ok.example/a?b=c#d", "https://ok.example/a?b=c#d"),
        ("HTTP://OK.example", "HTTP://OK.example"),
        ("  https://ok.example/  ", "https://ok.example/"),
        ("javascript:alert(1)", ""),
        ("https://a.example/ x", ""),
        ("https://a.example/\u202e", ""),
        ("https://[::1", ""),
        ("https://", ""),
        ("https://a.example/" + "a" * 3000, ""),
        (42, ""),
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"])  # no database; selected with the others
def test_web_url(backend: str, raw: object, url: str) -> None:
    assert web_url(raw) == url


# --- what a re-run finds: moved threads, erased readers; keys and sizes -------------------


def _thread_keys() -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(Thread.key, Thread.comment_count)).all())


def test_a_reimport_after_a_thread_moved_adds_nothing(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """The README's path: import, move the thread to the page's new URL, import again."""
    path = write_top_and_reply(tmp_path / "wp.xml", "https://blog.example/posts/hello/")
    assert run(runner, "import", "wordpress", str(path), "--site", "default")[0] == 0
    assert run(runner, "threads", "move", "default", "/posts/hello/", "/2017/hello/")[0] == 0
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert "0 comments in 0 new threads; 2 already imported" in output
    assert _thread_keys() == {"/2017/hello/": 2}


@pytest.mark.parametrize("policy", ["remove", "placeholder"])
def test_an_erased_reader_does_not_come_back_with_a_reimport(
    runner: FlaskCliRunner, tmp_path: Path, policy: str
) -> None:
    path = tmp_path / "wp.xml"
    alice = C(1, "Alice's words", author="Alice", email="alice@example.org")
    path.write_text(wxr([("p", "P", [alice, C(2, "Bob's answer", parent=1, author="Bob")])]))
    assert run(runner, "import", "wordpress", str(path), "--site", "default")[0] == 0
    assert run(runner, "sites", "set", "default", "--erase-policy", policy)[0] == 0
    code, output = run(runner, "readers", "erase", "alice@example.org", "--yes")
    assert code == 0, output
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert "0 comments in 0 new threads; 2 already imported" in output
    assert count(Comment.author == "Alice") == 0
    assert count(Comment.body == "Alice's words") == 0
    assert count(Comment.email_hash == vault().lookup_hash("alice@example.org")) == 0


def test_plain_permalinks_keep_a_thread_per_post(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """WordPress's default links (`/?p=12`) and Disqus threads named by such links: one
    thread each, keyed by path and query, as the widget names such a page."""
    wp = tmp_path / "wp.xml"
    wp.write_text(
        wxr(
            [("a", "A", [C(1, "on twelve")]), ("b", "B", [C(2, "on thirteen")])],
            links={"a": "https://blog.example/?p=12", "b": "https://blog.example/?p=13"},
        )
    )
    assert run(runner, "import", "wordpress", str(wp), "--site", "default")[0] == 0
    dq = tmp_path / "disqus.xml"
    dq.write_text(
        disqus(
            [
                ("7", "https://blog.example/index.php?p=42&utm_source=feed", "On 42"),
                ("6", "https://blog.example/blog/?p=7&fbclid=x1", "In a folder"),
                # A feed's link to a pretty permalink: the same page as /post/.
                ("8", "https://blog.example/post/?utm_source=feedburner", "Post"),
                ("9", "https://blog.example/post/", "Post"),
                ("5", "https://blog.example/post/?ref=hn&replytocom=5&_ga=2.1", "Post"),
            ],
            [
                {"id": "70", "thread": "7", "body": "on forty-two"},
                {"id": "60", "thread": "6", "body": "in a folder"},
                {"id": "80", "thread": "8", "body": "from the feed"},
                {"id": "90", "thread": "9", "body": "from the page"},
                {"id": "50", "thread": "5", "body": "from a link someone shared"},
            ],
        )
    )
    assert run(runner, "import", "disqus", str(dq), "--site", "default")[0] == 0
    assert _thread_keys() == {
        "/?p=12": 1,
        "/?p=13": 1,
        "/index.php?p=42": 1,
        "/blog/?p=7": 1,
        "/post/": 3,
    }
    url = db.session.scalar(select(Thread.url).where(Thread.key == "/?p=12"))
    assert url == "https://blog.example/?p=12"  # the post, never the home page


def test_a_comment_too_long_for_any_page_is_skipped_and_said(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "wp.xml"
    path.write_text(wxr([("p", "P", [C(1, "x" * 100_001), C(2, "fine")])]))
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 0, output
    assert "Skipped 1: comments over 100000 characters." in output
    assert count() == 1


def test_a_refused_import_says_why_once(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    code, output = run(runner, "import", "wordpress", str(path), "--site", "default")
    assert code == 1 and "Import refused: the file declares a DTD" in output
    assert "refused: refused" not in output
