"""Outgoing mail: building standard, threaded messages, and the worker that sends the queue."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import nh3
from flask import current_app, render_template
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import (
    APPROVED,
    CONFIRM,
    DROPPED,
    FAILED,
    NOTIFY,
    OWNER,
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
from .render import plain_text
from .tokens import make_token
from .vault import vault

log = logging.getLogger(__name__)

MAIL_TAGS = {"p", "br", "em", "strong", "a", "code", "pre", "blockquote", "ul", "ol", "li"}


class PermanentFailure(Exception):
    """The server refused this recipient for good (a 5xx reply)."""


class TemporaryFailure(Exception):
    """Try again later: connection refused, timeout, dropped connection, a 4xx reply."""


# --- building messages --------------------------------------------------------------


def header_text(value: str, limit: int = 200) -> str:
    """One line, no CR/LF: a name or a title can never add a header."""
    return " ".join(value.split())[:limit]


def _public(path: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}{path}"


def _mail_domain() -> str:
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def comment_message_id(comment_id: int) -> str:
    return f"<comment-{comment_id}@{_mail_domain()}>"


def thread_message_id(thread: Thread) -> str:
    return f"<thread-{thread.id}@{_mail_domain()}>"


def comment_link(thread: Thread, comment: Comment) -> str:
    if thread.url:
        return f"{thread.url}#parley-{comment.id}"
    site = db.session.get(Site, thread.site_id)
    name = site.name if site else ""
    return _public(f"/threads?site={quote(name)}&thread={quote(thread.key)}#c{comment.id}")


def _base_message(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    return message


def _ancestors(comment: Comment) -> list[Comment]:
    chain: list[Comment] = []
    parent_id = comment.parent_id
    while parent_id is not None and len(chain) < 50:
        parent = db.session.get(Comment, parent_id)
        if parent is None:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return list(reversed(chain))


def build_notification(subscription: Subscription, comment: Comment, to: str) -> EmailMessage:
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    site = db.session.get(Site, thread.site_id)
    title = thread.title or thread.key
    unsubscribe_url = _public(f"/unsubscribe/{make_token('unsubscribe', {'s': subscription.id})}")
    manage_url = _public(f"/subscriptions/{make_token('manage', {'a': subscription.address_id})}")
    message = _base_message(to, f"New comment on {title}")
    message["Message-ID"] = comment_message_id(comment.id)
    ancestors = _ancestors(comment)
    root = thread_message_id(thread)
    message["In-Reply-To"] = comment_message_id(ancestors[-1].id) if ancestors else root
    message["References"] = " ".join([root] + [comment_message_id(c.id) for c in ancestors])
    label = f"thread-{thread.id}.{(site.name if site else 'site')}.{_mail_domain()}"
    message["List-Id"] = f"{header_text(title, 80)} comments <{_dot_atom(label)}>"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Precedence"] = "list"
    context = {
        "author": header_text(comment.author, 80) or "Someone",
        "title": title,
        "text": plain_text(comment.html),
        "html": nh3.clean(
            comment.html,
            tags=MAIL_TAGS,
            attributes={"a": {"href"}},
            url_schemes={"http", "https"},
            link_rel="nofollow noopener",
        ),
        "link": comment_link(thread, comment),
        "unsubscribe_url": unsubscribe_url,
        "manage_url": manage_url,
    }
    message.set_content(render_template("mail/notification.txt", **context))
    message.add_alternative(render_template("mail/notification.html", **context), subtype="html")
    return message


def build_confirmation(delivery: Delivery, address: Address, to: str) -> EmailMessage:
    subscription = db.session.get(Subscription, delivery.subscription_id)
    thread = subscription.thread if subscription else None
    payload: dict[str, Any] = {"a": address.id}
    if subscription:
        payload["s"] = subscription.id
    confirm_url = _public(f"/subscriptions/confirm/{make_token('confirm', payload)}")
    title = (thread.title or thread.key) if thread else "a comment thread"
    message = _base_message(to, f"Confirm your subscription to {title}")
    message["Message-ID"] = make_msgid(domain=_mail_domain())
    context = {"title": title, "confirm_url": confirm_url}
    message.set_content(render_template("mail/confirm.txt", **context))
    message.add_alternative(render_template("mail/confirm.html", **context), subtype="html")
    return message


def build_owner_mail(comment: Comment, to: str) -> EmailMessage:
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    title = thread.title or thread.key
    held = comment.status != APPROVED
    verb = "awaits moderation" if held else "was published"
    message = _base_message(to, f"A comment on {title} {verb}")
    message["Message-ID"] = make_msgid(domain=_mail_domain())
    moderate_url = _public(f"/moderate/{make_token('moderate', {'c': comment.id})}")
    context = {
        "author": header_text(comment.author, 80),
        "title": title,
        "verb": verb,
        "text": plain_text(comment.html),
        "reasons": comment.reasons,
        "moderate_url": moderate_url,
        "link": comment_link(thread, comment),
    }
    message.set_content(render_template("mail/owner.txt", **context))
    return message


def _dot_atom(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in label.lower())


# --- sending ----------------------------------------------------------------------


def _verified_tls() -> ssl.SSLContext:
    """Certificate and host name checked, as a browser would (smtplib alone checks neither,
    and would hand the SMTP password to anyone in the way). A relay with a private CA:
    point SSL_CERT_FILE at that CA's certificate."""
    return ssl.create_default_context()


