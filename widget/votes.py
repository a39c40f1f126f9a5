"""Votes: one per voter key and comment, a maintained score, and no way to learn who voted."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .errors import Conflict, NotFound, TooManyRequests
from .extensions import db
from .limits import MAX_ID
from .models import APPROVED, Comment, Site, Thread, Vote, utcnow
from .threads import lock_comments, refresh_thread
from .vault import truncate_ip, vault

#: Distinct voter keys one network (a /24 or /48) may vote with on one comment: a reader who
#: clears their storage can vote again, a script with a thousand keys cannot.
KEYS_PER_NETWORK = 3


def cast_vote(site: Site, comment_id: int, voter_key: str, value: int, ip: str) -> int:
    """Record +1, -1 or 0 (take back) for one voter and a comment of `site` (site_of());
    returns the new score. Commits."""
    if not site.votes:
        raise Conflict("Votes are off on this site.")
    if not 0 < comment_id <= MAX_ID:
        raise NotFound("No such comment.")
    lock_comments([comment_id])  # votes on one comment count one at a time
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != APPROVED:
        raise NotFound("No such comment.")
    voter_hash = vault().keyed_hash("voter", voter_key)
    ip_hash = vault().keyed_hash("voter-network", truncate_ip(ip))
    delta = _apply(comment, voter_hash, ip_hash, value)
    if delta:
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(score=Comment.score + delta)
            .execution_options(synchronize_session=False)
        )
        refresh_thread(comment.thread_id, 0)
    db.session.commit()
    return int(db.session.scalar(select(Comment.score).where(Comment.id == comment.id)) or 0)


def site_of(comment_id: int) -> Site:
    """The site of a published comment (CORS is checked against it), or a 404."""
    site = None
    if 0 < comment_id <= MAX_ID:
        site = db.session.scalar(
            select(Site)
            .join(Thread, Thread.site_id == Site.id)
            .join(Comment, Comment.thread_id == Thread.id)
            .where(Comment.id == comment_id, Comment.status == APPROVED)
        )
    if site is None:
        raise NotFound("No such comment.")
    return site


def _apply(comment: Comment, voter_hash: str, ip_hash: str, value: int) -> int:
    """Store the vote; the change it makes to the score."""
    existing = db.session.scalar(
        select(Vote).where(Vote.comment_id == comment.id, Vote.voter_hash == voter_hash)
    )
    if existing is not None:
        delta = value - existing.value
        if value == 0:
            db.session.delete(existing)
        else:
            existing.value = value
        return delta
    if value == 0:
        return 0
    if _network_votes(comment.id, ip_hash) >= KEYS_PER_NETWORK:
        raise TooManyRequests("Too many votes from your network on this comment.")
    try:
        with db.session.begin_nested():
            db.session.add(
                Vote(
                    comment_id=comment.id,
                    voter_hash=voter_hash,
                    ip_hash=ip_hash,
                    value=value,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:  # the same voter twice at once: the other request counted it
        return 0
    return value


def _network_votes(comment_id: int, ip_hash: str) -> int:
    found = db.session.scalar(
        select(func.count(Vote.id)).where(Vote.comment_id == comment_id, Vote.ip_hash == ip_hash)
    )
    return found or 0
