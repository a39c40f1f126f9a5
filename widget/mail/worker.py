"""The queue worker: claims due deliveries, sends them, records each outcome."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..addresses import AddressRefused, normalize_address
from ..extensions import db
from ..models import (
    APPROVED,
    CONFIRM,
    DIGEST,
    DROPPED,
    FAILED,
    NOTIFY,
    OWNER,
    OWNER_DIGEST,
    QUEUED,
    SENT,
    Address,
    Comment,
    Delivery,
    Site,
    Subscription,
    utcnow,
)
from ..vault import vault
from .messages import (
    build_confirmation,
    build_digest,
    build_notification,
    build_owner_digest,
    build_owner_mail,
)
from .transport import PermanentFailure, SmtpSession, TemporaryFailure, Undeliverable

log = logging.getLogger(__name__)


def claim_due(limit: int) -> list[int]:
    """Claim up to `limit` due rows for this worker; concurrent workers never get the same row."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == QUEUED,
            Delivery.kind != DIGEST,  # digests collect their rows per subscriber (below)
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
    """Send one claimed delivery and record the outcome on the row (the caller commits).

    Whatever goes wrong with this one message fails this delivery only: the queue goes on.
    """
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
    except Undeliverable as exc:
        delivery.status, delivery.last_error = FAILED, str(exc)
    except SQLAlchemyError:
        raise  # the database is away: the worker's loop waits for it
    except Exception as exc:  # noqa: BLE001 - one bad message must never stop all mail
        delivery.status = FAILED
        delivery.last_error = f"could not build or send this mail ({type(exc).__name__})"
    delivery.attempts += 1 if delivery.status != DROPPED else 0
    delivery.lease_until = None
    log.info("mail %s (%s): %s", delivery.id, delivery.kind, _outcome(delivery))
    return delivery.status


def _outcome(delivery: Delivery) -> str:
    if delivery.status == QUEUED:
        return f"retry at {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S} ({delivery.last_error})"
    if delivery.status == FAILED:
        return f"failed ({delivery.last_error})"
    return str(delivery.status)


def _retry_later(delivery: Delivery, error: str) -> None:
    delivery.last_error = error
    attempts = delivery.attempts + 1
    if attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        delivery.status = FAILED
        return
    base = float(current_app.config["MAIL_BACKOFF_BASE"])
    delivery.next_attempt_at = utcnow() + timedelta(seconds=min(base * 2 ** (attempts - 1), 86400))


def _paused(address: Address) -> bool:
    return address.paused_until is not None and address.paused_until > utcnow()


def recipient(stored: str) -> str:
    """The address to hand to SMTP for a stored one: its ASCII form where there is one.

    Raises Undeliverable for an address that cannot be sent safely (stored before the
    checks that refuse it now existed, or imported).
    """
    try:
        address = normalize_address(stored)
    except AddressRefused as exc:
        raise Undeliverable(f"address refused: {exc}") from exc
    return address.ascii or address.canonical


