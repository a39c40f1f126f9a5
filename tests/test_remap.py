"""Moving, merging and remapping threads (#20): comments, counts, subscriptions and mail
survive, and every comment is mailed to each subscriber exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import (
    QUEUED,
    Comment,
    Delivery,
    ModerationEvent,
    Subscription,
    Thread,
)

from .conftest import Api, csrf, post_form
from .export_files import write_top_and_reply
from .smtp import SmtpServer, run_worker
from .test_notifications import subscribe_confirmed


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=list(args))
    return result.exit_code, result.output


def keys() -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(Thread.key, Thread.comment_count)).all())


def notifications(smtp: SmtpServer, to: str) -> list[str]:
    """The bodies of the comments `to` was mailed about (one entry per mail)."""
    ids = [
        int(str(m["Message-ID"]).split("-", 1)[1].split(".", 1)[0])
        for m in smtp.recorder.to(to)
        if str(m["Message-ID"]).startswith("<comment-")
    ]
    bodies = dict(db.session.execute(select(Comment.id, Comment.body)).all())
    return sorted(bodies[i] for i in ids)


def test_move_keeps_comments_count_and_page(runner: FlaskCliRunner, api: Api) -> None:
    first = api.post(thread="/old/", url="https://blog.example/old/", body="one").get_json()
    api.post(thread="/old/", url="https://blog.example/old/", body="two")
    api.post(thread="/old/", body="reply", parent_id=first["comment"]["id"])
    etag = api.thread("/old/").headers["ETag"]
    code, output = run(runner, "threads", "move", "default", "/old/", "/2024/new/")
    assert code == 0, output
    assert "moved\t/old/\t/2024/new/" in output
    assert keys() == {"/2024/new/": 3}
    thread = db.session.scalars(select(Thread)).one()
    assert thread.url == "https://blog.example/2024/new/"
    page = api.thread("/2024/new/")
    assert page.headers["ETag"] != etag and page.get_json()["thread"]["count"] == 3
    assert [c["html"] for c in page.get_json()["comments"]] == ["<p>one</p>", "<p>two</p>"]
    assert api.thread("/old/").get_json()["comments"] == []
    counts = api.client.get("/api/counts?site=default&thread=/2024/new/&thread=/old/").get_json()
    assert counts == {"/2024/new/": 3, "/old/": 0}
    event = db.session.scalars(select(ModerationEvent)).one()
    assert (event.action, event.detail) == ("move-thread", "/old/ -> /2024/new/")


def test_move_onto_an_existing_thread_or_a_missing_one_is_refused(
    runner: FlaskCliRunner, api: Api
) -> None:
    api.post(thread="/a/", body="a")
    api.post(thread="/b/", body="b")
    code, output = run(runner, "threads", "move", "default", "/a/", "/b/")
    assert code == 1 and "threads merge" in output
    code, output = run(runner, "threads", "move", "default", "/nope/", "/c/")
    assert code == 1 and "No thread '/nope/'" in output
    code, output = run(runner, "threads", "move", "default", "/a/", "/x\u202e/")
    assert code == 1
    assert keys() == {"/a/": 1, "/b/": 1}


def test_merge_keeps_one_subscription_and_mails_each_comment_once(
    runner: FlaskCliRunner, api: Api, smtp: SmtpServer
) -> None:
    # fan@ follows both URLs of one article; solo@ only the old one; new@ only the new one.
    api.post(thread="/a/", body="a opens")
    api.post(thread="/b/", body="b opens")
    subscribe_confirmed(api, "fan@example.org", "/a/")
    subscribe_confirmed(api, "fan@example.org", "/b/")
    subscribe_confirmed(api, "solo@example.org", "/a/")
    subscribe_confirmed(api, "new@example.org", "/b/")
    api.post(thread="/a/", author="Bob", email="bob@example.org", body="sent before")
    run_worker()  # the first comment's mails are out before the merge
    assert notifications(smtp, "fan@example.org") == ["sent before"]
    api.post(thread="/a/", author="Bob", email="bob@example.org", body="queued on a")
    api.post(thread="/b/", author="Bob", email="bob@example.org", body="queued on b")
    assert (
        db.session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.status == QUEUED, Delivery.kind == "notify"
            )
        )
        == 4  # fan and solo about "queued on a", fan and new about "queued on b"
    )
    code, output = run(runner, "threads", "merge", "default", "/a/", "--into", "/b/")
    assert code == 0, output
    assert "merged\t/a/\t/b/" in output and "1 duplicate subscriptions joined" in output
    assert keys() == {"/b/": 5}
    subs = db.session.scalars(select(Subscription)).all()
    assert len(subs) == 3 and {s.thread.key for s in subs} == {"/b/"}
    run_worker()
    run_worker()  # a second pass sends nothing again
    assert notifications(smtp, "fan@example.org") == ["queued on a", "queued on b", "sent before"]
    assert notifications(smtp, "solo@example.org") == ["queued on a", "sent before"]
    assert notifications(smtp, "new@example.org") == ["queued on b"]
    api.post(thread="/b/", author="Bob", email="bob@example.org", body="after the merge")
    run_worker()
    for reader in ("fan", "solo", "new"):
        assert notifications(smtp, f"{reader}@example.org").count("after the merge") == 1


def test_merge_several_into_a_new_key(runner: FlaskCliRunner, api: Api) -> None:
    for key in ("/p?id=1", "/p/", "/p/index.html"):
        api.post(thread=key, body=f"on {key}")
    code, output = run(
        runner, "threads", "merge", "default", "/p?id=1", "/p/", "/p/index.html", "--into", "/post/"
    )
    assert code == 0, output
    assert keys() == {"/post/": 3}
    page = api.thread("/post/").get_json()
    assert page["thread"]["count"] == 3 and len(page["comments"]) == 3


def _copy_thread(key: str, new_key: str) -> None:
    """A second copy of thread `key` and its comments (import keys included) as `new_key`."""
    source = db.session.scalars(select(Thread).where(Thread.key == key)).one()
    copy = Thread(site_id=source.site_id, key=new_key, title=source.title, url=source.url)
    db.session.add(copy)
    db.session.flush()
    copies: dict[int, Comment] = {}
    for comment in db.session.scalars(
        select(Comment).where(Comment.thread_id == source.id).order_by(Comment.id)
    ).all():
        columns = {c.name: getattr(comment, c.name) for c in Comment.__table__.c}
        del columns["id"]
        parent = copies.get(comment.parent_id) if comment.parent_id else None
        columns.update(thread_id=copy.id, parent_id=parent.id if parent else None)
        columns.update(root_id=parent.root_id if parent else None)
        copies[comment.id] = clone = Comment(**columns)
        db.session.add(clone)
        db.session.flush()
        if parent is None:
            clone.root_id = clone.id
    copy.comment_count = source.comment_count
    db.session.commit()


def test_merge_keeps_a_twice_imported_comment_once(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    # The same WordPress export imported under two links (as Parley did before imports
    # knew every key of the site): one copy of each comment stays, a reader's reply to the
    # dropped copy moves under the kept one.
    path = write_top_and_reply(tmp_path / "wp.xml", "https://blog.example/b/")
    assert run(runner, "import", "wordpress", str(path), "--site", "default")[0] == 0
    _copy_thread("/b/", "/a/")
    top_a = db.session.scalars(
        select(Comment).join(Thread).where(Thread.key == "/a/", Comment.body == "top")
    ).one()
    api.post(thread="/a/", body="answering the copy", parent_id=top_a.id)
    code, output = run(runner, "threads", "merge", "default", "/a/", "--into", "/b/")
    assert code == 0, output
    assert "2 comments imported twice kept once" in output
    page = api.thread("/b/").get_json()
    [top] = page["comments"]
    assert sorted(r["html"] for r in top["replies"]) == [
        "<p>answering the copy</p>",
        "<p>reply</p>",
    ]
    assert page["thread"]["count"] == 3


def test_remap_file_with_pairs_and_a_regex(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    for key in ("/2019/01/one.html", "/2019/02/two.html", "/about", "/about/"):
        api.post(thread=key, body=key)
    rules = tmp_path / "remap.txt"
    rules.write_text(
        "# moved to Hugo\n"
        "/about /about/\n"
        "\n"
        r"regex ^/(\d{4})/\d\d/([\w-]+)\.html$ /posts/\2/" + "\n"
    )
    code, output = run(runner, "threads", "remap", "default", str(rules), "--dry-run")
    assert code == 0 and "Would change" in output and "2 threads moved, 1 merged" in output
    assert set(keys()) == {"/2019/01/one.html", "/2019/02/two.html", "/about", "/about/"}
    code, output = run(runner, "threads", "remap", "default", str(rules))
    assert code == 0, output
    assert keys() == {"/about/": 2, "/posts/one/": 1, "/posts/two/": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/a\n", "Line 1"),
        ("/a /b /c\n", "Line 1"),
        ("regex ([ /x\n", "not a regular expression"),
        ("regex ^/moved$ /x\\9\n", "not valid"),
    ],
)
def test_bad_remap_files_change_nothing(
    runner: FlaskCliRunner, api: Api, tmp_path: Path, text: str, message: str
) -> None:
    api.post(thread="/a", body="a")
    rules = tmp_path / "remap.txt"
    rules.write_text("/a /moved\n" * ("/moved" in text) + text)  # a move first, undone
    code, output = run(runner, "threads", "remap", "default", str(rules))
    assert code == 1 and message in output, output
    assert keys() == {"/a": 1}


def test_admin_moves_one_thread(admin: FlaskClient, api: Api) -> None:
    api.post(thread="/old/", body="one")
    api.post(thread="/taken/", body="two")
    thread_id = db.session.scalar(select(Thread.id).where(Thread.key == "/old/"))
    page = admin.get("/admin/threads").get_data(as_text=True)
    assert f'action="/admin/threads/{thread_id}/move"' in page and 'name="new_key"' in page
    token = csrf(admin, "/admin/threads")
    refused = post_form(admin, f"/admin/threads/{thread_id}/move", token, new_key="/taken/")
    assert "not moved" in refused.get_data(as_text=True)
    moved = admin.post(
        f"/admin/threads/{thread_id}/move",
        data={"csrf_token": token, "new_key": "/new/"},
        follow_redirects=True,
    )
    assert "moved to /new/" in moved.get_data(as_text=True)
    assert keys() == {"/new/": 1, "/taken/": 1}
    assert admin.post(f"/admin/threads/{thread_id}/move", data={"new_key": "/x/"}).status_code in (
        400,
        403,
    )


def test_after_a_merge_the_dropped_subscriptions_links_act_on_the_kept_one(
    runner: FlaskCliRunner, api: Api, smtp: SmtpServer
) -> None:
    from .test_mail_safety import mails_to, raw_header

    subscribe_confirmed(api, "both@example.org", thread="/a")
    subscribe_confirmed(api, "both@example.org", thread="/b")
    db.session.execute(db.text("UPDATE subscriptions SET mode = 'replies' WHERE id = 2"))
    db.session.commit()
    api.post(thread="/a", body="on a", email="w@example.org")
    run_worker()
    [mail] = mails_to(smtp, "both@example.org", "New comment")
    link = raw_header(mail, "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    assert run(runner, "threads", "merge", "default", "/a", "/b", "--into", "/c")[0] == 0
    [kept] = db.session.scalars(select(Subscription)).all()
    assert kept.mode == "all"  # the broader choice wins, whatever the ids
    # The one-click unsubscribe of mail sent before the merge still stops the mail.
    assert api.client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, kept.id).active is False  # type: ignore[union-attr]
    api.post(thread="/c", body="after the merge", email="w@example.org")
    run_worker()
    assert len(mails_to(smtp, "both@example.org", "New comment")) == 1


def test_a_merge_after_sqlite_gave_a_merged_away_id_again(
    app: Any, runner: FlaskCliRunner, api: Api
) -> None:
    """A merged-away subscription's id can come back (SQLite reuses the largest): merging
    that newer subscription away too works, each id's links reach only the subscription
    they were made for, and an erased newcomer's old link reaches nobody."""
    from widget.readers import erase_reader
    from widget.tokens import unsubscribe_token

    subscribe_confirmed(api, "fay@example.org", thread="/n1")
    unconfirmed = {"site": "default", "thread": "/n2", "email": "fay@example.org"}
    assert api.client.post("/api/subscriptions", json=unconfirmed).status_code == 202
    dropped, dropped_at = db.session.execute(
        select(Subscription.id, Subscription.created_at).order_by(Subscription.id.desc())
    ).first()  # type: ignore[misc]
    fays_link = f"/unsubscribe/{unsubscribe_token(dropped, dropped_at)}"  # in mail she kept
    assert run(runner, "threads", "merge", "default", "/n2", "--into", "/n1")[0] == 0
    assert db.session.get(Subscription, dropped) is None  # merged away: its id is free
    app.extensions["parley_clock"].advance(2)
    subscribe_confirmed(api, "gus@example.org", thread="/p1")
    guss_first = db.session.scalars(
        select(Subscription).join(Thread).where(Thread.key == "/p1")
    ).one()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert guss_first.id == dropped  # Gus's, by the same id
    guss_link = f"/unsubscribe/{unsubscribe_token(guss_first.id, guss_first.created_at)}"
    subscribe_confirmed(api, "gus@example.org", thread="/p2")
    code, output = run(runner, "threads", "merge", "default", "/p1", "--into", "/p2")
    assert code == 0, output
    app.extensions["parley_clock"].advance(2)
    # Hal takes the id next (SQLite), and is erased: his mail's link stops nobody.
    subscribe_confirmed(api, "hal@example.org", thread="/q")
    hals = db.session.scalars(select(Subscription).order_by(Subscription.id.desc())).first()
    assert hals is not None
    hals_link = f"/unsubscribe/{unsubscribe_token(hals.id, hals.created_at)}"
    erase_reader("hal@example.org")
    assert api.client.post(hals_link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert all(s.active for s in db.session.scalars(select(Subscription)))
    # Each reader's old link stops their own subscription, and only that.
    for link, key in ((guss_link, "/p2"), (fays_link, "/n1")):
        assert api.client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        db.session.expire_all()
        stopped = {
            t.key
            for s, t in db.session.execute(select(Subscription, Thread).join(Thread))
            if not s.active
        }
        assert key in stopped, (key, stopped)
    assert len(stopped) == 2


def test_a_link_from_before_a_merge_into_a_newer_subscription_still_works(
    app: Any, runner: FlaskCliRunner, api: Api
) -> None:
    """A reader followed the old key, got mail, then subscribed at the new key; the owner
    merges the old into the new: the old mail's one-click unsubscribe still stops it."""
    from widget.tokens import unsubscribe_token

    subscribe_confirmed(api, "ida@example.org", thread="/old")
    old = db.session.scalars(select(Subscription)).one()
    old_link = f"/unsubscribe/{unsubscribe_token(old.id, old.created_at)}"
    app.extensions["parley_clock"].advance(5)
    subscribe_confirmed(api, "ida@example.org", thread="/new")
    assert run(runner, "threads", "merge", "default", "/old", "--into", "/new")[0] == 0
    [kept] = db.session.scalars(select(Subscription)).all()
    assert api.client.post(old_link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, kept.id).active is False  # type: ignore[union-attr]


def test_a_comment_posted_into_a_thread_while_it_is_merged_away_is_kept(
    app: Any, runner: FlaskCliRunner, api: Api, backend: str
) -> None:
    """A reader's comment reaches the old thread while the owner merges it: the merge waits
    for it and moves it too (on PostgreSQL the old thread's deletion took it along: a
    comment answered 201 was gone)."""
    import threading

    from widget import remap

    api.post(thread="/old/", body="before")
    api.post(thread="/new/", body="kept")
    old = db.session.scalar(select(Comment).where(Comment.body == "before"))
    assert old is not None
    row = {c.name: getattr(old, c.name) for c in Comment.__table__.c if c.name != "id"}
    db.session.remove()
    reader = db.engine.connect()
    if backend == "sqlite":
        reader.exec_driver_sql("BEGIN IMMEDIATE")
    reader.execute(Comment.__table__.insert().values({**row, "body": "during"}))
    outcome: list[Any] = []

    def merge() -> None:
        with app.app_context():
            try:
                outcome.append(remap.merge_threads("default", ["/old/"], "/new/").comments)
            except Exception as exc:  # noqa: BLE001 - the test reports it
                outcome.append(exc)

    merging = threading.Thread(target=merge)
    merging.start()
    merging.join(1.0)  # waiting for the reader's transaction
    reader.commit()
    reader.close()
    merging.join(30)
    assert outcome == [2], outcome
    assert sorted(db.session.scalars(select(Comment.body))) == ["before", "during", "kept"]
    assert keys() == {"/new/": 3}


@pytest.mark.parametrize("what", ["comment", "subscription"])
def test_what_arrives_once_its_thread_is_merged_away_gets_a_409(
    app: Any, api: Api, backend: str, what: str
) -> None:
    """The merge holds the old thread when a comment or subscription comes: it waits, then
    is refused with a clear 409 (was a 500 on PostgreSQL: the thread it named was gone)."""
    import threading

    if backend == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: the request waits for the merge")
    api.post(thread="/old/", body="before")
    thread_id = db.session.scalar(select(Thread.id).where(Thread.key == "/old/"))
    db.session.remove()
    owner = db.engine.connect()
    owner.execute(select(Thread.id).where(Thread.id == thread_id).with_for_update())
    answers: list[Any] = []

    def arrive() -> None:
        with app.app_context():
            if what == "comment":
                answer = api.post(thread="/old/", body="during")
            else:
                body = {"site": "default", "thread": "/old/", "email": "late@example.org"}
                answer = api.client.post("/api/subscriptions", json=body)
            answers.append((answer.status_code, answer.get_json()))

    arriving = threading.Thread(target=arrive)
    arriving.start()
    arriving.join(1.0)  # waiting for the owner's lock
    owner.execute(Comment.__table__.delete().where(Comment.thread_id == thread_id))
    owner.execute(Thread.__table__.delete().where(Thread.id == thread_id))
    owner.commit()
    owner.close()
    arriving.join(30)
    assert answers and answers[0][0] == 409, answers
    assert "reload the page" in answers[0][1]["message"]
    assert db.session.scalar(select(func.count(Comment.id))) == 0
    assert db.session.scalar(select(func.count(Subscription.id))) == 0
