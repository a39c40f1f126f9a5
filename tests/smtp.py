"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .live import free_port


class Recorder:
    """aiosmtpd handler: keeps every message; can refuse addresses or stall."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, EmailMessage]] = []
        #: (recipient, the bytes of the DATA command as received): what a mail client reads.
        self.raw: list[tuple[str, bytes]] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 no such user"
        self.delay = 0.0
        #: A reply to DATA instead of accepting, when set (e.g. "554 5.7.1 spam").
        self.refuse_data: str | None = None
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            time.sleep(self.delay)
        if self.refuse_data:
            return self.refuse_data
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, message))  # type: ignore[arg-type]
                self.raw.append((rcpt, raw))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if rcpt == address]

    def raw_to(self, address: str) -> list[bytes]:
        with self.lock:
            return [raw for rcpt, raw in self.raw if rcpt == address]


class SmtpServer:
    def __init__(self, port: int | None = None, smtputf8: bool = False) -> None:
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            enable_SMTPUTF8=smtputf8,
            decode_data=False,
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def run_worker() -> int:
    """Send what the queue holds now, as `flask mail worker --once` does."""
    from widget.mail import run_worker as send_queue

    return send_queue(once=True)


def message_id(kind: str, row_id: int | str) -> str:
    """A pattern for the Message-ID of a thread's or a comment's mail: its id, then when
    the row was made (base 36)."""
    return rf"<{kind}-{row_id}\.[0-9a-z]+@parley\.test>"
