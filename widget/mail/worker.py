"""The queue worker: claims due deliveries, sends them, records each outcome."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import notices
from ..addresses import AddressRefused, normalize_address
from ..extensions import db
from ..mailboxes import get_or_create_address
from ..models import (
    APPROVED,
    APPROVED_NOTICE,
    CONFIRM,
    DIGEST,
    DROPPED,
    FAILED,
    NOTIFY,
    OWNER,
    OWNER_DIGEST,
    PRIVACY,
    QUEUED,
    SENT,
    SPAM,
    WEBHOOK,
    Address,
    Comment,
    Delivery,
    Site,
    Subscription,
    Thread,
    utcnow,
)
from ..vault import vault
from ..webhooks import deliver as post_webhook
from .messages import (
    build_approval_notice,
    build_confirmation,
    build_digest,
    build_notification,
    build_owner_digest,
    build_owner_mail,
    build_privacy_mail,
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
            # Digests collect their rows per subscriber or per site (below).
            Delivery.kind.not_in((DIGEST, OWNER_DIGEST)),
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


def _renew(delivery_id: int) -> bool:
    """Just before sending a claimed row: give it a whole lease again if its claim has not
    lapsed (then no other worker can have taken it). A row that waited behind slow ones
    past its lease is left to whoever claims it next: it is never sent twice. Commits."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    renewed = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_until > now)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def deliver(delivery: Delivery, smtp: SmtpSession) -> str:
    """Send one claimed delivery and record the outcome on the row (the caller commits).

    Whatever goes wrong with this one message fails this delivery only: the queue goes on.
    """
    if delivery.kind == WEBHOOK:
        return _deliver_webhook(delivery)
    outcome, error, permanent = _attempt(lambda: _send_one(delivery, smtp))
    if outcome == QUEUED:
        _retry_later(delivery, error)
    else:
        delivery.status = outcome
        if error:
            delivery.last_error = error
    if outcome == SENT:
        delivery.sent_at = utcnow()
    if permanent:
        _suppress(delivery, error)
    delivery.attempts += 1 if delivery.status != DROPPED else 0
    delivery.lease_until = None
    log.log(
        _level(delivery.status), "mail %s (%s): %s", delivery.id, delivery.kind, _outcome(delivery)
    )
    return delivery.status


def _send_one(delivery: Delivery, smtp: SmtpSession) -> str:
    prepared = _prepare(delivery)
    if prepared is None:
        return DROPPED
    smtp.send(*prepared)
    return SENT


#: What became of a mail (one, or a digest of many rows): its status, the error to record,
#: and whether the server refused the address for good (it is then suppressed).
Outcome = tuple[str, str, bool]
NOT_SENT: Outcome = (DROPPED, "", False)


def _attempt(send: Callable[[], str]) -> Outcome:
    """Run `send` (SENT, or DROPPED when the mail is no longer due) and say what became of
    it: a temporary failure is QUEUED (the caller retries), any other failure fails this mail
    alone, never the queue; the database going away is the worker loop's to wait out."""
    try:
        return send(), "", False
    except PermanentFailure as exc:
        return FAILED, str(exc), True
    except TemporaryFailure as exc:
        return QUEUED, str(exc), False
    except Undeliverable as exc:
        return FAILED, str(exc), False
    except SQLAlchemyError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message must never stop all mail
        return FAILED, f"could not build or send this mail ({type(exc).__name__})", False


def _deliver_webhook(delivery: Delivery) -> str:
    """A webhook row: posted over HTTP by `webhooks.deliver`, never through SMTP; a 429, a
    5xx or no answer backs off as mail does. The log names the hook, never its URL."""
    try:
        outcome = post_webhook(delivery)
    except SQLAlchemyError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad hook must never stop the queue
        delivery.status = FAILED
        delivery.last_error = f"could not build or post this webhook ({type(exc).__name__})"
    else:
        delivery.last_error = outcome.note
        if outcome.status == QUEUED:
            _retry_later(delivery, outcome.note)
            if outcome.retry_after and delivery.status == QUEUED:  # the receiver's own wish
                wish = utcnow() + timedelta(seconds=outcome.retry_after)
                delivery.next_attempt_at = max(delivery.next_attempt_at, wish)
        else:
            delivery.status = outcome.status
            if outcome.status == SENT:
                delivery.sent_at = utcnow()
    delivery.attempts += 1 if delivery.status != DROPPED else 0
    delivery.lease_until = None
    log.log(
        _level(delivery.status),
        "webhook %s (hook %s, %s): %s",
        delivery.id,
        delivery.webhook_id,
        delivery.event,
        _outcome(delivery) if delivery.status != SENT else f"sent ({delivery.last_error})",
    )
    return delivery.status


