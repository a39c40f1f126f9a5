"""Subscriptions and mail, through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from widget.extensions import db
from widget.models import (
    FAILED,
    QUEUED,
    SENT,
    Address,
    Comment,
    Delivery,
    Site,
    Subscription,
    Thread,
    utcnow,
)
from widget.tokens import make_token
from widget.vault import vault

from .conftest import POSTGRES_URL, SECRET, Api, database_url
from .seed import confirmed_subscribers
from .smtp import SmtpServer, message_id, run_worker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def confirm_address(email: str) -> None:
    """Set-up shortcut for "the reader clicked every confirmation link they got"."""
    address = db.session.scalars(
        select(Address).where(Address.email_hash == vault().lookup_hash(email))
    ).one()
    address.confirmed_at = utcnow()
    for subscription in db.session.scalars(
        select(Subscription).where(Subscription.address_id == address.id)
    ):
        subscription.confirmed_at = utcnow()
    db.session.commit()


def subscribe_confirmed(api: Api, email: str, thread: str = "/2026/hello") -> None:
    response = api.client.post(
        "/api/subscriptions", json={"site": "default", "thread": thread, "email": email}
    )
    assert response.status_code == 202
    confirm_address(email)


def link(message: EmailMessage, pattern: str) -> str:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(pattern, text)
    assert match, text
    return match.group(0)


def test_double_opt_in_then_exactly_one_mail_with_all_headers(api: Api, smtp: SmtpServer) -> None:
    api.post(body="Opening the thread.")
    response = api.client.post(
        "/api/subscriptions",
        json={"site": "default", "thread": "/2026/hello", "email": "fan@example.org"},
    )
    assert response.status_code == 202
    run_worker()
    [confirmation] = smtp.recorder.to("fan@example.org")
    confirm_url = link(confirmation, r"http://parley.test/subscriptions/confirm/\S+")
    path = confirm_url.replace("http://parley.test", "")
    page = api.client.get(path).get_data(as_text=True)  # a GET changes nothing
    api.post(author="Bob", email="bob@example.org", body="Before confirming.")
    run_worker()
    assert len(smtp.recorder.to("fan@example.org")) == 1
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert api.client.post(path, data={"csrf_token": token}).status_code == 200

    posted = api.post(author="Bob", email="bob@example.org", body="Hello *subscribers*.")
    assert posted.status_code == 201
    run_worker()
    mails = smtp.recorder.to("fan@example.org")
    assert len(mails) == 2
    mail = mails[1]
    comment_id = posted.get_json()["comment"]["id"]
    assert mail["Subject"] == "New comment on Hello world"
    assert mail["List-Unsubscribe"].startswith("<http://parley.test/unsubscribe/")
    assert mail["List-Unsubscribe"].endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Id"] and "<thread-" in mail["List-Id"]
    assert re.fullmatch(message_id("comment", comment_id), mail["Message-ID"])
    thread_id = db.session.scalars(select(Thread)).one().id
    assert re.fullmatch(message_id("thread", thread_id), mail["In-Reply-To"])
    assert mail["References"] == mail["In-Reply-To"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Precedence"] == "list"
    assert "Bcc" not in mail
    plain = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Hello subscribers." in plain and "<em>subscribers</em>" in html
    assert "Bob" in plain and "bob@example.org" not in mail.as_string()
    assert "/subscriptions/" in plain and "/unsubscribe/" in plain


def test_reply_mail_threads_under_its_parent(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "fan@example.org")
    root = api.post(body="root").get_json()["comment"]["id"]
    child = api.post(body="child", parent_id=root).get_json()["comment"]["id"]
    api.post(body="grandchild", parent_id=child)
    run_worker()
    last = smtp.recorder.to("fan@example.org")[-1]
    assert re.fullmatch(message_id("comment", child), last["In-Reply-To"])
    chain = f"{message_id('comment', root)} {message_id('comment', child)}"
    assert re.search(chain + "$", " ".join(last["References"].split()))


def test_author_gets_no_mail_about_own_comment(api: Api, smtp: SmtpServer) -> None:
    api.post(email="me@example.org", notify=True, body="first")
    confirm_address("me@example.org")
    run_worker()
    before = len(smtp.recorder.to("me@example.org"))
    api.post(email="me@example.org", body="second, mine")
    run_worker()
    assert len(smtp.recorder.to("me@example.org")) == before


def test_four_comments_with_notify_make_one_subscription_and_one_mail_each(
    api: Api, smtp: SmtpServer
) -> None:
    for i in range(4):
        api.post(email="chatty@example.org", notify=True, body=f"chatty {i}")
    assert db.session.scalar(select(func.count(Subscription.id))) == 1
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.kind == "confirm")) == 1
    confirm_address("chatty@example.org")
    api.post(author="Other", email="other@example.org", body="news")
    api.post(author="Other", email="other@example.org", body="more news")
    run_worker()
    notes = [m for m in smtp.recorder.to("chatty@example.org") if "New comment" in m["Subject"]]
    assert len(notes) == 2
    assert len({m["Message-ID"] for m in notes}) == 2


def test_second_fan_out_of_the_same_comment_is_a_noop(api: Api) -> None:
    from widget.subscriptions import fan_out

    subscribe_confirmed(api, "fan@example.org")
    comment_id = api.post(body="once").get_json()["comment"]["id"]
    fan_out(db.session.get(Comment, comment_id))
    fan_out(db.session.get(Comment, comment_id))
    db.session.commit()
    count = db.session.scalar(
        select(func.count(Delivery.id)).where(Delivery.comment_id == comment_id)
    )
    assert count == 1


def test_one_click_unsubscribe_stops_mail(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "fan@example.org")
    api.post(body="one")
    run_worker()
    mail = smtp.recorder.to("fan@example.org")[-1]
    path = mail["List-Unsubscribe"].strip("<>").replace("http://parley.test", "")
    response = api.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    again = api.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200  # twice is fine
    api.post(body="two")
    run_worker()
    assert len(smtp.recorder.to("fan@example.org")) == 1


def test_one_click_multipart_body_works_too(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "fan@example.org")
    sub = db.session.scalars(select(Subscription)).one()
    path = f"/unsubscribe/{make_token('unsubscribe', {'s': sub.id})}"
    response = api.client.post(
        path, data={"List-Unsubscribe": "One-Click"}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    db.session.refresh(sub)
    assert not sub.active


def test_unsubscribe_link_get_changes_nothing(api: Api) -> None:
    subscribe_confirmed(api, "fan@example.org")
    sub = db.session.scalars(select(Subscription)).one()
    path = f"/unsubscribe/{make_token('unsubscribe', {'s': sub.id})}"
    page = api.client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.data
    assert b"every thread" in page.data
    db.session.refresh(sub)
    assert sub.active


def test_unsubscribe_button_needs_csrf_and_can_leave_everything(api: Api) -> None:
    subscribe_confirmed(api, "fan@example.org", thread="/a")
    subscribe_confirmed(api, "fan@example.org", thread="/b")
    sub = db.session.scalars(select(Subscription)).first()
    path = f"/unsubscribe/{make_token('unsubscribe', {'s': sub.id})}"
    assert api.client.post(path, data={"everything": "y"}).status_code == 400
    html = api.client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert api.client.post(path, data={"csrf_token": token, "everything": "y"}).status_code == 200
    assert db.session.scalar(select(func.count()).where(Subscription.active.is_(True))) == 0


def test_manage_page_lists_every_thread_with_its_own_button(api: Api) -> None:
    subscribe_confirmed(api, "fan@example.org", thread="/a")
    subscribe_confirmed(api, "fan@example.org", thread="/b")
    address = db.session.scalars(select(Address)).one()
    path = f"/subscriptions/{make_token('manage', {'a': address.id})}"
    html = api.client.get(path).get_data(as_text=True)
    assert html.count(">Unsubscribe</button>") == 2
    assert "fan@example.org" not in html


@pytest.mark.parametrize("purpose", ["confirm", "manage", "edit", "moderate"])
def test_tokens_of_another_purpose_fail(api: Api, purpose: str) -> None:
    subscribe_confirmed(api, "fan@example.org")
    sub = db.session.scalars(select(Subscription)).one()
    token = make_token(purpose, {"s": sub.id, "a": sub.address_id})
    assert api.client.get(f"/unsubscribe/{token}").status_code == 404


def test_tampered_token_gets_a_clear_404_page(api: Api) -> None:
    subscribe_confirmed(api, "fan@example.org")
    sub = db.session.scalars(select(Subscription)).one()
    token = make_token("unsubscribe", {"s": sub.id})
    response = api.client.get(f"/unsubscribe/{token[:-2]}xx")
    assert response.status_code == 404 and b"not valid" in response.data


def test_confirmation_mails_are_not_a_flood(api: Api, smtp: SmtpServer) -> None:
    for thread in ("/a", "/b", "/c", "/a"):
        api.client.post(
            "/api/subscriptions",
            json={"site": "default", "thread": thread, "email": "new@example.org"},
        )
    run_worker()
    assert len(smtp.recorder.to("new@example.org")) == 1


def test_smtp_down_then_back_delivers_each_once(app: Flask, api: Api) -> None:
    down = SmtpServer()  # not started: connection refused
    app.config.update(SMTP_URL=down.url, MAIL_BACKOFF_BASE=60)
    subscribe_confirmed(api, "fan@example.org")
    for i in range(3):
        assert api.post(body=f"while down {i}").status_code == 201
    run_worker()
    rows = db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).all()
    assert len(rows) == 3
    assert all(r.status == QUEUED and r.attempts == 1 and r.last_error for r in rows)
    down.start()
    try:
        run_worker()
        assert down.recorder.messages == []  # not due yet: backoff
        db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
        db.session.commit()
        run_worker()
        mails = down.recorder.to("fan@example.org")
        assert len(mails) == 3 and len({m["Message-ID"] for m in mails}) == 3
        run_worker()
        assert len(down.recorder.to("fan@example.org")) == 3
    finally:
        down.stop()


def test_backoff_grows_and_last_try_marks_failed(app: Flask, api: Api) -> None:
    app.config.update(SMTP_URL=SmtpServer().url, MAIL_BACKOFF_BASE=60, MAIL_MAX_ATTEMPTS=3)
    subscribe_confirmed(api, "fan@example.org")
    api.post(body="never delivered")
    waits = []
    for _ in range(3):
        db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
        db.session.commit()
        run_worker()
        row = db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).one()
        waits.append((row.next_attempt_at - utcnow()).total_seconds())
    assert row.status == FAILED and row.attempts == 3 and "Connection" in row.last_error
    assert 50 < waits[0] < 61 and 110 < waits[1] < 121


def test_permanent_failure_suppresses_the_address(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "gone@example.org")
    smtp.recorder.refuse["gone@example.org"] = "550 5.1.1 no such user"
    api.post(body="one")
    run_worker()
    row = db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).one()
    assert row.status == FAILED and "550" in row.last_error and row.attempts == 1
    address = db.session.scalars(select(Address)).one()
    assert address.suppressed_at is not None
    api.post(body="two")
    assert db.session.scalar(select(func.count(Delivery.id)).where(Delivery.kind == "notify")) == 1


@pytest.mark.parametrize(
    "reply",
    [
        "554 5.7.1 <comments@parley.test>: Relay access denied",
        "550 5.7.1 Sender address not verified",
        "552 5.2.2 Mailbox full",
        "554 Transaction failed",
        "550 5.1.8 <comments@parley.test>: Sender address rejected: Domain not found",
        "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        "550 Relaying denied",
    ],
)
def test_a_refusal_that_is_not_about_the_mailbox_blocks_nobody(
    app: Flask, api: Api, smtp: SmtpServer, reply: str
) -> None:
    """A relay that refuses us (or a full mailbox) says nothing about the reader's address:
    the mail is retried, and every reader keeps getting mail once it passes."""
    app.config.update(MAIL_BACKOFF_BASE=60, MAIL_MAX_ATTEMPTS=3)
    for reader in ("ann@example.org", "bo@example.org"):
        subscribe_confirmed(api, reader)
        smtp.recorder.refuse[reader] = reply
    api.post(body="one")
    run_worker()
    rows = db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).all()
    assert [row.status for row in rows] == [QUEUED, QUEUED], [r.last_error for r in rows]
    assert all("recipient refused" in (row.last_error or "") for row in rows)
    assert (
        db.session.scalar(select(func.count(Address.id)).where(Address.suppressed_at.is_not(None)))
        == 0
    )
    smtp.recorder.refuse.clear()
    db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    db.session.commit()
    run_worker()
    assert len(smtp.recorder.to("ann@example.org")) == len(smtp.recorder.to("bo@example.org")) == 1


@pytest.mark.parametrize(
    ("reply", "blocks"),
    [
        ("550 5.1.1 no such user", True),
        (
            "550 5.1.1 <bob@corp.example>: Recipient address rejected: User unknown in relay "
            "recipient table",
            True,
        ),
        ("550 5.1.1 <relay@x.example>: User unknown", True),
        ("553 mailbox name not allowed (#5.1.1)", True),
        ("550 No such user here", True),
        ("550 5.1.0 <c@parley.test>: Sender address rejected: User unknown", False),
        ("550 5.1.8 <c@parley.test>: Sender address rejected: Domain not found", False),
        (
            "550 5.1.0 <c@parley.test>: Sender address rejected: User unknown in local "
            "recipient table",
            False,
        ),
        ("550 Sender verify failed", False),
        ("553 sorry, your envelope sender has been denied", False),
    ],
)
def test_which_refusals_say_the_readers_mailbox_is_gone(
    app: Flask, api: Api, smtp: SmtpServer, reply: str, blocks: bool
) -> None:
    app.config.update(MAIL_BACKOFF_BASE=60, MAIL_MAX_ATTEMPTS=3)
    subscribe_confirmed(api, "maybe@example.org")
    smtp.recorder.refuse["maybe@example.org"] = reply
    api.post(body="one")
    run_worker()
    suppressed = db.session.scalar(select(Address.suppressed_at))
    assert (suppressed is not None) == blocks, reply


def test_a_server_slow_to_answer_a_message_gets_it_once(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    """It takes the message, then answers after longer than a command may take: the worker
    waits for that answer (up to 60% of the lease) instead of sending the mail again."""
    app.config.update(SMTP_TIMEOUT=0.5, MAIL_LEASE_SECONDS=10, MAIL_MAX_ATTEMPTS=3)
    subscribe_confirmed(api, "slow@example.org")
    smtp.recorder.delay = 1.5
    api.post(body="worth the wait")
    run_worker()
    smtp.recorder.delay = 0
    row = db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).one()
    assert row.status == SENT and row.attempts == 1
    assert len(smtp.recorder.to("slow@example.org")) == 1


def test_deleted_comment_is_dropped_before_sending(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "fan@example.org")
    posted = api.post(body="regret").get_json()
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    run_worker()
    assert [m for m in smtp.recorder.to("fan@example.org") if "New comment" in m["Subject"]] == []
    assert (
        db.session.scalars(select(Delivery).where(Delivery.kind == "notify")).one().status
        == "dropped"
    )


def test_owner_gets_a_mail_with_a_moderation_link(api: Api, smtp: SmtpServer) -> None:
    site = db.session.scalars(select(Site)).one()
    site.moderation = "all"
    site.owner_email_enc = vault().encrypt("owner@blog.example")
    db.session.commit()
    api.post(body="hold me")
    run_worker()
    [mail] = smtp.recorder.to("owner@blog.example")
    assert "awaits moderation" in mail["Subject"]
    assert "/moderate/" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_header_injection_through_names_is_impossible(api: Api, smtp: SmtpServer) -> None:
    subscribe_confirmed(api, "fan@example.org")
    assert api.post(author="Eve", body="x", title="T\r\nBcc: a@b.example").status_code == 422
    api.post(author="Eve", body="x")
    thread = db.session.scalars(select(Thread)).one()
    thread.title = "Evil\r\nBcc: victim@example.org\nX-Injected: yes" + "x" * 250
    db.session.commit()
    api.post(author="Mallory", body="y")
    run_worker()
    mail = smtp.recorder.to("fan@example.org")[-1]
    assert "X-Injected" not in mail and "Bcc" not in mail
    assert "\n" not in mail["Subject"] and len(mail["Subject"]) <= 200


# --- workers as separate processes ------------------------------------------------------


def worker_env(app: Flask, smtp_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_DATABASE_URL": app.config["DATABASE_URL"],
        "PARLEY_SECRET_KEY": SECRET,
        "PARLEY_SMTP_URL": smtp_url,
        "PARLEY_PUBLIC_URL": "http://parley.test",
        "PARLEY_MAIL_LEASE_SECONDS": "2",
        "PARLEY_MAIL_BATCH_SIZE": "20",
    }


def queue_notifications(n: int) -> int:
    """n confirmed subscribers and one published comment: n queued deliveries."""
    site = db.session.scalars(select(Site)).one()
    thread = Thread(site_id=site.id, key="/many", title="Many")
    db.session.add(thread)
    db.session.flush()
    now = utcnow()
    confirmed_subscribers(thread, [f"r{i}@example.org" for i in range(n)])
    comment = Comment(
        thread_id=thread.id,
        author="A",
        email_hash="x",
        body="b",
        html="<p>b</p>",
        status="approved",
        created_at=now,
    )
    db.session.add(comment)
    db.session.flush()
    comment.root_id = comment.id
    from widget.subscriptions import fan_out

    fan_out(comment)
    db.session.commit()
    return comment.id


def start_worker(
    app: Flask, smtp_url: str, once: bool = True, clock_offset: float = 0
) -> subprocess.Popen[bytes]:
    """A `flask mail worker` process; `clock_offset` runs it that many seconds in the future."""
    args = [sys.executable, "-m", "flask", "--app", "app", "mail", "worker", "--interval", "0.2"]
    return subprocess.Popen(
        args + (["--once"] if once else []),
        cwd=ROOT,
        env={**worker_env(app, smtp_url), "PARLEY_CLOCK_OFFSET": str(clock_offset)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_nothing(app: Flask, api: Api, smtp: SmtpServer) -> None:
    queue_notifications(30)
    smtp.recorder.delay = 0.1
    worker = start_worker(app, smtp.url, once=False)
    deadline = time.time() + 20
    while len(smtp.recorder.messages) < 5 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    sent_before = len(smtp.recorder.messages)
    assert 0 < sent_before < 30
    smtp.recorder.delay = 0
    finisher = start_worker(app, smtp.url, clock_offset=3)  # the killed worker's lease ran out
    assert finisher.wait(timeout=60) == 0, finisher.stderr.read()  # type: ignore[union-attr]
    received = Counter(rcpt for rcpt, _ in smtp.recorder.messages)
    assert set(received) == {f"r{i}@example.org" for i in range(30)}
    assert sum(received.values()) - 30 <= 1  # at most the one in flight at the kill
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Delivery.status != SENT)) == 0


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="PARLEY_TEST_POSTGRES_URL not set")
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_on_postgres_send_each_delivery_once(app: Flask, smtp: SmtpServer) -> None:
    assert database_url("postgresql", Path("/")) == app.config["DATABASE_URL"]
    queue_notifications(1000)
    workers = [start_worker(app, smtp.url) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=240) == 0, worker.stderr.read()  # type: ignore[union-attr]
    received = Counter(rcpt for rcpt, _ in smtp.recorder.messages)
    assert len(received) == 1000 and set(received.values()) == {1}
    assert db.session.scalar(select(func.count()).where(Delivery.status == SENT)) == 1000


def test_a_comment_that_gets_an_erased_comments_id_gets_its_own_message_id(
    api: Api, smtp: SmtpServer
) -> None:
    """SQLite gives the id of a deleted last row again: a mail client that has a message
    with that Message-ID would drop the new one as a copy."""
    from widget import readers
    from widget.vault import vault

    db.session.execute(update(Site).values(erase_policy="remove"))
    db.session.commit()
    subscribe_confirmed(api, "fan@example.org")
    first = api.post(body="Soon erased.", email="zed@example.org").get_json()["comment"]["id"]
    run_worker()
    readers.erase_by_hash(vault().lookup_hash("zed@example.org"))
    api.post(body="Another one.", email="xu@example.org")
    run_worker()
    ids = [str(m["Message-ID"]) for m in smtp.recorder.to("fan@example.org")]
    assert len(ids) == 2 and ids[0] != ids[1], ids
    assert ids[0].startswith(f"<comment-{first}.")
