"""The moderation web page under /admin/ (filled in by the moderation work)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
