"""The public shapes, each an explicit list of fields: nothing else ever leaves."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, current_app

from .models import APPROVED, DELETED, Comment, Thread

DELETED_TEXT = "[deleted]"


def to_json(body: Any) -> bytes:
    """Compact UTF-8 JSON, as every API answer is sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(body: Any, status: int = 200) -> Response:
    # Flask's jsonify sorts keys and goes through its JSON provider: a tenth of a post's
    # serializing time for the same bytes to a client.
    return Response(to_json(body), status=status, mimetype="application/json")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def avatar_url(seed: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/avatars/{seed}.svg"


def thread_json(thread: Thread) -> dict[str, Any]:
    return {
        "key": thread.key,
        "title": thread.title,
        "url": thread.url,
        "count": thread.comment_count,
        "closed": thread.closed,
    }


def comment_json(
    comment: Comment, replies: list[dict[str, Any]] | None = None, votes: bool = False
) -> dict[str, Any]:
    """A comment as readers see it: never an address, never an IP."""
    deleted = comment.status == DELETED
    body: dict[str, Any] = {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": "" if deleted else comment.author,
        "website": "" if deleted else comment.website,
        # Only a published comment shows one: a held or spam post reveals nothing.
        "avatar": avatar_url(comment.avatar_seed) if comment.status == APPROVED else None,
        "html": f"<p>{DELETED_TEXT}</p>" if deleted else comment.html,
        "created_at": iso(comment.created_at),
        "edited_at": None if deleted else iso(comment.edited_at),
        "deleted": deleted,
        #: "owner" or "moderator" for an admin's comment (a badge), else None.
        "role": comment.role,
        "replies": replies if replies is not None else [],
    }
    if votes:
        body["score"] = comment.score
    return body
