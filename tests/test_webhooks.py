"""Webhooks (#17) against a real HTTP receiver on 127.0.0.1, through the durable outbox and
the mail worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, text

from widget.extensions import db
from widget.models import DROPPED, FAILED, QUEUED, SENT, WEBHOOK, Comment, Delivery, Site
from widget.moderation import moderate

from .conftest import Api, comment_payload
from .live import free_port
from .smtp import run_worker
from .webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent
HOOK_SECRET = "receiver-shared-secret-0123456789"
READER_EMAIL = "ada.lovelace@example.org"
READER_IP = "203.0.113.77"
#: Everything a hostile reader might try in a chat room: markup, mentions, masked links.
HOSTILE = (
    "<script>alert(1)</script> @everyone @here @room <!channel> <@U123> "
    "[click me](https://evil.example/phish) `[masked](https://evil.example/x)` **bold** "
    "<b>bold</b> &amp; ~~x~~ || spoiler || # heading"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def add_hook(
    runner: FlaskCliRunner,
    url: str,
    fmt: str = "generic",
    events: str = "published,held,spam",
) -> int:
    result = runner.invoke(
        args=["webhooks", "add", "default", url, "--format", fmt, "--events", events]
        + ["--secret", HOOK_SECRET]
    )
    assert result.exit_code == 0, result.output
    match = re.search(r"Added webhook (\d+)", result.output)
    assert match, result.output
    return int(match.group(1))


def post(api: Api, **fields: Any) -> int:
    """A reader's post from a known IP with a known address; returns the comment's id."""
    fields.setdefault("email", READER_EMAIL)
    response = api.client.post(
        "/api/comments",
        json=comment_payload(**fields),
        environ_base={"REMOTE_ADDR": READER_IP},
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["comment"]["id"])


def hook_rows() -> list[Delivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Delivery).where(Delivery.kind == WEBHOOK).order_by(Delivery.id))
    )


def clock(app: Flask) -> Any:
    return app.extensions["parley_clock"]


def verify(secret: str, received: Any, now: float, tolerance: int = 300) -> None:
    """What a receiver does (docs/webhooks.md): HMAC over the raw bytes, a fresh timestamp."""
    timestamp = received.headers["X-Parley-Timestamp"]
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256)
    assert hmac.compare_digest(received.headers["X-Parley-Signature"], "sha256=" + mac.hexdigest())
    assert abs(now - int(timestamp)) <= tolerance


def assert_private(body: bytes) -> None:
    """No reader address (nor its local part) and no IP, however encoded."""
    for secret in (READER_EMAIL, "ada.lovelace", READER_IP, "203.0.113"):
        assert secret.encode() not in body
    assert hashlib.md5(READER_EMAIL.encode()).hexdigest().encode() not in body  # noqa: S324


# --- the generic format, end to end ------------------------------------------------------


def test_reader_post_reaches_the_receiver_once_signed(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    add_hook(runner, receiver.url("/parley?x=1"))
    started = time.time()
    comment_id = post(api, body="Hello *receiver*.", website="https://ada.example")
    assert run_worker() == 1
    latency_ms = (receiver.received()[0].at - started) * 1000
    assert run_worker() == 0  # nothing left, nothing twice

    [got] = receiver.received()
    assert got.method == "POST" and got.path == "/parley?x=1"
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    assert got.headers["X-Parley-Event"] == "published"
    verify(HOOK_SECRET, got, clock(app).time())
    body = got.json()
    assert body["event"] == "published" and body["site"] == "default"
    assert body["thread"] == {
        "key": "/2026/hello",
        "title": "Hello world",
        "url": "https://blog.example/2026/hello",
    }
    comment = body["comment"]
    assert comment["id"] == comment_id and comment["parent_id"] is None
    assert comment["author"] == "Ada" and comment["website"] == "https://ada.example"
    assert comment["html"] == "<p>Hello <em>receiver</em>.</p>"
    assert comment["text"] == "Hello receiver."
    assert comment["status"] == "approved" and comment["role"] is None
    assert comment["url"] == f"https://blog.example/2026/hello#parley-{comment_id}"
    assert body["admin_url"] == f"http://parley.test/admin/comments/{comment_id}"
    assert got.headers["X-Parley-Delivery"] == str(body["delivery"])
    assert_private(got.body)
    [row] = hook_rows()
    assert row.status == SENT and row.attempts == 1 and row.lease_until is None
    assert re.fullmatch(r"HTTP 204 in \d+ ms", row.last_error)
    print(f"\n[webhooks {db.engine.dialect.name}] post -> receiver: {latency_ms:.1f} ms")


def test_a_tampered_body_or_an_old_timestamp_fails_verification(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    [got] = receiver.received()
    tampered = type(got)(got.method, got.path, got.headers, got.body.replace(b"Ada", b"Eve"), 0)
    with pytest.raises(AssertionError):
        verify(HOOK_SECRET, tampered, clock(app).time())
    with pytest.raises(AssertionError):  # replayed six minutes later
        verify(HOOK_SECRET, got, clock(app).time() + 360)
    with pytest.raises(AssertionError):
        verify("another-secret-0123456789", got, clock(app).time())


def test_held_then_approved_sends_held_then_published(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    db.session.scalars(select(Site)).one().moderation = "all"
    db.session.commit()
    add_hook(runner, receiver.url())
    comment_id = post(api)
    run_worker()
    comment = db.session.get(Comment, comment_id)
    assert comment is not None
    moderate(comment, "approve", "admin:test")
    moderate(comment, "spam", "admin:test")
    moderate(comment, "approve", "admin:test")  # "published" again: already queued once
    run_worker()
    events = [(r.json()["event"], r.json()["comment"]["status"]) for r in receiver.received()]
    assert events == [("held", "pending"), ("published", "approved")]
    assert [r.event for r in hook_rows()] == ["held", "published"]


def test_only_the_events_a_hook_wants(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    db.session.scalars(select(Site)).one().moderation = "all"
    db.session.commit()
    add_hook(runner, receiver.url("/published-only"), events="published")
    post(api)
    assert run_worker() == 0 and receiver.received() == []


def test_a_comment_unpublished_before_sending_is_dropped(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    add_hook(runner, receiver.url())
    comment = db.session.get(Comment, post(api))
    assert comment is not None
    moderate(comment, "spam", "admin:test")
    run_worker()
    assert receiver.received() == []
    assert [(r.status, r.attempts) for r in hook_rows()] == [(DROPPED, 0)]


def test_webhooks_go_out_while_the_smtp_server_is_down(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens
    db.session.scalars(select(Site)).one().moderation = "all"
    db.session.commit()
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    assert [r.json()["event"] for r in receiver.received()] == ["held"]


# --- retries, failures, never twice ------------------------------------------------------


def test_receiver_down_then_up_is_delivered_once_after_the_backoff(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    receiver = Receiver()  # its port is closed for now
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    [row] = hook_rows()
    assert row.status == QUEUED and row.attempts == 1
    assert re.fullmatch(
        r"connection failed \(ConnectionRefusedError\) after \d+ ms", row.last_error
    )
    wait = (row.next_attempt_at - row.created_at).total_seconds()
    assert 59 <= wait <= 61  # MAIL_BACKOFF_BASE
    receiver.start()
    try:
        assert run_worker() == 0  # not due yet
        clock(app).advance(61)
        assert run_worker() == 1
        assert run_worker() == 0
        [got] = receiver.received()
        verify(HOOK_SECRET, got, clock(app).time())
        [row] = hook_rows()
        assert row.status == SENT and row.attempts == 2
    finally:
        receiver.stop()
    print(f"\n[webhooks {db.engine.dialect.name}] receiver down: retried after {wait:.0f} s")


@pytest.mark.parametrize("app_config", [{"MAIL_MAX_ATTEMPTS": 4}])
def test_500s_back_off_then_fail_after_the_last_try(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.default = 500
    add_hook(runner, receiver.url())
    post(api)
    waits = []
    for _ in range(6):
        run_worker()
        [row] = hook_rows()
        if row.status != QUEUED:
            break
        waits.append(round((row.next_attempt_at - clock(app).utcnow()).total_seconds()))
        clock(app).advance(waits[-1] + 1)
    [row] = hook_rows()
    assert row.status == FAILED and row.attempts == 4
    assert re.fullmatch(r"HTTP 500 in \d+ ms", row.last_error)
    assert len(receiver.received()) == 4
    assert waits == [60, 120, 240]  # the mail's backoff: base * 2 ** (attempt - 1)
    assert run_worker() == 0
    print(f"\n[webhooks {db.engine.dialect.name}] 500s: waits {waits} s, then failed")


def test_a_400_fails_at_once(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.default = 400
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    clock(app).advance(86400)
    run_worker()
    [row] = hook_rows()
    assert row.status == FAILED and row.attempts == 1 and row.last_error.startswith("HTTP 400")
    assert len(receiver.received()) == 1


def test_a_429_waits_as_long_as_the_receiver_asks(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.answers = [(429, {"Retry-After": "900"})]
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    [row] = hook_rows()
    assert row.status == QUEUED
    assert 899 <= (row.next_attempt_at - clock(app).utcnow()).total_seconds() <= 900
    clock(app).advance(901)
    run_worker()
    assert [r.status for r in hook_rows()] == [SENT] and len(receiver.received()) == 2


@pytest.mark.parametrize("app_config", [{"WEBHOOK_TIMEOUT": 0.3}])
def test_a_receiver_that_does_not_answer_in_time_is_retried(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.delay = 1.0
    add_hook(runner, receiver.url())
    post(api)
    run_worker()
    [row] = hook_rows()
    assert row.status == QUEUED and row.last_error.startswith("timed out (0.3 s)")


def test_redirects_elsewhere_are_not_followed(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    elsewhere = Receiver().start()
    try:
        receiver.answers = [(302, {"Location": elsewhere.url("/stolen")})]
        receiver.default = (307, {"Location": elsewhere.url("/stolen")})
        add_hook(runner, receiver.url("/a"))
        add_hook(runner, receiver.url("/b"))
        post(api)
        run_worker()
        assert elsewhere.received() == []
        assert [r.status for r in hook_rows()] == [FAILED, FAILED]
        assert "redirect not followed" in hook_rows()[0].last_error
    finally:
        elsewhere.stop()


def test_a_same_origin_307_keeps_method_and_body(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.answers = [(307, {"Location": receiver.url("/moved")}), (308, {"Location": "again"})]
    add_hook(runner, receiver.url("/old"))
    post(api)
    run_worker()
    first, second, third = receiver.received()
    assert (first.path, second.path, third.path) == ("/old", "/moved", "/again")
    assert third.body == first.body
    assert second.method == "POST" and second.body == first.body
    verify(HOOK_SECRET, second, clock(app).time())
    assert [r.status for r in hook_rows()] == [SENT]


def test_two_workers_and_a_repeated_event_post_once(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.delay = 0.3  # both workers are at it while the first post is on the wire
    add_hook(runner, receiver.url())
    comment = db.session.get(Comment, post(api))
    site = db.session.scalars(select(Site)).one()
    assert comment is not None
    from widget.webhooks import queue_event

    queue_event(comment, site, "published")  # raised again: the unique row stays one
    db.session.commit()
    counts: list[int] = []

    def work() -> None:
        with app.app_context():
            counts.append(run_worker())

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert sorted(counts) == [0, 1]
    assert len(receiver.received()) == 1 and len(hook_rows()) == 1


@pytest.mark.parametrize("app_config", [{"MAIL_LEASE_SECONDS": 1}])
def test_slow_receivers_never_outlast_a_claim(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    """Each post takes 0.6 s and a claim lasts 1 s: a worker that sent its whole batch would
    still be posting when another worker may take the same rows again. It stops at half
    the lease and gives the rest back instead."""
    receiver.delay = 0.6
    for i in range(4):
        add_hook(runner, receiver.url(f"/slow/{i}"))
    post(api)
    done = threading.Event()

    def work() -> None:
        with app.app_context():
            while not done.is_set():
                run_worker()
                time.sleep(0.05)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20
    while len(receiver.received()) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # a lapsed claim would be taken (and posted) again by now
    done.set()
    for worker in workers:
        worker.join(10)
    paths = sorted(r.path for r in receiver.received())
    assert paths == [f"/slow/{i}" for i in range(4)]
    assert [r.status for r in hook_rows()] == [SENT] * 4


def test_a_hook_sealed_under_another_key_fails_clearly(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    add_hook(runner, receiver.url())
    db.session.execute(text("UPDATE webhooks SET url_enc = 'g1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"))
    db.session.commit()
    post(api)
    run_worker()
    [row] = hook_rows()
    assert row.status == FAILED and "cannot be decrypted" in row.last_error
    assert "(cannot be decrypted)" in runner.invoke(args=["webhooks", "list"]).output


def test_a_removed_hook_takes_its_queue_along(app: Flask, api: Api, runner: FlaskCliRunner) -> None:
    hook_id = add_hook(runner, Receiver().url())
    post(api)
    run_worker()
    assert [r.status for r in hook_rows()] == [QUEUED]
    assert runner.invoke(args=["webhooks", "remove", str(hook_id)]).exit_code == 0
    assert hook_rows() == []


# --- chat formats: their shapes, and hostile text made inert -----------------------------


def chat(app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver, fmt: str, path: str):  # type: ignore[no-untyped-def]
    add_hook(runner, receiver.url(path), fmt=fmt)
    post(api, author="Eve <b>@everyone</b> *x*", body=HOSTILE, title="T <i>title</i> @here")
    run_worker()
    [got] = receiver.received()
    assert_private(got.body)
    verify(HOOK_SECRET, got, clock(app).time())  # every format is signed
    return got, got.json()


def test_slack_text_is_mrkdwn_with_markup_escaped(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    got, body = chat(app, api, runner, receiver, "slack", "/services/T0/B0/XXXX")
    assert got.method == "POST" and set(body) == {"text", "unfurl_links", "unfurl_media"}
    assert body["unfurl_links"] is False and body["unfurl_media"] is False
    message = body["text"]
    # A word joiner (U+2060) keeps "@name" from pinging and "*x*" from turning bold in
    # Slack, Mattermost and Rocket.Chat alike.
    j = "\u2060"
    assert message.startswith(
        f"*New comment* by Eve &lt;b&gt;@{j}everyone&lt;/b&gt; {j}*x{j}* on <"
    )
    # No "<" but ours: two links (the comment, Moderate); every reader "<" is "&lt;".
    links = re.findall(r"<[^>]*>", message)
    assert len(links) == 2
    assert re.fullmatch(
        r"<https://blog\.example/2026/hello#parley-\d+\|T &lt;i&gt;title&lt;/i&gt; @\u2060here>",
        links[0],
    )
    assert re.fullmatch(r"<http://parley\.test/admin/comments/\d+\|Moderate>", links[1])
    assert f"&lt;!channel&gt; &lt;@{j}U123&gt;" in message and "&lt;script&gt;" in message
    assert "\n&gt; " in message  # the comment is quoted


def test_discord_content_pings_nobody_and_escapes_markdown(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    got, body = chat(app, api, runner, receiver, "discord", "/api/webhooks/1/token")
    assert set(body) == {"content", "allowed_mentions", "flags"}
    assert body["allowed_mentions"] == {"parse": []} and body["flags"] == 4
    content = body["content"]
    assert len(content) <= 2000
    assert content.startswith("**New comment** by Eve \\<b\\>\\@everyone\\</b\\> \\*x\\* on ")
    assert "@everyone" not in content.replace("\\@everyone", "")
    assert "click me \\(https\\://evil.example/phish\\)" in content  # shown, not linked
    assert "](" not in content and "\\[masked\\]\\(https\\://evil.example/x\\)" in content
    assert "<script>" not in content and "\\<b\\>bold\\</b\\>" in content
    assert "\\|\\| spoiler \\|\\|" in content


def test_discord_content_of_a_long_comment_fits_2000_characters(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    add_hook(runner, receiver.url(), fmt="discord")
    post(api, body="\n\n".join(["@x|y:(z) " * 60] * 10))
    run_worker()
    content = receiver.received()[0].json()["content"]
    assert len(content) <= 2000 and content.endswith(">")  # the Moderate link survives
    assert "\\@x\\|y\\:\\(z\\)" in content and "…" in content


def test_matrix_client_api_url_gets_a_put_with_a_transaction_id(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    path = "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message?access_token=syt_SECRET"
    got, body = chat(app, api, runner, receiver, "matrix", path)
    [row] = hook_rows()
    assert got.method == "PUT"
    assert got.path == (
        f"/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/parley-{row.id}-"
        f"{row.created_at:%Y%m%d%H%M%S}"
    )
    assert got.headers["Authorization"] == "Bearer syt_SECRET"  # not in the URL
    assert set(body) == {"msgtype", "body", "format", "formatted_body", "m.mentions"}
    assert body["msgtype"] == "m.notice" and body["m.mentions"] == {}
    assert body["format"] == "org.matrix.custom.html"
    html = body["formatted_body"]
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"strong", "a", "blockquote", "br"}
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "@room" not in body["body"] and "@\u2060room" in body["body"]


def test_a_retried_matrix_put_keeps_its_transaction_id(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    receiver.answers = [502]
    add_hook(runner, receiver.url("/_matrix/client/v3/rooms/!r:x/send/m.room.message"), "matrix")
    post(api)
    run_worker()
    clock(app).advance(61)
    run_worker()
    first, second = receiver.received()
    assert first.path == second.path and first.body == second.body
    assert "Authorization" not in second.headers  # no token in the URL: none sent


def test_matrix_hookshot_url_gets_a_post_with_text_and_html(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    got, body = chat(app, api, runner, receiver, "matrix", "/webhook/abcdef")
    assert got.method == "POST" and got.path == "/webhook/abcdef"
    assert body["text"] == body["body"] and body["html"] == body["formatted_body"]
    assert body["username"] == "Parley"


def test_telegram_sends_escaped_html(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    got, body = chat(app, api, runner, receiver, "telegram", "/bot123:ABC/sendMessage?chat_id=-42")
    assert got.path == "/bot123:ABC/sendMessage?chat_id=-42"
    assert body["chat_id"] == "-42" and body["parse_mode"] == "HTML"
    assert body["link_preview_options"] == {"is_disabled": True}
    # Telegram's HTML: only our <b> and <a>; everything the reader wrote is escaped.
    assert set(re.findall(r"</?([a-z]+)", body["text"])) == {"b", "a"}
    assert "&lt;script&gt;" in body["text"]
    assert body["text"].startswith("<b>New comment</b> by Eve &lt;b&gt;@\u2060everyone&lt;/b&gt;")
    assert "@here" not in body["text"] and "@everyone" not in body["text"]


def test_generic_payload_carries_sanitized_html_only(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    _got, body = chat(app, api, runner, receiver, "generic", "/hook")
    assert "<script" not in body["comment"]["html"]
    assert "<script>" in body["comment"]["text"]  # the text is text: the receiver escapes it


# --- the CLI -----------------------------------------------------------------------------


def test_cli_add_list_test_remove(
    app: Flask, runner: FlaskCliRunner, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    result = runner.invoke(
        args=["webhooks", "add", "default", receiver.url("/secret-path?token=T0K3N")]
    )
    assert result.exit_code == 0, result.output
    hook_id = int(re.search(r"Added webhook (\d+)", result.output).group(1))  # type: ignore[union-attr]
    secret = re.search(r"^secret: (\S+)$", result.output, re.M).group(1)  # type: ignore[union-attr]
    assert len(secret) >= 40 and "T0K3N" not in result.output
    # Sealed at rest: neither the URL's token nor the secret is in the table.
    raw = " ".join(str(v) for v in db.session.execute(text("SELECT * FROM webhooks")).one())
    assert "T0K3N" not in raw and secret not in raw

    listing = runner.invoke(args=["webhooks", "list"]).output
    assert listing.startswith(f"{hook_id}\tdefault\tgeneric\tpublished,held\t")
    assert f"http://127.0.0.1:{receiver.port}/…" in listing and "last: none yet" in listing
    assert "secret-path" not in listing and "T0K3N" not in listing

    with caplog.at_level(logging.INFO):
        result = runner.invoke(args=["webhooks", "test", str(hook_id)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"Test delivery \d+: sent \(HTTP 204 in \d+ ms\)\n", result.output)
    [got] = receiver.received()
    verify(secret, got, clock(app).time())
    assert got.json()["event"] == "test" and got.json()["comment"] is None
    assert "T0K3N" not in caplog.text and "secret-path" not in caplog.text
    assert "sent (test, HTTP 204" in runner.invoke(args=["webhooks", "list", "default"]).output
    assert run_worker() == 0  # the test was not left for the worker to send again

    receiver.default = 503
    result = runner.invoke(args=["webhooks", "test", str(hook_id)])
    assert result.exit_code == 1 and "failed (HTTP 503" in result.output
    assert run_worker() == 0  # a test is tried once

    assert runner.invoke(args=["webhooks", "remove", str(hook_id)]).output == (
        f"Removed webhook {hook_id}.\n"
    )
    assert runner.invoke(args=["webhooks", "list"]).output == "No webhooks.\n"
    result = runner.invoke(args=["webhooks", "test", str(hook_id)])
    assert result.exit_code == 1 and f"No webhook with id {hook_id}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "https://x.example/h"], "No site named 'nosuch'"),
        (["default", "http://hooks.example/h"], "Use https://"),
        (["default", "ftp://hooks.example/h"], "starts with https://"),
        (["default", "https://u:p@hooks.example/h"], "no user name or password"),
        (["default", "https://hooks.example/h", "--events", "published,boo"], "unknown: boo"),
        (["default", "https://hooks.example/h", "--events", ","], "comma-separated choice"),
        (["default", "https://hooks.example/h", "--secret", "short"], "at least 16"),
        (["default", "https://hooks.example/h", "--format", "irc"], "Invalid value"),
        (
            ["default", "https://api.telegram.org/bot1:A/sendMessage", "--format", "telegram"],
            "chat_id",
        ),
        (
            ["default", "https://api.telegram.org/sendMessage?chat_id=1", "--format", "telegram"],
            "bot<token>",
        ),
        (["default", "https://hooks.example:99999/h"], "port"),
    ],
)
def test_cli_add_refuses_with_a_clear_message(
    app: Flask, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["webhooks", "add", *args])
    assert result.exit_code != 0 and message in result.output, result.output


def test_cli_add_accepts_http_on_loopback_or_when_allowed_and_refuses_duplicates(
    app: Flask, runner: FlaskCliRunner
) -> None:
    for url in ("http://localhost:9/h", "http://[::1]:9/h", "http://127.0.0.2/h"):
        assert runner.invoke(args=["webhooks", "add", "default", url]).exit_code == 0
    result = runner.invoke(
        args=["webhooks", "add", "default", "http://hookshot:9000/w", "--allow-http"]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["webhooks", "add", "default", "http://localhost:9/h"])
    assert again.exit_code == 1 and "has this webhook already" in again.output


# --- the receivers docs/webhooks.md shows -------------------------------------------------


def doc_block(lang: str) -> str:
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    [block] = re.findall(rf"```{lang}\n(.*?)```", text, re.S)
    return str(block)


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the documented receiver did not start: {process.poll()}")


@pytest.mark.parametrize("lang", ["python", "js"])
def test_the_documented_receivers_verify_real_deliveries(
    app: Flask, api: Api, runner: FlaskCliRunner, tmp_path: Path, lang: str
) -> None:
    command = {"python": sys.executable, "js": shutil.which("node")}[lang]
    if command is None:
        pytest.skip("node is not installed")
    script = tmp_path / f"receiver.{lang[:2]}"
    script.write_text(doc_block(lang), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "WEBHOOK_SECRET": HOOK_SECRET, "PORT": str(port)}
    receiver = subprocess.Popen([command, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, receiver)
        hook_id = add_hook(runner, f"http://127.0.0.1:{port}/parley")
        result = runner.invoke(args=["webhooks", "test", str(hook_id)])
        assert "sent (HTTP 204" in result.output, result.output
        comment_id = post(api)
        run_worker()
        assert [r.status for r in hook_rows()] == [SENT, SENT]

        # What an attacker sends: a forged signature, then a captured delivery replayed.
        def send(timestamp: str, signature: str, body: bytes) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/parley",
                data=body,
                method="POST",
                headers={"X-Parley-Timestamp": timestamp, "X-Parley-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return int(answer.status)
            except urllib.error.HTTPError as exc:
                return exc.code

        now = str(int(time.time()))
        assert send(now, "sha256=" + "0" * 64, b'{"event":"test"}') == 401
        old = str(int(time.time()) - 301)
        body = b'{"event":"test","comment":null}'
        signed = hmac.new(HOOK_SECRET.encode(), old.encode() + b"." + body, hashlib.sha256)
        assert send(old, "sha256=" + signed.hexdigest(), body) == 401
        fresh = hmac.new(HOOK_SECRET.encode(), now.encode() + b"." + body, hashlib.sha256)
        assert send(now, "sha256=" + fresh.hexdigest(), body) == 204
    finally:
        receiver.terminate()
        output, _ = receiver.communicate(timeout=10)
    lines = output.splitlines()
    assert lines[0] in ("test None", "test null")
    assert lines[1] == f"published https://blog.example/2026/hello#parley-{comment_id}"


# --- figures for the closing note --------------------------------------------------------


def test_measure_delivery_latency(
    app: Flask, api: Api, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    """Post → receiver with the worker run right after each post (in-process): the cost of
    queueing, claiming, building, signing and posting. Printed (pytest -s)."""
    add_hook(runner, receiver.url())
    latencies = []
    for i in range(20):
        started = time.time()
        post(api, body=f"Comment {i}")
        run_worker()
        latencies.append((receiver.received()[-1].at - started) * 1000)
    assert len(receiver.received()) == 20
    latencies.sort()
    print(
        f"\n[webhooks {db.engine.dialect.name}] post -> receiver over 20 posts: "
        f"median {statistics.median(latencies):.1f} ms, max {latencies[-1]:.1f} ms"
    )
    rows = hook_rows()
    assert all(r.status == SENT for r in rows)
    answer_ms = [int(re.search(r"in (\d+) ms", r.last_error).group(1)) for r in rows]  # type: ignore[union-attr]
    print(f"[webhooks] receiver answer time: median {statistics.median(answer_ms)} ms")


def test_a_hook_on_an_ipv6_address_is_listed_with_its_brackets(runner: FlaskCliRunner) -> None:
    added = runner.invoke(args=["webhooks", "add", "default", "http://[::1]:9/hook/T0K3N"])
    assert added.exit_code == 0, added.output
    listing = runner.invoke(args=["webhooks", "list"]).output
    assert "http://[::1]:9/…" in listing and "T0K3N" not in listing
