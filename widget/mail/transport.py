"""Handing mail to an SMTP server (or to the log when none is configured)."""

from __future__ import annotations

import io
import logging
import re
import smtplib
import ssl
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..vault import vault

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The server refused this recipient for good (a 5xx reply)."""


class TemporaryFailure(Exception):
    """Try again later: connection refused, timeout, dropped connection, a 4xx reply."""


class Undeliverable(Exception):
    """This message cannot go to this address through this server (an address that cannot
    be sent safely, a non-ASCII address and a server without SMTPUTF8): fail the delivery,
    keep the address."""


def _verified_tls() -> ssl.SSLContext:
    """Certificate and host name checked, as a browser would (smtplib alone checks neither,
    and would hand the SMTP password to anyone in the way). A relay with a private CA:
    point SSL_CERT_FILE at that CA's certificate."""
    return ssl.create_default_context()


class SmtpSession:
    """One SMTP connection reused for a batch; reconnects after a failure."""

    def __init__(self, url: str | None, timeout: float, data_timeout: float = 0) -> None:
        self.url = url
        self.timeout = timeout
        #: How long to wait for the answer to a message's end (RFC 5321 4.5.3.2.6 says ten
        #: minutes): a slow server that takes it late would otherwise get it twice.
        self.data_timeout = max(timeout, data_timeout)
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        assert self.url
        parts = urlsplit(self.url)
        options = parse_qs(parts.query)
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=self.timeout, context=_verified_tls()
            )
        else:
            smtp = smtplib.SMTP(host, parts.port or 25, timeout=self.timeout)
            if parts.scheme == "smtp+starttls" or options.get("starttls") == ["1"]:
                smtp.starttls(context=_verified_tls())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        return smtp

    def send(self, message: EmailMessage, to: str) -> None:
        """Hand one message to the server. Only a 5xx refusal of the recipient itself is a
        PermanentFailure (the address is then suppressed); a refused message is
        Undeliverable; anything about the server or our settings (TLS, login, sender) is a
        TemporaryFailure, retried with backoff."""
        if not self.url:
            _log_message(message)
            return
        if self._smtp is None:
            self._smtp = self._connected()
        try:
            _send_message(self._smtp, message, to, self.data_timeout)
        except smtplib.SMTPNotSupportedError as exc:
            raise Undeliverable("the SMTP server does not take non-ASCII addresses") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            if code == 421:  # the server is closing the session: the next mail needs another
                self._reset()
            self._raise_for(code, reply, f"recipient refused ({code})")
        except smtplib.SMTPDataError as exc:
            self._reset()
            if 500 <= exc.smtp_code < 600:
                raise Undeliverable(f"message refused ({exc.smtp_code})") from exc
            raise TemporaryFailure(f"message deferred ({exc.smtp_code})") from exc
        except smtplib.SMTPResponseException as exc:  # the sender, a dropped session
            self._reset()
            raise TemporaryFailure(f"server answered {exc.smtp_code}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._reset()
            raise TemporaryFailure(type(exc).__name__) from exc

    def verify(self, sender: str) -> None:
        """Greet the server, secure and log in as a delivery would, and offer `sender` as
        a mail's envelope sender (a server that wants a login refuses it), then leave
        without sending: raises TemporaryFailure with what went wrong (`check`)."""
        self._smtp = self._connected()
        try:
            self._smtp.ehlo_or_helo_if_needed()  # again after STARTTLS, as a delivery does
            code, reply = self._smtp.mail(sender)
            if code >= 400:
                text = reply.decode("utf-8", "replace")[:200]
                raise TemporaryFailure(f"MAIL FROM refused: {code} {text}")
            self._smtp.rset()
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"MAIL FROM: {type(exc).__name__}: {str(exc)[:200]}") from exc
        finally:
            self.close()

    def _connected(self) -> smtplib.SMTP:
        """A connection, greeted, secured and logged in as PARLEY_SMTP_URL says; any failure
        on the way is the server's or the settings', never a recipient's."""
        try:
            return self._connect()
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"connecting: server answered {exc.smtp_code}") from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"connecting: {type(exc).__name__}: {str(exc)[:200]}") from exc

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    @staticmethod
    def _raise_for(code: int, reply: bytes | str, text: str) -> None:
        """A refused recipient: permanent (the address is suppressed) only when the reply
        is about the mailbox itself, not about us or the relay in between."""
        if is_bad_mailbox(code, reply):
            raise PermanentFailure(text)
        raise TemporaryFailure(text)


