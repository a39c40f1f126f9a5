"""Moderation: the initial state of a comment, and every later decision on it."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import bindparam, select, update

from . import notices, spam, subscriptions, webhooks
from .errors import Conflict, Forbidden, NotFound, ParleyError, ValidationFailed
from .extensions import db
from .limits import BLOCK_VALUE_MAX, BODY_MAX, MAX_ID
from .models import (
    APPROVED,
    DELETED,
    PENDING,
    SPAM,
    Block,
    Comment,
    CommentStatus,
    Moderation,
    ModerationEvent,
    Role,
    Site,
    Thread,
    author_comment_on_site,
    utcnow,
)
from .render import markdown_to_html
from .spam import Verdict
from .statements import dialect_insert
from .threads import hold_comment, lock_comments, lock_threads, refresh_thread
from .tokens import TokenError, created_window, read_token_issued
from .vault import vault
from .wording import mask_email

#: What a moderator can do to a comment, and the state it leads to.
ACTIONS = {"approve": APPROVED, "spam": SPAM, "delete": DELETED, "restore": PENDING}
#: The event a new comment raises (webhooks, the owner's mail), by the state it lands in.
EVENT_OF_STATUS = {APPROVED: "published", PENDING: "held", SPAM: "spam"}
#: What can be blocked from a comment, and on the blocks page.
BLOCK_KINDS = ("email", "domain", "ip", "word")


def initial_status(
    site: Site, email_hash: str, verdict: Verdict, author_tokens: str | None = None
) -> tuple[CommentStatus, list[str]]:
    """Spam checks first, then the site's moderation mode."""
    if verdict.spam:
        return SPAM, verdict.reasons
    if verdict.held:
        return PENDING, verdict.reasons
    if site.moderation == Moderation.NONE:
        return APPROVED, []
    if site.moderation == Moderation.ALL:
        return PENDING, ["moderation-all"]
    if holds_proof(site, email_hash, author_tokens):
        return APPROVED, []
    return PENDING, ["first-comment"]


def holds_proof(site: Site, email_hash: str, author_tokens: str | None) -> bool:
    """First-time trust: the browser holds an author token (given with every post) of an
    approved comment by this address on this site. A typed address alone proves nothing."""
    for token in (author_tokens or "").split()[:5]:
        try:
            payload, issued = read_token_issued("author", token)
        except TokenError:
            continue
        comment_id = payload.get("c") if isinstance(payload, dict) else None
        if not isinstance(comment_id, int) or not 0 < comment_id <= MAX_ID:
            continue
        # The comment the token was made for, not a later one that got its id.
        created_from, created_until = created_window(payload, issued)
        params = {
            "site_id": site.id,
            "email_hash": email_hash,
            "comment_id": comment_id,
            "created_from": created_from,
            "created_until": created_until,
        }
        if db.session.connection().execute(_APPROVED_BY_AUTHOR, params).first() is not None:
            return True
    return False


# The "first-time" mode asks this of every comment it receives that carries a token.
_APPROVED_BY_AUTHOR = author_comment_on_site(
    Comment.status == APPROVED,
    Comment.id == bindparam("comment_id"),
    Comment.created_at >= bindparam("created_from"),
    Comment.created_at < bindparam("created_until"),
)


def status_after_edit(site: Site, comment: Comment, verdict: Verdict) -> CommentStatus:
    """An edited comment goes to spam or back to the queue when the checks fire, or when
    the site moderates everything; else it keeps its state."""
    if verdict.spam:
        return SPAM
    if verdict.held or (site.moderation == Moderation.ALL and comment.status == APPROVED):
        return PENDING
    return CommentStatus(comment.status)


def decided(comment: Comment) -> bool:
    """Has a moderator (the admin or a mail link) acted on this comment?"""
    found = db.session.scalar(
        select(ModerationEvent.id)
        .where(ModerationEvent.comment_id == comment.id, ModerationEvent.actor != "reader")
        .limit(1)
    )
    return found is not None


def on_published(comment: Comment, notify: bool = True) -> None:
    """A comment just became public: recount, queue one mail per subscriber, and subscribe
    its author if they asked to be notified. Never commits.

    `notify=False` when the caller knows the thread has no subscribers.
    """
    refresh_thread(comment.thread_id, +1)
    if notify:
        subscriptions.fan_out(comment)
    if comment.notify and comment.email_enc:
        thread = db.session.get(Thread, comment.thread_id)
        email = vault().decrypt(comment.email_enc)
        if thread is not None and email:
            subscriptions.subscribe(thread, email, comment.notify)


