"""Readers choose what mail they get (replies, all, digest), switch it from the manage page,
pause it; busy threads fall back to the digest. Read through the real SMTP server."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import DIGEST, SENT, Comment, Delivery, Subscription

from .conftest import Api
from .smtp import SmtpServer, run_worker
from .test_mail_safety import (
    header_block,
    link_in,
    mails_to,
    parsed,
    press_button,
    raw_header,
    subscribe,
    text_of,
)

DAY = 86400


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def follow(api: Api, smtp: SmtpServer, email: str, mode: str, thread: str = "/2026/hello") -> None:
    """Subscribe with a mode and click the confirmation link in the mail."""
    assert subscribe(api, email, thread, notify=mode).status_code == 202
    run_worker()
    confirm = link_in(mails_to(smtp, email, "Confirm")[-1], "/subscriptions/confirm/")
    press_button(api.client, confirm)


def advance(app: Flask, seconds: float) -> None:
    app.extensions["parley_clock"].advance(seconds)


def test_replies_mode_mails_only_replies_below_my_comments(api: Api, smtp: SmtpServer) -> None:
    mine = api.post(email="me@example.org", author="Me", body="My opinion.").get_json()
    follow(api, smtp, "me@example.org", "replies")
    api.post(email="x@example.org", author="Xi", body="Unrelated.")
    answer = api.post(
        email="y@example.org", author="Yu", body="I disagree.", parent_id=mine["comment"]["id"]
    )
    api.post(
        email="z@example.org",
        author="Zo",
        body="Deeper.",
        parent_id=answer.get_json()["comment"]["id"],
    )
    run_worker()
    notes = [m for m in mails_to(smtp, "me@example.org") if b"Confirm" not in m]
    subjects = [str(parsed(m)["Subject"]) for m in notes]
    assert subjects == [
        "Yu replied to your comment on Hello world",
        "Zo replied below your comment on Hello world",  # Zo answered Yu, under mine
    ]
    assert "> My opinion." in text_of(notes[0])
    assert "Zo replied below your comment on" in text_of(notes[1])
    assert "replies to your comments" in text_of(notes[0])


def test_all_mode_says_new_comment_and_which_mode(api: Api, smtp: SmtpServer) -> None:
    follow(api, smtp, "fan@example.org", "all")
    api.post(email="x@example.org", author="Xi", body="News.")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    assert str(parsed(note)["Subject"]) == "New comment on Hello world"
    assert "every new comment" in text_of(note)
    assert "/subscriptions/" in text_of(note)  # the link to switch


def test_a_daily_digest_lists_the_days_comments_once_even_across_a_restart(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    follow(api, smtp, "reader@example.org", "digest")
    for n in range(3):
        api.post(email=f"w{n}@example.org", author=f"Writer {n}", body=f"Digest item {n}.")
    run_worker()  # nothing yet: the digest is daily
    assert mails_to(smtp, "reader@example.org", "new comment") == []
    # A worker dies while holding the rows: its lease runs out, and nothing is lost or doubled.
    advance(app, DAY)
    from widget.mail.worker import utcnow as now

    db.session.execute(
        Delivery.__table__.update()
        .where(Delivery.kind == DIGEST)
        .values(lease_until=now())  # claimed by a worker that then died
    )
    db.session.commit()
    advance(app, 600)
    run_worker()
    [digest] = mails_to(smtp, "reader@example.org", "new comments")
    assert str(parsed(digest)["Subject"]) == "3 new comments on Hello world"
    text = text_of(digest)
    assert all(f"Digest item {n}." in text for n in range(3))
    assert raw_header(digest, "List-Unsubscribe").startswith("<http://parley.test/unsubscribe/")
    header_block(digest)  # every header line ASCII and short
    advance(app, DAY)
    run_worker()
    assert len(mails_to(smtp, "reader@example.org", "new comment")) == 1  # never again
    assert (
        db.session.scalar(
            select(func.count()).where(Delivery.status == SENT, Delivery.kind == DIGEST)
        )
        == 3
    )


def test_a_digest_the_server_keeps_deferring_fails_visibly_and_a_gone_mailbox_is_blocked(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    follow(api, smtp, "grey@example.org", "digest")
    follow(api, smtp, "gone@example.org", "digest")
    api.post(email="w@example.org", author="Writer", body="For the digest.")
    smtp.recorder.refuse["grey@example.org"] = "451 4.7.1 Greylisted, try again later"
    smtp.recorder.refuse["gone@example.org"] = "550 5.1.1 No such user"
    advance(app, DAY)
    run_worker()
    rows = {
        row.subscription_id: row
        for row in db.session.scalars(select(Delivery).where(Delivery.kind == DIGEST))
    }
    by_address = {sub.address_id: sub.id for sub in db.session.scalars(select(Subscription)).all()}
    grey, gone = (
        rows[by_address[a.id]] for a in _addresses("grey@example.org", "gone@example.org")
    )
    assert (gone.status, gone.last_error) == ("failed", "recipient refused (550)")
    assert _addresses("gone@example.org")[0].suppressed_at is not None
    assert (grey.status, grey.attempts, grey.last_error) == (
        "queued",
        1,
        "recipient refused (451)",
    )
    for _ in range(2):  # every 30 minutes, up to the last of three tries
        advance(app, 1800)
        run_worker()
    db.session.refresh(grey)
    assert (grey.status, grey.attempts) == ("failed", 3)
    advance(app, 1800)
    run_worker()
    db.session.refresh(grey)
    assert grey.attempts == 3  # not tried again


def _addresses(*emails: str) -> list[Any]:
    from widget.models import Address
    from widget.vault import vault

    wanted = [vault().lookup_hash(email) for email in emails]
    found = {a.email_hash: a for a in db.session.scalars(select(Address)).all()}
    return [found[h] for h in wanted]


def test_no_digest_when_there_is_nothing_new(app: Flask, api: Api, smtp: SmtpServer) -> None:
    follow(api, smtp, "reader@example.org", "digest")
    advance(app, 2 * DAY)
    run_worker()
    assert [m for m in mails_to(smtp, "reader@example.org") if b"Confirm" not in m] == []


def test_a_busy_thread_moves_a_reader_to_the_digest_for_the_day(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    db.session.execute(db.text("UPDATE sites SET daily_mail_cap = 3"))
    db.session.commit()
    follow(api, smtp, "fan@example.org", "all")
    for n in range(6):
        api.post(email=f"w{n}@example.org", author=f"W{n}", body=f"Busy {n}.")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 3
    advance(app, DAY)
    run_worker()
    [digest] = mails_to(smtp, "fan@example.org", "new comments")
    assert "a busy day" in text_of(digest) and "Busy 5." in text_of(digest)


def test_switching_modes_and_pausing_from_the_manage_page(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    follow(api, smtp, "fan@example.org", "all")
    api.post(email="x@example.org", body="First.")
    run_worker()
    [note] = mails_to(smtp, "fan@example.org", "New comment")
    manage = link_in(note, "/subscriptions/")
    sub = db.session.scalars(select(Subscription)).one()
    press_button(api.client, manage, action="mode", subscription=str(sub.id), mode="replies")
    db.session.expire_all()
    assert db.session.get(Subscription, sub.id).mode == "replies"  # type: ignore[union-attr]
    api.post(email="x@example.org", body="Second, not a reply.")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 1
    press_button(api.client, manage, action="mode", subscription=str(sub.id), mode="all")
    press_button(api.client, manage, action="pause", days="7")
    api.post(email="x@example.org", body="While paused.")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 1
    advance(app, 8 * DAY)
    api.post(email="x@example.org", body="After the pause.")
    run_worker()
    assert len(mails_to(smtp, "fan@example.org", "New comment")) == 2


def test_notify_takes_a_mode_or_true_and_refuses_anything_else(api: Api) -> None:
    assert api.post(notify="replies").status_code == 201
    assert api.post(notify=True, body="again").status_code == 201
    assert api.post(notify="weekly", body="third").status_code == 422
    assert set(db.session.scalars(select(Comment.notify))) == {"replies", "all"}


def test_the_confirmation_says_what_was_chosen(api: Api, smtp: SmtpServer) -> None:
    assert subscribe(api, "daily@example.org", notify="digest").status_code == 202
    run_worker()
    [confirmation] = mails_to(smtp, "daily@example.org", "Confirm")
    assert "a daily digest of this page" in text_of(confirmation)
