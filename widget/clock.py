"""The time as Parley sees it. Tests move an app's clock forward instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context


class Clock:
    """Wall-clock time plus an offset that only tests change (`advance`)."""

    def __init__(self, offset: float = 0.0) -> None:
        #: Seconds added to the real time.
        self.offset = offset

    def time(self) -> float:
        """Seconds since the epoch, like `time.time()`."""
        return time.time() + self.offset

    def utcnow(self) -> datetime:
        """Naive UTC: stored the same way on SQLite and PostgreSQL."""
        return datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


SYSTEM_CLOCK = Clock()


def clock() -> Clock:
    """The application's clock (set in the factory), or the system clock outside one."""
    if has_app_context():
        found = current_app.extensions.get("parley_clock")
        if found is not None:
            return found  # type: ignore[no-any-return]
    return SYSTEM_CLOCK


def utcnow() -> datetime:
    return clock().utcnow()


#: How long asking about an address takes at least (a /privacy link, a subscription): the
#: work differs when the address is known (about 1-2 ms more), and the answer's time must
#: not tell which; the floor is well above that difference and below what a reader notices.
SAME_TIME_SECONDS = 0.05


@contextmanager
def no_sooner_than(seconds: float = SAME_TIME_SECONDS) -> Iterator[None]:
    """Let the work inside take at least `seconds` of real time, whatever it did."""
    started = time.monotonic()
    yield
    time.sleep(max(0.0, started + seconds - time.monotonic()))
