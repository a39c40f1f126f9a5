"""Webhooks: a site's new comments posted to chat rooms or any HTTP receiver, through the
same durable outbox as mail (not yet built: see issue #17)."""

from __future__ import annotations

from .models import Comment, Site


def queue_event(comment: Comment, site: Site, event: str) -> None:
    """Queue one delivery per hook of `site` that wants `event`. Never commits."""