def smtp_session(config: Any) -> SmtpSession:
    """A session as configured. It waits for a message's answer up to 60% of the lease
    a row is claimed for (renewed just before it is sent): long enough for a slow server,
    short enough that no other worker takes the row meanwhile."""
    lease = int(config["MAIL_LEASE_SECONDS"])
    return SmtpSession(config["SMTP_URL"], config["SMTP_TIMEOUT"], min(600, lease * 0.6))


def deliver_now(delivery_id: int) -> Delivery | None:
    """Send one queued row at once, outside the batches (`webhooks test`). Commits."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is not None and delivery.status == QUEUED:
        config = current_app.config
        with smtp_session(config) as smtp:
            deliver(delivery, smtp)
        db.session.commit()
    return delivery


def _level(status: str) -> int:
    """A mail not sent is the owner's to see in the journal: a warning, with why."""
    return logging.WARNING if status in (QUEUED, FAILED) else logging.INFO


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
    if delivery.kind == OWNER:
        return _prepare_owner_mail(delivery)
    if delivery.kind == APPROVED_NOTICE:
        return _prepare_approval_notice(delivery)
    if delivery.kind == PRIVACY:
        return _prepare_privacy_mail(delivery)
    return None


def _prepare_privacy_mail(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    """The /privacy link, to the address of the subscriber record or of the comment it
    was queued with (none left after an erase: dropped)."""
    address = db.session.get(Address, delivery.address_id) if delivery.address_id else None
    comment = db.session.get(Comment, delivery.comment_id) if delivery.comment_id else None
    stored = address.email_enc if address else comment.email_enc if comment else ""
    if not stored or (address is not None and address.suppressed_at):
        return None
    email = vault().decrypt(stored)
    to = recipient(email)
    return build_privacy_mail(address or get_or_create_address(email), to), to


def _prepare_owner_mail(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    """The owner's mail about one comment, unless it is no longer news (decided meanwhile,
    or the site no longer wants it)."""
    site = db.session.get(Site, delivery.site_id)
    comment = db.session.get(Comment, delivery.comment_id)
    if site is None or comment is None or not notices.worth_telling(comment, site):
        return None
    to = recipient(vault().decrypt(site.owner_email_enc or ""))
    return build_owner_mail(comment, site, to), to


def _prepare_approval_notice(delivery: Delivery) -> tuple[EmailMessage, str] | None:
    """The reader's mail that their held comment is published: only while it still is,
    the site still sends it, and the address takes mail."""
    site = db.session.get(Site, delivery.site_id)
    comment = db.session.get(Comment, delivery.comment_id)
    if (
        site is None
        or not site.approval_mail
        or comment is None
        or comment.status != APPROVED
        or not comment.email_enc
    ):
        return None
    address = db.session.scalar(select(Address).where(Address.email_hash == comment.email_hash))
    if address is not None and (address.suppressed_at or _paused(address)):
        return None
    email = vault().decrypt(comment.email_enc)
    to = recipient(email)
    # A record of the address, for the "never email me again" link the mail carries.
    return build_approval_notice(comment, address or get_or_create_address(email), to), to


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
        # Slow receivers (a webhook that takes its whole timeout) must not outlast the claim:
        # past half the lease, the rest go back (reconcile) before another worker could take
        # them while they are still being sent here.
        started, half_lease = time.monotonic(), int(config["MAIL_LEASE_SECONDS"]) / 2
        with smtp_session(config) as smtp:
            for delivery_id in ids:
                if time.monotonic() - started > half_lease:
                    break
                delivery = db.session.get(Delivery, delivery_id) if _renew(delivery_id) else None
                if delivery is not None and delivery.status == QUEUED:
                    self._deliver(delivery, smtp)
                self.claimed.discard(delivery_id)
            limit = int(config["MAIL_BATCH_SIZE"])
            return len(ids) + send_digests(smtp, limit) + send_owner_digests(smtp, limit)

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


def _due_digest_rows(now: datetime, kind: str = DIGEST) -> Any:
    return and_(
        Delivery.kind == kind,
        Delivery.status == QUEUED,
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    )


def _send_digest(subscription_id: int, smtp: SmtpSession) -> int:
    return _send_gathered(
        DIGEST,
        Delivery.subscription_id == subscription_id,
        lambda rows: _digest_outcome(subscription_id, rows, smtp),
        f"subscription {subscription_id}",
    )


def _send_gathered(
    kind: str, whose: Any, outcome_of: Callable[[Sequence[Delivery]], Outcome], label: str
) -> int:
    """Claim the due rows of one subscriber or site (a lease, as for single mails: a second
    worker gets none of them), send them as one mail, and mark them all at once."""
    now = utcnow()
    lease = timedelta(seconds=int(current_app.config["MAIL_LEASE_SECONDS"]))
    ids = db.session.scalars(
        update(Delivery)
        .where(whose, _due_digest_rows(now, kind))
        .values(lease_until=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    if not ids:
        return 0
    rows = db.session.scalars(select(Delivery).where(Delivery.id.in_(ids))).all()
    outcome, error, permanent = outcome_of(rows)
    last_try = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    for row in rows:
        row.status, row.lease_until, row.last_error = outcome, None, error
        row.attempts += 1 if outcome != DROPPED else 0
        if outcome == SENT:
            row.sent_at = utcnow()
        elif outcome == QUEUED and row.attempts >= last_try:
            row.status = FAILED  # as a single mail after its last try: visible, not retried
        elif outcome == QUEUED:
            row.next_attempt_at = utcnow() + timedelta(minutes=30)
        if permanent:
            _suppress(row, error)
    db.session.commit()
    why = f" ({error})" if error and outcome != SENT else ""
    log.log(
        _level(rows[0].status), "digest of %s mails for %s: %s%s", len(rows), label, outcome, why
    )
    return len(rows)


def _digest_outcome(subscription_id: int, rows: Sequence[Delivery], smtp: SmtpSession) -> Outcome:
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
        return NOT_SENT

    def send() -> str:
        to = recipient(vault().decrypt(subscription.address.email_enc))
        smtp.send(build_digest(subscription, list(comments), to), to)
        return SENT

    return _attempt(send)


# --- the owner's digests ----------------------------------------------------------------


def send_owner_digests(smtp: SmtpSession, limit: int) -> int:
    """Send the owners' digests that are due (the end of their hour or day, or an hour
    after a flood began): one mail per site listing every comment queued for it since its
    last digest; returns how many rows were handled."""
    now = utcnow()
    sites = db.session.scalars(
        select(Delivery.site_id)
        .where(_due_digest_rows(now, OWNER_DIGEST))
        .group_by(Delivery.site_id)
        .limit(limit)
    ).all()
    return sum(_send_owner_digest(site_id, smtp) for site_id in sites if site_id)


def _send_owner_digest(site_id: int, smtp: SmtpSession) -> int:
    return _send_gathered(
        OWNER_DIGEST,
        Delivery.site_id == site_id,
        lambda rows: _owner_digest_outcome(site_id, rows, smtp),
        f"the owner of site {site_id}",
    )


def _owner_digest_outcome(site_id: int, rows: Sequence[Delivery], smtp: SmtpSession) -> Outcome:
    site = db.session.get(Site, site_id)
    if site is None:
        return NOT_SENT
    found = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_([r.comment_id for r in rows if r.comment_id]))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    comments = [c for c in found if notices.worth_telling(c, site)]
    if not comments:
        return NOT_SENT
    last = db.session.scalar(
        select(func.max(Delivery.sent_at)).where(
            Delivery.site_id == site_id, Delivery.kind == OWNER_DIGEST, Delivery.status == SENT
        )
    )
    since = last or min(r.created_at for r in rows)
    spam = db.session.scalar(
        select(func.count(Comment.id))
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Thread.site_id == site_id, Comment.status == SPAM, Comment.created_at >= since)
    )

    def send() -> str:
        to = recipient(vault().decrypt(site.owner_email_enc or ""))
        smtp.send(build_owner_digest(site, comments, to, spam=spam or 0, since=since), to)
        return SENT

    return _attempt(send)
