"""Flask extensions, created unbound and attached in the factory."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

#: Stable constraint names keep Alembic migrations reviewable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_ip() -> str:
    """The caller's address as the rate limiter keys it: an IPv4 address, or the /64 of an
    IPv6 one (one home or phone gets a whole /64, so per-address limits would not hold).

    Behind a proxy this is the address ProxyFix took from X-Forwarded-For (PARLEY_PROXY_HOPS).
    """
    return rate_limit_key(request.remote_addr or "0.0.0.0")


def rate_limit_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an IP (a unix socket peer): keyed as it is
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))  # int(): no %scope
    return str(ip)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_ip)

View = TypeVar("View", bound=Callable[..., Any])


def rate_limited(limit: Callable[[], str], **options: Any) -> Callable[[View], View]:
    """`limiter.limit(limit)`, costing nothing while rate limits are off (PARLEY_RATE_LIMITS)."""

    def decorate(view: View) -> View:
        limited = limiter.limit(limit, **options)(view)

        @wraps(view)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            return limited(*args, **kwargs) if limiter.enabled else view(*args, **kwargs)

        return dispatch  # type: ignore[return-value]

    return decorate


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside a writer; the busy timeout makes writers
    # queue instead of failing with "database is locked".
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