def on_posted(comment: Comment, site: Site, has_webhooks: bool = True) -> None:
    """A reader's new comment is stored (published, held or spam): tell the owner and the
    site's webhooks as the site wants. Never commits.

    `has_webhooks=False` when the caller knows the site has none."""
    event = EVENT_OF_STATUS.get(CommentStatus(comment.status))
    if event is None:
        return
    notices.queue_owner_mail(comment, site, event)  # never for an admin's own reply
    if has_webhooks:
        webhooks.queue_event(comment, site, event)


def on_held(comment: Comment, site: Site) -> None:
    """An edited comment went back to the queue: the owner hears of it. Never commits."""
    if comment.status == PENDING:
        notices.queue_owner_mail(comment, site, "held")


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
    """Apply a moderator's action and commit (a mail link, one comment in the admin)."""
    _hold(comment)
    apply_decision(comment, action, actor)
    db.session.commit()
    return comment


def moderate_many(ids: Iterable[int], action: str, actor: str) -> tuple[int, int]:
    """Apply one action to a selection in one transaction. Returns (decided, skipped): a
    comment its reader deleted has nothing to publish or restore, and is left as it is."""
    if action not in ACTIONS:
        raise ParleyError("Unknown action.")
    wanted = sorted({i for i in ids if 0 < i <= MAX_ID})
    lock_comments(wanted)
    chosen = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_(wanted))
        .order_by(Comment.id)
        .execution_options(populate_existing=True)  # as they are now that they are held
    ).all()
    lock_threads(comment.thread_id for comment in chosen)
    skipped = [c for c in chosen if action != "delete" and deleted_by_its_reader(c)]
    for comment in chosen:
        if comment not in skipped:
            apply_decision(comment, action, actor)
    db.session.commit()
    return len(chosen) - len(skipped), len(skipped)


def last_decided_by(comment_id: int) -> str | None:
    """Who made the comment's latest logged decision (None: nobody yet). Reads only."""
    return db.session.scalar(
        select(ModerationEvent.actor)
        .where(ModerationEvent.comment_id == comment_id)
        .order_by(ModerationEvent.id.desc())
        .limit(1)
    )


def deleted_by_its_reader(comment: Comment) -> bool:
    return comment.status == DELETED and not comment.body


def _hold(comment: Comment) -> None:
    """The comment (read again once held), then its thread (locks.py says
    why): a decision made meanwhile (a second moderator, a double click) is seen, not made
    twice. Never commits."""
    hold_comment(comment)
    lock_threads([comment.thread_id])


def apply_decision(comment: Comment, action: str, actor: str) -> None:
    """Publishing notifies subscribers; spam and approve teach the score. Never commits.

    Restore brings a comment a moderator deleted or marked spam back to the state it had
    (a deleted one keeps its text); one its reader deleted has nothing left to restore.
    """
    old_status = comment.status
    if deleted_by_its_reader(comment) and action != "delete":
        raise Conflict("Its reader deleted this comment: there is nothing left to restore.")
    new_status = _restored_status(comment) if action == "restore" else ACTIONS[action]
    if new_status == old_status:
        # Using a link twice is harmless. A first look that changes nothing (approving a
        # comment published at once) is still a decision: its author can no longer edit it.
        if not decided(comment):
            record(comment, actor, action, "unchanged")
        return
    thread = db.session.get(Thread, comment.thread_id)
    site = db.session.get(Site, thread.site_id) if thread else None
    if site is not None:
        _teach(site, comment, old_status, new_status)
    comment.status = new_status
    record(comment, actor, action, f"from {old_status}" if action == "delete" else "")
    if new_status == APPROVED:
        on_published(comment)
        if site is not None:
            webhooks.queue_event(comment, site, "published")
            if old_status == PENDING:
                notices.queue_approval_notice(comment, site)
    elif old_status == APPROVED:
        refresh_thread(comment.thread_id, -1)


def _restored_status(comment: Comment) -> CommentStatus:
    if comment.status != DELETED:
        return PENDING  # out of spam: back in the queue for a decision
    deleted_from = db.session.scalar(
        select(ModerationEvent.detail)
        .where(ModerationEvent.comment_id == comment.id, ModerationEvent.action == "delete")
        .order_by(ModerationEvent.id.desc())
        .limit(1)
    )
    return APPROVED if deleted_from == f"from {APPROVED}" else PENDING


