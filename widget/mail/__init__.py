"""Outgoing mail: `messages` builds it, `transport` hands it to SMTP, `worker` sends the
durable queue (`flask --app app mail worker`)."""

from __future__ import annotations

from .transport import PermanentFailure, SmtpSession, TemporaryFailure
from .worker import Worker, run_worker

__all__ = ["PermanentFailure", "SmtpSession", "TemporaryFailure", "Worker", "run_worker"]
