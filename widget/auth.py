"""Moderator accounts: Argon2 password hashes, a session-cookie login."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, redirect, request, session, url_for
from sqlalchemy import select

from .errors import ParleyError
from .extensions import db
from .limits import LOGIN_EMAIL_MAX, PASSWORD_MIN
from .models import AdminUser

F = TypeVar("F", bound=Callable[..., Any])
_HASHERS = {
    False: PasswordHasher(),
    # Tests log in often; Argon2's memory-hard defaults would be most of their time.
    True: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


def _hasher() -> PasswordHasher:
    return _HASHERS[bool(current_app.testing)]


@cache
def _dummy_hash(testing: bool) -> str:
    """A hash to verify against when the account does not exist: same timing either way.

    Made on first use: hashing costs every process (each worker, each CLI command) ~0.1 s.
    """
    return _HASHERS[testing].hash("parley-dummy-password")


def create_admin(email: str, password: str) -> AdminUser:
    if "@" not in email or len(email) > LOGIN_EMAIL_MAX:
        raise ParleyError("Give the moderator's email address.")
    if len(password) < PASSWORD_MIN:
        raise ParleyError(f"Choose a password of at least {PASSWORD_MIN} characters.")
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.lower()))
    if user is None:
        user = AdminUser(email=email.lower(), password_hash="")
        db.session.add(user)
    user.password_hash = _hasher().hash(password)
    db.session.commit()
    return user


def check_login(email: str, password: str) -> AdminUser | None:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    try:
        _hasher().verify(user.password_hash if user else _dummy_hash(current_app.testing), password)
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
