"""What the owner hears of new comments (a mail each, or a digest), and the reader's mail
when their held comment is approved: queued in the outbox, sent by the mail worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from .extensions import db
from .models import OWNER, OWNER_DIGEST, PENDING, QUEUED, Comment, Delivery, Site, utcnow

#: Held comments a site's owner hears of one mail each per hour; the rest come in a digest.
OWNER_MAILS_PER_HOUR = 5


def queue_owner_mail(comment: Comment, site: Site, event: str) -> None:
    """Queue the owner's mail about a new comment, as the site wants. Never commits."""
    if event != "held" or comment.status != PENDING:
        return
    if not site.owner_email_enc or site.notify_owner == "none":
        return
    now = utcnow()
    recent = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.site_id == site.id,
            Delivery.kind == OWNER,
            Delivery.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) < OWNER_MAILS_PER_HOUR:
        db.session.add(Delivery(kind=OWNER, comment_id=comment.id, site_id=site.id))
        return
    waiting = db.session.scalar(
        select(Delivery.id).where(
            Delivery.site_id == site.id,
            Delivery.kind == OWNER_DIGEST,
            Delivery.status == QUEUED,
        )
    )
    if waiting is None:
        db.session.add(
            Delivery(
                kind=OWNER_DIGEST,
                site_id=site.id,
                created_at=now,
                next_attempt_at=now + timedelta(hours=1),
            )
        )


def queue_approval_notice(comment: Comment, site: Site) -> None:
    """Tell a reader their held comment is published, where the site wants that (not yet
    built: see issue #17). Never commits."""
