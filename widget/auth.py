"""Moderator accounts: Argon2 password hashes, a session-cookie login, a lock per account
after repeated failures, and session generations that logout and password changes bump."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, redirect, request, session, url_for
from limits import RateLimitItem, parse
from limits.storage import MovingWindowSupport, storage_from_string
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)
from sqlalchemy import delete, select, update

from .config import is_on
from .errors import ParleyError
from .extensions import db
from .limits import AUTHOR_MAX, LOGIN_EMAIL_MAX, PASSWORD_MIN
from .models import ROLES, AdminSite, AdminUser, Site

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


def create_admin(
    email: str,
    password: str,
    *,
    role: str | None = None,
    name: str | None = None,
    sites: tuple[str, ...] | None = None,
) -> AdminUser:
    """Create an admin, or give an existing one a new password; `role`, `name` and `sites`
    (the sites they may moderate; empty: every site) change only when given. Commits."""
    if "@" not in email or len(email) > LOGIN_EMAIL_MAX:
        raise ParleyError("Give the moderator's email address.")
    if len(password) < PASSWORD_MIN:
        raise ParleyError(f"Choose a password of at least {PASSWORD_MIN} characters.")
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.lower()))
    if user is None:
        user = AdminUser(email=email.lower(), password_hash="", session_generation=0)
        db.session.add(user)
    else:
        # A new password ends every session made with the old one (a stolen cookie too).
        user.session_generation += 1
    user.password_hash = _hasher().hash(password)
    if role is not None:
        if role not in ROLES:
            raise ParleyError(f"Role must be one of {', '.join(ROLES)}.")
        user.role = role
    if name is not None:
        if len(name.strip()) > AUTHOR_MAX:
            raise ParleyError(f"Choose a name of at most {AUTHOR_MAX} characters.")
        user.name = name.strip()
    if sites is not None:
        _limit_to_sites(user, sites)
    db.session.commit()
    return user


def _limit_to_sites(user: AdminUser, names: tuple[str, ...]) -> None:
    site_ids = dict(
        db.session.execute(select(Site.name, Site.id).where(Site.name.in_(names))).all()
    )
    unknown = sorted(set(names) - set(site_ids))
    if unknown:
        raise ParleyError(f"No site named {', '.join(unknown)}.")
    db.session.flush()  # a new user needs its id
    db.session.execute(delete(AdminSite).where(AdminSite.admin_id == user.id))
    db.session.add_all(AdminSite(admin_id=user.id, site_id=i) for i in site_ids.values())


def remove_admin(email: str) -> None:
    """Remove an admin account: its sessions end with it. Commits."""
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    if user is None:
        raise ParleyError(f"No admin {email}.")
    db.session.execute(delete(AdminSite).where(AdminSite.admin_id == user.id))
    db.session.delete(user)
    db.session.commit()


def site_scope(user: AdminUser) -> list[int] | None:
    """The ids of the sites `user` may moderate; None: every site."""
    ids = db.session.scalars(select(AdminSite.site_id).where(AdminSite.admin_id == user.id)).all()
    return list(ids) or None


def check_login(email: str, password: str) -> AdminUser | None:
    user = db.session.scalar(select(AdminUser).where(AdminUser.email == email.strip().lower()))
    try:
        _hasher().verify(user.password_hash if user else _dummy_hash(current_app.testing), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


class AccountLocked(ParleyError):
    """Too many failed logins for one account: refused until the oldest failure ages out."""

    status, code = 429, "account_locked"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(
            f"Too many failed attempts for this account; try again in {minutes} {unit}."
        )
        self.retry_after = retry_after


class LoginThrottle:
    """Failed logins per account (PARLEY_LOGIN_FAILURES, "5 per 15 minutes"), counted in the
    rate-limit storage (PARLEY_RATE_LIMIT_STORAGE_URL): with Redis every worker and host
    shares the count; with memory:// each process keeps its own.

    Keyed by the address typed, whether or not the account exists, so the lock tells nobody
    which addresses are moderators; the key is a keyed hash, never the address itself.
    """

    NAMESPACE = "parley-login-failures"

    def __init__(self, storage_url: str, limit: str, secret: str) -> None:
        self.item: RateLimitItem | None = parse(limit) if is_on(limit) else None
        storage = storage_from_string(storage_url)
        # A moving window counts exactly "5 in any 15 minutes"; memcached has only fixed ones.
        moving = isinstance(storage, MovingWindowSupport)
        self.limiter: RateLimiter = (
            MovingWindowRateLimiter(storage) if moving else FixedWindowRateLimiter(storage)
        )
        self._secret = secret.encode()

    def _key(self, email: str) -> str:
        typed = email.strip().lower().encode()
        return hmac.new(self._secret, typed, hashlib.sha256).hexdigest()[:32]

    def locked_for(self, email: str) -> int:
        """Seconds until this account may try again; 0 when it may now."""
        if self.item is None or self.limiter.test(self.item, self.NAMESPACE, self._key(email)):
            return 0
        reset_at, _ = self.limiter.get_window_stats(self.item, self.NAMESPACE, self._key(email))
        return max(1, math.ceil(reset_at - time.time()))

    def failed(self, email: str) -> None:
        if self.item is not None:
            self.limiter.hit(self.item, self.NAMESPACE, self._key(email))

    def succeeded(self, email: str) -> None:
        # The owner got in: earlier typos do not count towards a later lock.
        if self.item is not None:
            self.limiter.clear(self.item, self.NAMESPACE, self._key(email))


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["parley_login_throttle"]
    return throttle


def attempt_login(email: str, password: str) -> AdminUser | None:
    """`check_login` behind the per-account lock: raises AccountLocked while it holds (the
    password is not even checked then, so a correct guess during the lock learns nothing)."""
    throttle = _throttle()
    wait = throttle.locked_for(email)
    if wait:
        raise AccountLocked(wait)
    user = check_login(email, password)
    if user is None:
        throttle.failed(email)
    else:
        throttle.succeeded(email)
    return user


def start_session(user: AdminUser) -> None:
    """Log `user` in on this browser: the cookie carries the account's session generation."""
    session.clear()  # a fresh session: nothing from before the login carries over
    session["admin_id"] = user.id
    session["admin_generation"] = user.session_generation
    # SQLite gives a removed account's id to the next one created (generation 0 again): the
    # account's creation time tells them apart.
    session["admin_since"] = user.created_at.isoformat()


def end_sessions(user: AdminUser) -> None:
    """Log `user` out on every browser: each cookie made before now has an old generation.
    Commits. One UPDATE, so two logouts at once still both count."""
    db.session.execute(
        update(AdminUser)
        .where(AdminUser.id == user.id)
        .values(session_generation=AdminUser.session_generation + 1)
    )
    db.session.commit()


def current_admin() -> AdminUser | None:
    """The admin this request's session cookie names, if that cookie is still current."""
    user_id, generation = session.get("admin_id"), session.get("admin_generation")
    if not isinstance(user_id, int) or not isinstance(generation, int):
        return None
    user = db.session.get(AdminUser, user_id)
    if user is None or user.session_generation != generation:
        return None  # logged out elsewhere, or the password changed since this login
    if session.get("admin_since") != user.created_at.isoformat():
        return None  # another account, made since under the id of a removed one
    return user


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_admin() is None:
            return redirect(url_for("admin.login", next=request.path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