def _prepare(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    """Build the message, or None when it should no longer be sent (re-checked just before)."""
    if delivery.kind == NOTIFY:
        subscription = db.session.get(Subscription, delivery.subscription_id)
        comment = db.session.get(Comment, delivery.comment_id)
        if (
            subscription is None
            or comment is None
            or not subscription.active
            or subscription.confirmed_at is None
            or comment.status != APPROVED
            or subscription.address.suppressed_at
            or _paused(subscription.address)
        ):
            return None
        to = recipient(vault().decrypt(subscription.address.email_enc))
        return build_notification(subscription, comment, to), to
    if delivery.kind == CONFIRM:
        address = db.session.get(Address, delivery.address_id)
        subscription = db.session.get(Subscription, delivery.subscription_id)
        if (
            address is None
            or address.suppressed_at
            or subscription is None
            or not subscription.active
            or subscription.confirmed_at is not None
        ):
            return None
        to = recipient(vault().decrypt(address.email_enc))
        return build_confirmation(delivery, address, to), to
    if delivery.kind in (OWNER, OWNER_DIGEST):
        return _prepare_owner_mail(delivery)
    return None


def _prepare_owner_mail(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    site = db.session.get(Site, delivery.site_id)
    if site is None or not site.owner_email_enc:
        return None
    to = recipient(vault().decrypt(site.owner_email_enc))
    if delivery.kind == OWNER_DIGEST:
        digest = build_owner_digest(delivery, site, to)
        return (digest, to) if digest is not None else None
    comment = db.session.get(Comment, delivery.comment_id)
    if comment is None:
        return None
    return build_owner_mail(comment, to), to


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
        """Claim and send one batch over one SMTP connection, then the digests that are
        due. Returns how many deliveries were handled."""
        self.reconcile()
        ids = claim_due(int(current_app.config["MAIL_BATCH_SIZE"]))
        self.claimed = set(ids)
        config = current_app.config
        with SmtpSession(config["SMTP_URL"], config["SMTP_TIMEOUT"]) as smtp:
            for delivery_id in ids:
                delivery = db.session.get(Delivery, delivery_id)
                if delivery is not None and delivery.status == QUEUED:
                    self._deliver(delivery, smtp)
                self.claimed.discard(delivery_id)
            return len(ids) + send_digests(smtp, int(config["MAIL_BATCH_SIZE"]))

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


# --- daily digests ------------------------------------------------------------------


def send_digests(smtp: SmtpSession, limit: int) -> int:
    """Send the digests that are due, one mail per subscriber listing every comment it has
    not sent yet; returns how many rows were handled."""
    now = utcnow()
    subscribers = db.session.scalars(
        select(Delivery.subscription_id)
        .where(_due_digest_rows(now))
        .group_by(Delivery.subscription_id)
        .limit(limit)
    ).all()
    return sum(
        _send_digest(subscription_id, smtp) for subscription_id in subscribers if subscription_id
    )


def _due_digest_rows(now: datetime) -> Any:
    return and_(
        Delivery.kind == DIGEST,
        Delivery.status == QUEUED,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    )


def _send_digest(subscription_id: int, smtp: SmtpSession) -> int:
    """Claim one subscriber's due rows (a lease, as for single mails: a second worker gets
    none of them), send them as one mail, and mark them all at once."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    ids = db.session.scalars(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, _due_digest_rows(now))
        .values(lease_until=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    if not ids:
        return 0
    rows = db.session.scalars(select(Delivery).where(Delivery.id.in_(ids))).all()
    outcome = _digest_outcome(subscription_id, rows, smtp)
    for row in rows:
        row.status, row.lease_until = outcome, None
        row.attempts += 1 if outcome != DROPPED else 0
        if outcome == SENT:
            row.sent_at = utcnow()
        elif outcome == QUEUED:
            row.next_attempt_at = utcnow() + timedelta(minutes=30)
    db.session.commit()
    log.info("digest of %s mails for subscription %s: %s", len(rows), subscription_id, outcome)
    return len(rows)


def _digest_outcome(subscription_id: int, rows: Sequence[Delivery], smtp: SmtpSession) -> str:
    subscription = db.session.get(Subscription, subscription_id)
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_([r.comment_id for r in rows]), Comment.status == APPROVED)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    if (
        subscription is None
        or not comments
        or not subscription.active
        or subscription.confirmed_at is None
        or subscription.address.suppressed_at
        or _paused(subscription.address)
    ):
        return DROPPED
    try:
        to = recipient(vault().decrypt(subscription.address.email_enc))
        smtp.send(build_digest(subscription, list(comments), to), to)
    except TemporaryFailure:
        return QUEUED
    except SQLAlchemyError:
        raise
    except Exception:  # noqa: BLE001 - one bad digest never stops the queue
        return FAILED
    return SENT
