"""The site owner's mail (issue #17): a mail per comment or a digest, as the site wants,
and the reader's mail when a moderator publishes their held comment.

Every test reads what the real SMTP server (aiosmtpd on 127.0.0.1) received, as raw bytes,
and follows the moderation links in it with the test client, as the owner clicks them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from widget import moderation
from widget.extensions import db
from widget.models import (
    APPROVED,
    APPROVED_NOTICE,
    DELETED,
    DROPPED,
    OWNER_DIGEST,
    PENDING,
    SPAM,
    Address,
    Comment,
    Delivery,
    utcnow,
)
from widget.sites import save_site
from widget.vault import vault

from .conftest import Api
from .smtp import SmtpServer, message_id, run_worker
from .test_mail_safety import (
    csrf_token,
    link_in,
    mails_to,
    parsed,
    press_button,
    raw_header,
    text_of,
)

OWNER = "owner@blog.example"
READER = "reader-probe@example.org"
HIDDEN_LINK = "Read [my thoughts](https://spam.example/x?a=1&b=2) here."
HOUR, DAY = 3600, 86400


@pytest.fixture
def app_config(smtp: SmtpServer) -> dict[str, Any]:
    return {"SMTP_URL": smtp.url, "MAIL_BACKOFF_BASE": 0}


def advance(app: Flask, seconds: float) -> None:
    app.extensions["parley_clock"].advance(seconds)


def clock_to(app: Flask, minute: int, hour: int | None = None) -> None:
    """Move the clock forward to the next hh:mm (UTC), or to the next :mm of an hour."""
    now = utcnow()
    target = now.replace(minute=minute, second=0, microsecond=0)
    if hour is not None:
        target = target.replace(hour=hour)
    step = timedelta(days=1) if hour is not None else timedelta(hours=1)
    while target <= now:
        target += step
    advance(app, (target - now).total_seconds())


def owner_site(**options: Any) -> None:
    save_site("default", owner_email=OWNER, create=False, **options)


def post(api: Api, body: str = "A comment.", **fields: Any) -> int:
    response = api.post(email=READER, author="Ada Reader", body=body, **fields)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["comment"]["id"])


def action_link(raw: bytes, action: str) -> str:
    """The path of the mail's link for one action (`/moderate/<token>?action=…`)."""
    found = re.search(r"http://parley\.test(/moderate/\S+\?action=" + action + ")", text_of(raw))
    assert found, text_of(raw)
    return found.group(1)


def html_of(raw: bytes) -> str:
    return parsed(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]


def owner_mails(smtp: SmtpServer, subject: str = "") -> list[bytes]:
    return mails_to(smtp, OWNER, subject)


