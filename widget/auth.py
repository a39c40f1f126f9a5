"""Moderator accounts: Argon2 password hashes, a session-cookie login."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import redirect, request, session, url_for
from sqlalchemy import select

from .errors import ParleyError
from .extensions import db
from .models import AdminUser

_hasher = PasswordHasher()
F = TypeVar("F", bound=Callable[..., Any])


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist: same timing either way.

    Made on first use: hashing costs every process (each worker, each CLI command) ~0.1 s.
    """
    return _hasher.hash("parley-dummy-password")


def create_admin(email: str, password: str) -> AdminUser:
    if "@" not in email or len(email) > 320:
        raise ParleyError("Give the moderator's email address.")
    if len(password) < 10:
        raise ParleyError("Choose a password of at least 10 characters.")
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.lower()))
    if user is None:
        user = AdminUser(email=email.lower(), password_hash="")
        db.session.add(user)
    user.password_hash = _hasher.hash(password)
    db.session.commit()
    return user


def check_login(email: str, password: str) -> AdminUser | None:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def current_admin() -> AdminUser | None:
    user_id = session.get("admin_id")
    return db.session.get(AdminUser, user_id) if isinstance(user_id, int) else None


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_admin() is None:
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