class SmtpSession:
    """One SMTP connection reused for a batch; reconnects after a failure."""

    def __init__(self, url: str | None, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        assert self.url
        parts = urlsplit(self.url)
        options = parse_qs(parts.query)
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=self.timeout, context=_verified_tls()
            )
        else:
            smtp = smtplib.SMTP(host, parts.port or 25, timeout=self.timeout)
            if parts.scheme == "smtp+starttls" or options.get("starttls") == ["1"]:
                smtp.starttls(context=_verified_tls())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        return smtp

    def send(self, message: EmailMessage, to: str) -> None:
        if not self.url:
            _log_message(message)
            return
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            self._raise_for(code, f"recipient refused ({code})")
        except smtplib.SMTPResponseException as exc:
            self._reset()
            self._raise_for(exc.smtp_code, f"{exc.smtp_code} {exc.smtp_error!r}")
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._reset()
            raise TemporaryFailure(type(exc).__name__ + ": " + str(exc)[:200]) from exc

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    @staticmethod
    def _raise_for(code: int, text: str) -> None:
        if 500 <= code < 600:
            raise PermanentFailure(text)
        raise TemporaryFailure(text)


def _log_message(message: EmailMessage) -> None:
    # Development mode: the mail goes to the log, with the recipient hidden.
    shown = EmailMessage()
    for name, value in message.items():
        shown[name] = "<redacted>" if name.lower() == "to" else value
    text = message.get_body(("plain",))
    log.info(
        "mail (no PARLEY_SMTP_URL set):\n%s\n%s",
        "\n".join(f"{k}: {v}" for k, v in shown.items()),
        text.get_content() if text else "",
    )