def check_owner_mail(raw: bytes) -> tuple[str, str]:
    """What every owner mail is: multipart text + HTML, auto-generated, with headers in
    their wire form, and never the reader's address (raw or decoded). Returns both parts."""
    message: EmailMessage = parsed(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert raw_header(raw, "Auto-Submitted") == "auto-generated"
    assert raw_header(raw, "To") == OWNER
    assert raw_header(raw, "Message-ID").startswith("<")
    text, html = text_of(raw), html_of(raw)
    for where in (raw.decode("ascii", "replace"), text, html):
        assert READER not in where
        assert vault().lookup_hash(READER) not in where
    return text, html


# --- notify-owner all | held | none: a mail per comment -----------------------------------


def test_all_mode_mails_every_comment_published_or_held_with_reasons_in_words(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="all", moderation="first-time")
    held = post(api, "My very first words.")
    owner_site(moderation="none")
    published = post(api, HIDDEN_LINK)
    run_worker()
    [held_mail] = owner_mails(smtp, "awaits moderation")
    [published_mail] = owner_mails(smtp, "was published")
    assert len(owner_mails(smtp)) == 2

    text, html = check_owner_mail(held_mail)
    assert raw_header(held_mail, "Subject") == "A comment on Hello world awaits moderation"
    assert "Held, waiting for you. Why: first comment from this address." in text
    assert "first-comment" not in text and "first-comment" not in html
    assert "Ada Reader" in text and "Hello world" in text and "My very first words." in text
    assert "Article: https://blog.example/2026/hello" in text
    assert '<a href="https://blog.example/2026/hello">Hello world</a>' in html
    for action in ("approve", "spam", "delete"):
        assert f"?action={action}" in text and f"?action={action}" in html
    assert f"Reply as owner: http://parley.test/admin/comments/{held}" in text
    assert f'href="http://parley.test/admin/comments/{held}"' in html

    text, html = check_owner_mail(published_mail)
    assert "Published." in text and "Why:" not in text
    # The link's real target is shown beside its innocent text, in both parts.
    assert "Read my thoughts [https://spam.example/x?a=1&b=2] here." in text
    assert "my thoughts</a> [https://spam.example/x?a=1&amp;b=2]" in html
    assert "?action=approve" not in text  # published already: spam or delete only
    assert "?action=spam" in text and "?action=delete" in text
    assert f"See it on the page: https://blog.example/2026/hello#parley-{published}" in text


def test_held_mode_mails_only_held_comments(app: Flask, api: Api, smtp: SmtpServer) -> None:
    owner_site(notify_owner="held", moderation="none")
    post(api, "Published at once.")
    owner_site(moderation="all")
    post(api, "Please hold me.")
    run_worker()
    [mail] = owner_mails(smtp)
    text, _ = check_owner_mail(mail)
    assert "Please hold me." in text and "Published at once." not in text
    assert "Why: this site holds every comment for review." in text


def test_none_mode_mails_nothing_and_spam_never_gets_a_mail_of_its_own(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="none", moderation="all")
    post(api, "Held, but the owner wants no mail.")
    owner_site(notify_owner="all")
    app.config["SPAM_CHECKS"] = "on"
    spam_id = post(api, "Buy now.", contact_fax="bot")  # the honeypot
    app.config["SPAM_CHECKS"] = "off"
    assert db.session.get(Comment, spam_id).status == SPAM  # type: ignore[union-attr]
    run_worker()
    assert owner_mails(smtp) == []


def test_an_edit_that_sends_a_comment_back_to_the_queue_mails_the_owner(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="held", moderation="none")
    response = api.post(email=READER, body="Harmless at first.")
    comment_id, token = response.get_json()["comment"]["id"], response.get_json()["edit_token"]
    run_worker()
    assert owner_mails(smtp) == []
    owner_site(moderation="all")
    edited = api.client.patch(
        f"/api/comments/{comment_id}",
        json={"body": HIDDEN_LINK},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert edited.status_code == 200, edited.get_json()
    run_worker()
    [mail] = owner_mails(smtp, "awaits moderation")
    text, _ = check_owner_mail(mail)
    assert "Why: edited by its author." in text
    assert "Read my thoughts [https://spam.example/x?a=1&b=2] here." in text


def test_a_comment_decided_before_its_mail_goes_is_not_mailed(api: Api, smtp: SmtpServer) -> None:
    owner_site(notify_owner="held", moderation="all")
    comment_id = post(api)
    comment = db.session.get(Comment, comment_id)
    assert comment is not None
    moderation.moderate(comment, "approve", actor="admin:test")
    run_worker()
    assert owner_mails(smtp) == []


def test_a_flood_comes_as_one_digest_an_hour_later(app: Flask, api: Api, smtp: SmtpServer) -> None:
    owner_site(notify_owner="all", moderation="none")
    for n in range(8):
        post(api, f"busy {n}")
    run_worker()
    assert len(owner_mails(smtp)) == 5
    advance(app, HOUR + 1)
    run_worker()
    [digest] = owner_mails(smtp, "new comments on default")
    text, _ = check_owner_mail(digest)
    assert "busy 5" in text and "busy 7" in text and "busy 4" not in text


# --- the moderation link: a confirmation page, then a POST ---------------------------------


def buttons(client: FlaskClient, path: str) -> set[str]:
    html = client.get(path).get_data(as_text=True)
    return {a for a in ("approve", "spam", "delete") if f'value="{a}"' in html}


def test_the_mail_link_asks_first_then_acts_and_offers_only_what_changes_something(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="held", moderation="all")
    comment_id = post(api, HIDDEN_LINK)
    run_worker()
    [mail] = owner_mails(smtp)
    approve = action_link(mail, "approve")
    assert approve.startswith("/moderate/")

    page = api.client.get(approve)  # what a mail scanner does: nothing changes
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Approve this comment?</h1>" in html
    assert '<a href="https://blog.example/2026/hello">Hello world</a>' in html
    assert "my thoughts</a> [https://spam.example/x?a=1&amp;b=2]" in html
    assert "first-comment" not in html and READER not in html
    assert buttons(api.client, approve) == {"approve", "spam", "delete"}
    assert db.session.get(Comment, comment_id).status == PENDING  # type: ignore[union-attr]

    done = press_button(api.client, approve, action="approve")
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Approved: the comment is published." in html
    assert "Why:" not in html  # the reasons it was held are history now
    assert 'value="approve"' not in html
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).status == APPROVED  # type: ignore[union-attr]
    assert buttons(api.client, approve) == {"spam", "delete"}  # a second look

    done = press_button(api.client, action_link(mail, "delete"), action="delete")
    assert "Deleted: the comment no longer shows." in done.get_data(as_text=True)
    assert buttons(api.client, approve) == set()
    assert "restored in the admin" in api.client.get(approve).get_data(as_text=True)


def test_the_link_refuses_what_a_mail_does_not_offer_and_needs_its_csrf_token(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="held", moderation="all")
    comment_id = post(api)
    run_worker()
    path = link_in(owner_mails(smtp)[0], "/moderate/")
    token = csrf_token(api.client.get(path).get_data(as_text=True))
    assert api.client.post(path, data={"action": "delete"}).status_code == 400  # no CSRF
    assert api.client.post(path, data={"csrf_token": token, "action": "delete"}).status_code == 200
    # Deleting twice is harmless; approving a deleted comment is for the admin.
    assert api.client.post(path, data={"csrf_token": token, "action": "delete"}).status_code == 200
    assert api.client.post(path, data={"csrf_token": token, "action": "approve"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).status == DELETED  # type: ignore[union-attr]


def test_a_mail_link_gives_way_to_a_decision_made_elsewhere_and_to_a_new_owner(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="held", moderation="all")
    first, second = post(api, "Held one."), post(api, "Held two.")
    run_worker()
    mails = owner_mails(smtp)
    link_for = {
        comment_id: next(action_link(m, "approve") for m in mails if f"Held {word}." in text_of(m))
        for comment_id, word in ((first, "one"), (second, "two"))
    }
    # The owner marks the first one spam in the admin; the mail's Approve no longer acts.
    comment = db.session.get(Comment, first)
    assert comment is not None
    moderation.moderate(comment, "spam", actor="admin:owner@blog.example")
    page = api.client.get(link_for[first]).get_data(as_text=True)
    assert "Decided since this mail was sent" in page and 'value="approve"' not in page
    token = csrf_token(api.client.get("/privacy").get_data(as_text=True))  # the session's
    refused = api.client.post(link_for[first], data={"csrf_token": token, "action": "approve"})
    assert refused.status_code == 409
    db.session.expire_all()
    assert db.session.get(Comment, first).status == SPAM  # type: ignore[union-attr]
    # The site's owner address changes: links mailed to the old one are void.
    save_site("default", owner_email="new-owner@blog.example", create=False)
    gone = api.client.get(link_for[second])
    assert gone.status_code == 404 and "earlier owner address" in gone.get_data(as_text=True)


# --- digests: one mail at the end of the hour or the day ------------------------------------


def test_hourly_digest_lists_each_comment_once_and_counts_spam(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    clock_to(app, minute=10)
    owner_site(notify_owner="all", owner_digest="hourly", moderation="none")
    post(api, HIDDEN_LINK)
    post(api, "Second, published.", thread="/2026/other", title="Another article", url="")
    owner_site(moderation="all")
    post(api, "Third, held.")
    app.config["SPAM_CHECKS"] = "on"
    post(api, "Spam.", contact_fax="bot")
    app.config["SPAM_CHECKS"] = "off"
    run_worker()
    assert owner_mails(smtp) == []  # nothing before the end of the hour
    advance(app, 30 * 60)
    run_worker()
    assert owner_mails(smtp) == []
    advance(app, 30 * 60)
    run_worker()
    [digest] = owner_mails(smtp)
    assert raw_header(digest, "Subject") == "3 new comments on default, 1 awaiting moderation"
    text, html = check_owner_mail(digest)
    assert text.count("Reply as owner:") == 3
    assert "Hello world" in text and "Another article" in text
    assert "http://parley.test/threads?site=default&thread=/2026/other" in text  # no URL
    assert "Read my thoughts [https://spam.example/x?a=1&b=2] here." in text
    assert "my thoughts</a> [https://spam.example/x?a=1&amp;b=2]" in html
    assert "Why: this site holds every comment for review." in text
    assert "1 comment posted since then is in the spam folder" in text
    assert "Spam." not in text

    advance(app, 2 * HOUR)
    run_worker()
    assert len(owner_mails(smtp)) == 1  # nothing new: no mail
    post(api, "Fourth, held.")
    advance(app, HOUR)
    run_worker()
    second = owner_mails(smtp)[1]
    text, _ = check_owner_mail(second)
    assert raw_header(second, "Subject") == "1 comment awaits moderation on default"
    assert "Fourth, held." in text
    assert "Third, held." not in text and "Read my thoughts" not in text


def test_daily_digest_in_held_mode_lists_what_still_waits_at_the_end_of_the_day(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    clock_to(app, minute=0, hour=1)
    owner_site(notify_owner="held", owner_digest="daily", moderation="none")
    post(api, "Published: not the held mode's business.")
    owner_site(moderation="all")
    waiting = post(api, "Held and still waiting.")
    decided = post(api, "Held, then approved in the admin.")
    comment = db.session.get(Comment, decided)
    assert comment is not None
    moderation.moderate(comment, "approve", actor="admin:test")
    advance(app, 12 * HOUR)
    run_worker()
    assert owner_mails(smtp) == []  # the day is not over
    advance(app, 12 * HOUR)
    run_worker()
    [digest] = owner_mails(smtp)
    assert raw_header(digest, "Subject") == "1 comment awaits moderation on default"
    text, html = check_owner_mail(digest)
    assert "Held and still waiting." in text
    assert "Published: not" not in text and "then approved" not in text
    approve = action_link(digest, "approve")
    assert press_button(api.client, approve, action="approve").status_code == 200
    db.session.expire_all()
    assert db.session.get(Comment, waiting).status == APPROVED  # type: ignore[union-attr]
    rows = db.session.scalars(select(Delivery).where(Delivery.kind == OWNER_DIGEST)).all()
    assert {row.status for row in rows} == {"sent"}


def test_a_digest_whose_comments_were_all_decided_is_not_sent(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    owner_site(notify_owner="held", owner_digest="hourly", moderation="all")
    comment = db.session.get(Comment, post(api))
    assert comment is not None
    moderation.moderate(comment, "delete", actor="admin:test")
    advance(app, HOUR + 1)
    run_worker()
    assert owner_mails(smtp) == []
    assert db.session.scalars(select(Delivery.status)).all() == [DROPPED]


# --- the reader's mail when their held comment is approved ----------------------------------


def approve_by_mail(api: Api, smtp: SmtpServer) -> None:
    [mail] = owner_mails(smtp, "awaits moderation")
    press_button(api.client, action_link(mail, "approve"), action="approve")


def test_approval_mail_tells_the_reader_their_comment_is_published(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(moderation="all", approval_mail=True)
    comment_id = post(api, "Please publish me.")
    run_worker()
    assert mails_to(smtp, READER) == []
    approve_by_mail(api, smtp)
    run_worker()
    [notice] = mails_to(smtp, READER)
    assert raw_header(notice, "Subject") == "Your comment on Hello world is published"
    assert raw_header(notice, "Auto-Submitted") == "auto-generated"
    assert raw_header(notice, "To") == READER
    message = parsed(notice)
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    link = f"https://blog.example/2026/hello#parley-{comment_id}"
    assert link in text_of(notice) and f'href="{link}"' in html_of(notice)
    assert "Please publish me." in text_of(notice)
    # Once per comment: a second approval (back and forth) sends nothing more.
    comment = db.session.get(Comment, comment_id)
    assert comment is not None
    moderation.moderate(comment, "restore", actor="admin:test")
    moderation.moderate(comment, "approve", actor="admin:test")
    run_worker()
    assert len(mails_to(smtp, READER)) == 1


def test_no_approval_mail_unless_the_site_wants_it(api: Api, smtp: SmtpServer) -> None:
    owner_site(moderation="all")
    post(api)
    run_worker()
    approve_by_mail(api, smtp)
    run_worker()
    assert mails_to(smtp, READER) == []
    assert db.session.scalars(select(Delivery).where(Delivery.kind == APPROVED_NOTICE)).all() == []


def test_approval_mail_is_dropped_when_unpublished_again_or_the_address_is_suppressed(
    api: Api, smtp: SmtpServer
) -> None:
    owner_site(moderation="all", approval_mail=True, notify_owner="none")
    first, second = post(api, "one"), post(api, "two", thread="/2026/other")
    for comment_id in (first, second):
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        moderation.moderate(comment, "approve", actor="admin:test")
    comment = db.session.get(Comment, first)
    assert comment is not None
    moderation.moderate(comment, "spam", actor="admin:test")
    db.session.add(
        Address(
            email_hash=vault().lookup_hash(READER),
            email_enc=vault().encrypt(READER),
            suppressed_at=utcnow(),
        )
    )
    db.session.commit()
    run_worker()
    assert mails_to(smtp, READER) == []
    notices = db.session.scalars(select(Delivery).where(Delivery.kind == APPROVED_NOTICE)).all()
    assert [n.status for n in notices] == [DROPPED, DROPPED]


# --- List-Unsubscribe on the owner's mail and the reader's one-off mail -------------------


def one_click(api: Api, raw: bytes) -> tuple[str, Any]:
    """What a mail provider does with an RFC 8058 header: POST the token alone to the URL
    exactly as it stands, with no cookie and no form. Returns (the URL's path, answer)."""
    header = raw_header(raw, "List-Unsubscribe")
    assert re.fullmatch(r"<http://parley\.test/[A-Za-z0-9/_.-]+>", header), header
    assert raw_header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    path = header[1:-1].split("parley.test", 1)[1]
    api.client.delete_cookie("session")
    return path, api.client.post(path, data={"List-Unsubscribe": "One-Click"})


def test_the_owner_leaves_the_mail_of_a_site_in_one_click(
    app: Flask, api: Api, smtp: SmtpServer
) -> None:
    clock_to(app, minute=10)
    owner_site(notify_owner="all", moderation="none", owner_digest="hourly")
    post(api, "One.")
    post(api, "Two.")
    advance(app, HOUR)
    run_worker()
    [digest] = owner_mails(smtp, "new comments")
    assert raw_header(digest, "List-Id").endswith("<owner.default.parley.test>")
    owner_site(owner_digest="off")
    post(api, "Three.")
    run_worker()
    [mail] = owner_mails(smtp, "was published")
    assert raw_header(mail, "List-Id") == raw_header(digest, "List-Id")
    assert raw_header(mail, "List-Unsubscribe") == raw_header(digest, "List-Unsubscribe")
    path = raw_header(mail, "List-Unsubscribe")[1:-1].split("parley.test", 1)[1]
    page = api.client.get(path)  # a GET (a mail scanner) asks first and changes nothing
    assert page.status_code == 200 and "Stop this mail" in page.get_data(as_text=True)
    assert api.client.post(path, data={}).status_code == 400  # the button needs its CSRF token
    post(api, "Four.")
    run_worker()
    assert len(owner_mails(smtp, "was published")) == 2

    _, done = one_click(api, mail)
    assert done.status_code == 200 and "mails its owner nothing more" in done.get_data(as_text=True)
    post(api, "Five.")
    run_worker()
    assert len(owner_mails(smtp)) == 3  # the digest and two mails: nothing after the click
    # A new owner address voids the old links: they cannot stop the new owner's mail.
    save_site("default", owner_email="new-owner@blog.example", notify_owner="held", create=False)
    assert api.client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert api.client.get("/moderate/mail/forged").status_code == 404


def test_the_reader_leaves_all_mail_from_a_one_off_mail_in_one_click(
    api: Api, smtp: SmtpServer
) -> None:
    """The approval notice and the /privacy link belong to no subscription: their
    List-Unsubscribe is "never email me again", as a confirmation's is."""
    owner_site(moderation="all", approval_mail=True)
    post(api, "Please publish me.")
    run_worker()
    approve_by_mail(api, smtp)
    run_worker()
    [notice] = mails_to(smtp, READER)
    assert re.fullmatch(message_id("thread", r"\d+"), raw_header(notice, "In-Reply-To"))
    assert raw_header(notice, "List-Id").endswith(".default.parley.test>")
    path, _ = one_click(api, notice)
    assert path.startswith("/subscriptions/never/") and path in text_of(notice)
    page = api.client.get(path).get_data(as_text=True)
    assert "This site will not email this address again." in page
    # Nothing more reaches the address: not a confirmation, not another notice.
    another = db.session.get(Comment, post(api, "Another one."))
    assert another is not None
    moderation.moderate(another, "approve", actor="admin:test")
    subscribing = {"site": "default", "thread": "/t", "email": READER}
    assert api.client.post("/api/subscriptions", json=subscribing).status_code == 202
    run_worker()
    assert len(mails_to(smtp, READER)) == 1


def test_the_privacy_mail_carries_never_email_me_again(api: Api, smtp: SmtpServer) -> None:
    post(api, "Mine.")
    page = api.client.get("/privacy")
    token = csrf_token(page.get_data(as_text=True))
    api.client.post("/privacy", data={"csrf_token": token, "email": READER})
    run_worker()
    [mail] = mails_to(smtp, READER, "Your data")
    assert raw_header(mail, "List-Id") == "Your data <privacy.parley.test>"
    path, done = one_click(api, mail)
    assert path.startswith("/subscriptions/never/") and done.status_code == 200
    address = db.session.scalar(
        select(Address).where(Address.email_hash == vault().lookup_hash(READER))
    )
    assert address is not None and address.suppressed_at is not None
