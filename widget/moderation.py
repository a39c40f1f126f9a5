"""Moderation: the initial state of a comment, and every later decision on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import spam, subscriptions
from .extensions import db
from .models import (
    APPROVED,
    DELETED,
    OWNER,
    PENDING,
    SPAM,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Thread,
    author_comment_on_site,
    utcnow,
)

if TYPE_CHECKING:
    from .spam import Verdict

#: What a moderator can do to a comment, and the state it leads to.
ACTIONS = {"approve": APPROVED, "spam": SPAM, "delete": DELETED, "restore": PENDING}


def initial_status(site: Site, email_hash: str, verdict: Verdict) -> tuple[str, list[str]]:
    """Spam checks first, then the site's moderation mode."""
    if verdict.spam:
        return SPAM, verdict.reasons
    if verdict.held:
        return PENDING, verdict.reasons
    if site.moderation == "none":
        return APPROVED, []
    if site.moderation == "all":
        return PENDING, ["moderation-all"]
    if has_approved_comment(site, email_hash):
        return APPROVED, []
    return PENDING, ["first-comment"]


def has_approved_comment(site: Site, email_hash: str) -> bool:
    found = db.session.connection().execute(
        _APPROVED_BY_AUTHOR, {"site_id": site.id, "email_hash": email_hash}
    )
    return found.first() is not None


# The "first-time" mode asks this of every comment it receives.
_APPROVED_BY_AUTHOR = author_comment_on_site(Comment.status == APPROVED)


def on_published(comment: Comment, notify: bool = True) -> None:
    """A comment just became public: recount, and queue one mail per subscriber.

    `notify=False` when the caller knows the thread has no subscribers.
    """
    from .comments import refresh_thread

    refresh_thread(comment.thread_id, +1)
    if notify:
        subscriptions.fan_out(comment)


def on_held(comment: Comment, site: Site) -> None:
    """A comment of `site` waits for a moderator: tell the owner if the site wants that."""
    if site.owner_email_enc and site.notify_owner:
        db.session.add(Delivery(kind=OWNER, comment_id=comment.id, site_id=site.id))


def record(comment: Comment | None, actor: str, action: str, detail: str = "") -> None:
    site_id = None
    if comment is not None:
        thread = db.session.get(Thread, comment.thread_id)
        site_id = thread.site_id if thread else None
    db.session.add(
        ModerationEvent(
            site_id=site_id,
            comment_id=comment.id if comment else None,
            actor=actor,
            action=action,
            detail=detail,
            created_at=utcnow(),
        )
    )


def moderate(comment: Comment, action: str, actor: str) -> Comment:
    """Apply a moderator's action; publishing notifies subscribers, spam/approve teach the score."""
    from .comments import refresh_thread

    new_status = ACTIONS[action]
    old_status = comment.status
    if new_status == old_status:
        return comment  # using a link twice is harmless
    thread = db.session.get(Thread, comment.thread_id)
    site = db.session.get(Site, thread.site_id) if thread else None
    if site is not None:
        _teach(site, comment, old_status, new_status)
    comment.status = new_status
    record(comment, actor, action)
    if new_status == APPROVED:
        on_published(comment)
    elif old_status == APPROVED:
        refresh_thread(comment.thread_id, -1)
    db.session.commit()
    return comment


def _teach(site: Site, comment: Comment, old: str, new: str) -> None:
    # Approving is a "ham" example, marking spam a "spam" example; a reversed
    # decision forgets the earlier one.
    if old == SPAM and new != SPAM:
        spam.learn(site, comment, is_spam=True, weight=-1)
    if old == APPROVED and new == SPAM:
        spam.learn(site, comment, is_spam=False, weight=-1)
    if new == SPAM:
        spam.learn(site, comment, is_spam=True)
    elif new == APPROVED and old in (PENDING, SPAM):
        spam.learn(site, comment, is_spam=False)