def claim_due(limit: int) -> list[int]:
    """Claim up to `limit` due rows for this worker; concurrent workers never get the same row."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == QUEUED,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalars(
        update(Delivery)
        .where(
            Delivery.id.in_(due.scalar_subquery()),
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        )
        .values(lease_until=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def deliver(delivery: Delivery, smtp: SmtpSession) -> str:
    """Send one claimed delivery and record the outcome on the row (the caller commits)."""
    try:
        prepared = _prepare(delivery)
        if prepared is None:
            delivery.status = DROPPED
        else:
            message, to = prepared
            smtp.send(message, to)
            delivery.status, delivery.sent_at = SENT, utcnow()
    except PermanentFailure as exc:
        delivery.status, delivery.last_error = FAILED, str(exc)
        _suppress(delivery, str(exc))
    except TemporaryFailure as exc:
        _retry_later(delivery, str(exc))
    delivery.attempts += 1 if delivery.status != DROPPED else 0
    delivery.lease_until = None
    return delivery.status


def _retry_later(delivery: Delivery, error: str) -> None:
    delivery.last_error = error
    attempts = delivery.attempts + 1
    if attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        delivery.status = FAILED
        return
    base = float(current_app.config["MAIL_BACKOFF_BASE"])
    delivery.next_attempt_at = utcnow() + timedelta(seconds=min(base * 2 ** (attempts - 1), 86400))


def _prepare(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    """Build the message, or None when it should no longer be sent (re-checked just before)."""
    if delivery.kind == NOTIFY:
        subscription = db.session.get(Subscription, delivery.subscription_id)
        comment = db.session.get(Comment, delivery.comment_id)
        if (
            subscription is None
            or comment is None
            or not subscription.active
            or comment.status != APPROVED
            or subscription.address.suppressed_at
            or subscription.address.confirmed_at is None
        ):
            return None
        to = vault().decrypt(subscription.address.email_enc)
        return build_notification(subscription, comment, to), to
    if delivery.kind == CONFIRM:
        address = db.session.get(Address, delivery.address_id)
        if address is None or address.confirmed_at is not None or address.suppressed_at:
            return None
        to = vault().decrypt(address.email_enc)
        return build_confirmation(delivery, address, to), to
    if delivery.kind == OWNER:
        site = db.session.get(Site, delivery.site_id)
        comment = db.session.get(Comment, delivery.comment_id)
        if site is None or comment is None or not site.owner_email_enc:
            return None
        to = vault().decrypt(site.owner_email_enc)
        return build_owner_mail(comment, to), to
    return None


def _suppress(delivery: Delivery, reason: str) -> None:
    address_id = delivery.address_id
    if address_id is None and delivery.subscription_id is not None:
        subscription = db.session.get(Subscription, delivery.subscription_id)
        address_id = subscription.address_id if subscription else None
    address = db.session.get(Address, address_id) if address_id else None
    if address is not None and address.suppressed_at is None:
        address.suppressed_at, address.suppression_reason = utcnow(), reason[:500]


class Worker:
    """Sends the queue batch by batch and survives the database going away.

    If the database fails mid-batch, the worker remembers which rows it had claimed but not
    finished (their leases are released) and which mails the SMTP server had accepted but
    could not be recorded as sent (they are marked sent, not sent again) once it is back.
    """

    def __init__(self) -> None:
        self.claimed: set[int] = set()
        self.sent_unrecorded: set[int] = set()

    def reconcile(self) -> None:
        if self.sent_unrecorded:
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(self.sent_unrecorded))
                .values(
                    status=SENT, sent_at=utcnow(), lease_until=None, attempts=Delivery.attempts + 1
                )
            )
        if self.claimed:
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(self.claimed), Delivery.status == QUEUED)
                .values(lease_until=None)
            )
        db.session.commit()
        self.claimed.clear()
        self.sent_unrecorded.clear()

    def batch(self) -> int:
        """Claim and send one batch over one SMTP connection. Returns how many were handled."""
        self.reconcile()
        ids = claim_due(int(current_app.config["MAIL_BATCH_SIZE"]))
        self.claimed = set(ids)
        if not ids:
            return 0
        config = current_app.config
        with SmtpSession(config["SMTP_URL"], config["SMTP_TIMEOUT"]) as smtp:
            for delivery_id in ids:
                delivery = db.session.get(Delivery, delivery_id)
                if delivery is not None and delivery.status == QUEUED:
                    self._deliver(delivery, smtp)
                self.claimed.discard(delivery_id)
        return len(ids)

    def _deliver(self, delivery: Delivery, smtp: SmtpSession) -> None:
        delivery_id = delivery.id
        status = deliver(delivery, smtp)
        try:
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            if status == SENT:
                self.sent_unrecorded.add(delivery_id)
            raise


def run_worker(once: bool = False, interval: float = 2.0) -> int:
    """Send the queue; with once=True, stop when nothing is due."""
    worker, name = Worker(), uuid.uuid4().hex[:8]
    log.info("mail worker %s started", name)
    handled = 0
    while True:
        try:
            count = worker.batch()
        except SQLAlchemyError:
            # The database is away: keep what we know, wait, try again.
            log.warning("mail worker %s: database unavailable; retrying", name)
            db.session.rollback()
            if once:
                raise
            time.sleep(interval)
            continue
        handled += count
        if count == 0:
            if once:
                return handled
            time.sleep(interval)