def admin_text(body: str) -> str:
    """A moderator's text (an edit, a reply), stripped; a 422 when empty or too long."""
    body = body.strip()
    if not body or len(body) > BODY_MAX:
        raise ValidationFailed(
            "Some fields need attention.",
            {"body": [f"Write between 1 and {BODY_MAX} characters."]},
        )
    return body


def moderator_edit(
    comment: Comment, body: str, actor: str, editor_role: str = Role.OWNER
) -> Comment:
    """A moderator's change to a comment's text (a typo, a link removed): rendered and
    sanitized like a post, logged with the text before and after. An owner's reply is the
    owners' own: a moderator (role) cannot put words under its badge. Commits."""
    if comment.role == Role.OWNER and editor_role != Role.OWNER:
        raise Forbidden("Only an owner can edit an owner's reply.")
    body = admin_text(body)
    if deleted_by_its_reader(comment):
        raise Conflict("Its reader deleted this comment: there is no text to edit.")
    if body == comment.body:
        return comment
    before = comment.body
    comment.body, comment.html = body, markdown_to_html(body)
    comment.edited_at = utcnow()
    record(comment, actor, "edit", json.dumps({"before": before, "after": body}))
    if comment.status == APPROVED:
        refresh_thread(comment.thread_id, 0)
    db.session.commit()
    return comment


def block_author(comment: Comment, kind: str, actor: str) -> None:
    """Block a comment's address or IP range on its site and mark the comment spam: one
    transaction, so the block and its log entry are kept even when the comment is spam
    already."""
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    if kind == "email" and comment.email_hash:
        value = comment.email_hash
    elif kind == "ip" and comment.ip:
        value = comment.ip + ("/24" if "." in comment.ip else "/48")
    else:
        raise ParleyError("Nothing to block.")
    email_enc = comment.email_enc if kind == "email" else None
    _hold(comment)
    _add_block(thread.site_id, kind, value, email_enc)
    record(comment, actor, f"block-{kind}", block_shown(kind, value, email_enc))
    if comment.status != SPAM:
        apply_decision(comment, "spam", actor)
    db.session.commit()


def add_block(site: Site, kind: str, value: str, actor: str) -> None:
    """A block-list entry from the blocks page; logged. Commits."""
    value = value.strip()
    if kind not in BLOCK_KINDS or not value or len(value) > BLOCK_VALUE_MAX:
        raise ParleyError("Choose a kind and a value.")
    email_enc = vault().encrypt(value) if kind == "email" else None
    stored = vault().lookup_hash(value) if kind == "email" else value.lower()
    _add_block(site.id, kind, stored, email_enc)
    detail = block_shown(kind, stored, email_enc)
    db.session.add(
        ModerationEvent(site_id=site.id, actor=actor, action=f"block-{kind}", detail=detail)
    )
    db.session.commit()


def remove_block(block_id: int, actor: str) -> None:
    """Lift a block; logged. Commits."""
    block = db.session.get(Block, block_id) if 0 < block_id <= MAX_ID else None
    if block is None:
        raise NotFound("No such block.")
    detail = block_shown(block.kind, block.value, block.email_enc)
    db.session.add(
        ModerationEvent(
            site_id=block.site_id, actor=actor, action=f"unblock-{block.kind}", detail=detail
        )
    )
    db.session.delete(block)
    db.session.commit()


def _add_block(site_id: int, kind: str, value: str, email_enc: str | None = None) -> None:
    # Two moderators blocking one address at once: the second finds the first's row.
    db.session.execute(
        dialect_insert(db.session.get_bind().dialect.name, Block)
        .values(site_id=site_id, kind=kind, value=value, email_enc=email_enc)
        .on_conflict_do_nothing()
    )
    if email_enc:  # a block from before masking learns what it shows
        db.session.execute(
            update(Block)
            .where(
                Block.site_id == site_id,
                Block.kind == kind,
                Block.value == value,
                Block.email_enc.is_(None),
            )
            .values(email_enc=email_enc)
            .execution_options(synchronize_session=False)
        )


def block_shown(kind: str, value: str, email_enc: str | None) -> str:
    """A block as the admin and the log show it: the value, an address only masked (never
    in full), or not at all (blocked before masking, or its reader erased)."""
    if kind != "email":
        return value
    email = vault().decrypt(email_enc) if email_enc else ""
    return mask_email(email) if email else "an address (not shown)"


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
