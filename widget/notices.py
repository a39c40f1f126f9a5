"""What the owner hears of new comments (a mail each, or a digest), and the reader's mail
when their held comment is approved: queued in the outbox, sent by the mail worker.

The site chooses (`flask sites set NAME …`):

- `--notify-owner all|held|none`: every new comment, the held ones only, or nothing. Spam
  never gets a mail of its own (a digest counts it).
- `--owner-digest off|hourly|daily`: a mail per comment (past OWNER_MAILS_PER_HOUR in an
  hour the rest wait an hour and come as one digest), or one digest at the end of each
  hour or day (UTC) listing what came in since the last one.
- `--approval-mail on|off`: a reader whose held comment a moderator approves hears so.

Every covered comment is one queued row (an OWNER mail, or an OWNER_DIGEST row the next
digest of its site collects): it is queued in the transaction that stores the comment, so
a digest never misses one, and a sent row is never listed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from .extensions import db
from .models import (
    APPROVED,
    APPROVED_NOTICE,
    DELETED,
    OWNER,
    OWNER_DIGEST,
    PENDING,
    QUEUED,
    SPAM,
    Comment,
    Delivery,
    OwnerDigest,
    OwnerNotify,
    Site,
    utcnow,
)
from .vault import vault
from .wording import reason_words as _reason_words

#: Owner mails a site sends one each per hour (off mode); the rest come in a digest.
OWNER_MAILS_PER_HOUR = 5
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)

#: A comment's state as the owner's mail and the moderation page say it.
STATE_WORDS: dict[str, str] = {
    APPROVED: "published",
    PENDING: "held, waiting for you",
    SPAM: "marked as spam",
    DELETED: "deleted",
}

#: What a mail link can do to a comment in each state: only what changes it (a deleted
#: comment is restored in the admin, never from a mail).
MAIL_ACTIONS: dict[str, tuple[str, ...]] = {
    PENDING: ("approve", "spam", "delete"),
    APPROVED: ("spam", "delete"),
    SPAM: ("approve", "delete"),
    DELETED: (),
}

#: The button (and link) of each action.
ACTION_LABELS = {"approve": "Approve", "spam": "Mark as spam", "delete": "Delete"}


def reason_words(comment: Comment) -> list[str]:
    """Why `comment` waits (or went to spam), in words (`wording.REASONS`); nothing once it
    is published or deleted."""
    if comment.status not in (PENDING, SPAM):
        return []
    words = _reason_words(comment.reasons)
    if comment.status == PENDING and comment.edited_at is not None:
        words.append("edited by its author")
    return words


def mail_actions(comment: Comment) -> tuple[str, ...]:
    return MAIL_ACTIONS.get(comment.status, ())


def owner_mail_hash(site: Site) -> str:
    """The keyed hash of the address the site's owner mail goes to ("" for none): the
    owner's mail links name it, so a new owner address voids them."""
    if not site.owner_email_enc:
        return ""
    return vault().lookup_hash(vault().decrypt(site.owner_email_enc))


def covers(site: Site, event: str) -> bool:
    """Does the site's owner hear of a comment `published` or `held` (never `spam`)?"""
    if not site.owner_email_enc:
        return False
    if event == "held":
        return site.notify_owner in (OwnerNotify.ALL, OwnerNotify.HELD)
    if event == "published":
        return site.notify_owner == OwnerNotify.ALL
    return False


def worth_telling(comment: Comment, site: Site) -> bool:
    """Checked again when the mail goes out: still news for the owner as the site wants
    now? (A held comment a moderator approved meanwhile is not, unless the owner hears of
    every comment; one marked spam or deleted meanwhile never is.)"""
    if comment.status == PENDING:
        return covers(site, "held")
    if comment.status == APPROVED:
        return covers(site, "published")
    return False


def digest_due(now: datetime, mode: str) -> datetime:
    """The end of the hour or of the day (UTC) that `now` is in."""
    if mode == OwnerDigest.DAILY:
        return now.replace(hour=0, minute=0, second=0, microsecond=0) + _DAY
    return now.replace(minute=0, second=0, microsecond=0) + _HOUR


def queue_owner_mail(comment: Comment, site: Site, event: str) -> None:
    """Queue the owner's mail about a comment just posted (or held again by an edit), as
    the site wants. Never commits."""
    if comment.role is not None or not covers(site, event):
        return
    now = utcnow()
    if site.owner_digest in (OwnerDigest.HOURLY, OwnerDigest.DAILY):
        _gather(comment, site, event, digest_due(now, site.owner_digest))
        return
    recent = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.site_id == site.id,
            Delivery.kind == OWNER,
            Delivery.created_at > now - _HOUR,
        )
    )
    if (recent or 0) < OWNER_MAILS_PER_HOUR:
        _queue(OWNER, comment, site, now, event)
        return
    # A flood: the rest of the hour goes into one digest, an hour after the first of them.
    waiting = db.session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.site_id == site.id,
            Delivery.kind == OWNER_DIGEST,
            Delivery.status == QUEUED,
        )
    )
    _gather(comment, site, event, waiting or now + _HOUR)


def _gather(comment: Comment, site: Site, event: str, due: datetime) -> None:
    _queue(OWNER_DIGEST, comment, site, due, event)


def _queue(kind: str, comment: Comment, site: Site, due: datetime, event: str | None) -> None:
    """One outbox row about `comment`, sent by the worker from `due` on."""
    db.session.add(
        Delivery(
            kind=kind,
            comment_id=comment.id,
            site_id=site.id,
            event=event,
            created_at=utcnow(),
            next_attempt_at=due,
        )
    )


def queue_approval_notice(comment: Comment, site: Site) -> None:
    """Tell a reader their held comment is published, where the site wants that: once per
    comment, however often it goes back and forth. Never commits."""
    if not site.approval_mail or comment.role is not None or not comment.email_enc:
        return
    queued = db.session.scalar(
        select(Delivery.id)
        .where(Delivery.kind == APPROVED_NOTICE, Delivery.comment_id == comment.id)
        .limit(1)
    )
    if queued is None:
        _queue(APPROVED_NOTICE, comment, site, utcnow(), None)