#: RFC 3463 enhanced status codes: at the start of a reply ("5.1.1 User unknown"), or at
#: its end in brackets as qmail writes them ("… allowed rcpthosts (#5.7.1)").
_ENHANCED = re.compile(
    rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b|\(#([245])\.(\d{1,3})\.(\d{1,3})\)\s*$"
)
#: A refusal that speaks of us, not of the reader's mailbox (read without the addresses
#: in it: "<relay@…>" names a mailbox): our sender ("Sender address rejected", Exim's
#: "Sender verify failed"), or relaying.
_ABOUT_SENDER = re.compile(rb"sender", re.IGNORECASE)
_ABOUT_RELAY = re.compile(rb"relay|rcpthosts|authenticat", re.IGNORECASE)
_ADDRESSES = re.compile(rb"<[^<>]*>|\S+@\S+")


def is_bad_mailbox(code: int, reply: bytes | str) -> bool:
    """Does this refusal of a recipient say the mailbox cannot take mail, for good?

    A 5.1.x code about the recipient (no such address, bad domain: not 5.1.7/5.1.8, the
    sender's) or 5.2.1 (mailbox disabled); or, from a server that gives no such code, a 550,
    551 or 553. Never when the reply speaks of our sender; nor of relaying, unless it names
    the recipient (Postfix: "Recipient address rejected: … relay recipient table"). A
    relay's refusal, a full mailbox (552, 5.2.2) or a system's trouble say nothing about
    the reader, and blocking their address for them would stop their mail for good; those
    are retried, then fail, and block nobody."""
    if not 500 <= code < 600:
        return False
    raw = reply.encode("utf-8", "replace") if isinstance(reply, str) else reply or b""
    words = _ADDRESSES.sub(b" ", raw)
    if _ABOUT_SENDER.search(words):
        return False
    about_relay = bool(_ABOUT_RELAY.search(words))
    enhanced = _ENHANCED.search(raw)
    if enhanced:
        _, subject, detail = (group for group in enhanced.groups() if group is not None)
        if subject == b"1" and detail not in (b"7", b"8"):
            return not about_relay or b"recipient" in words.lower()
        return (subject, detail) == (b"2", b"1")
    return code in (550, 551, 553) and not about_relay


def _send_message(smtp: smtplib.SMTP, message: EmailMessage, to: str, data_timeout: float) -> None:
    """smtplib's sendmail, step by step: without its mbox habit (send_message writes a body
    line that starts with "From " as ">From "), and waiting `data_timeout` for the answer
    to the message itself. A non-ASCII address goes with SMTPUTF8, as send_message would."""
    sender = parseaddr(str(message["From"]))[1]
    international = not (sender.isascii() and to.isascii())
    smtp.ehlo_or_helo_if_needed()
    options: list[str] = []
    if international:
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the server does not take SMTPUTF8")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    out = io.BytesIO()
    policy = SMTP_POLICY.clone(utf8=international)
    BytesGenerator(out, mangle_from_=False, policy=policy).flatten(message, linesep="\r\n")
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(to)
    if code not in (250, 251):
        _end_transaction(smtp, code)
        raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
    sock = smtp.sock
    if sock is not None:
        sock.settimeout(data_timeout)
    try:
        code, reply = smtp.data(out.getvalue())
    finally:
        if smtp.sock is not None:
            smtp.sock.settimeout(smtp.timeout)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    # As sendmail does: a 421 closes the session, anything else resets the transaction.
    if code == 421:
        smtp.close()
    else:
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            pass


def _log_message(message: EmailMessage) -> None:
    """No SMTP server (`make run`, a first try): the mail is printed to the log, its text
    with the links a reader would click (to confirm, to moderate), so that a site can be
    tried without one. The recipient is a keyed hash, never the address; no mail's text
    holds an address."""
    subject = str(make_header(decode_header(str(message["Subject"]))))
    recipient = vault().lookup_hash(str(message["To"]))[:12]  # keyed: no guess confirms it
    part = message.get_body(("plain",))
    text = part.get_content() if isinstance(part, EmailMessage) else ""
    body = "\n".join(f"    {line}" for line in text.strip().splitlines())
    log.info("mail (no PARLEY_SMTP_URL set) to #%s: %s\n%s", recipient, subject, body)
