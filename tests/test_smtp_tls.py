"""Mail over TLS to a real aiosmtpd server: STARTTLS with AUTH, SMTPS, and a certificate the
mailer must refuse. The certificate is made for 127.0.0.1 by the test itself."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from widget.mail import SmtpSession, TemporaryFailure

from .live import free_port
from .smtp import Recorder

USER, PASSWORD = "parley", "s3cret pass"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "parley test relay")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Login:
    """aiosmtpd authenticator: one account; remembers who logged in."""

    def __init__(self) -> None:
        self.users: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        if ok:
            self.users.append(USER)
        return AuthResult(success=ok)


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture
def starttls_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Recorder, Login]]:
    recorder, login, port = Recorder(), Login(), free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=login,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    yield port, recorder, login
    controller.stop()


@pytest.fixture
def smtps_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Recorder]]:
    recorder, port = Recorder(), free_port()
    context = _server_context(certificate)
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    yield port, recorder
    controller.stop()


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "parley@example.org", to, "TLS"
    message.set_content("Sent over TLS.")
    return message


def test_starttls_with_login_delivers(
    starttls_relay: Any, certificate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, recorder, login = starttls_relay
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the relay's private CA
    url = f"smtp+starttls://{USER}:s3cret%20pass@127.0.0.1:{port}"
    with SmtpSession(url, timeout=10) as session:
        session.send(_message("reader@example.org"), "reader@example.org")
    assert [m["Subject"] for m in recorder.to("reader@example.org")] == ["TLS"]
    assert login.users == [USER]


def test_verify_finds_a_login_the_server_wants_and_the_url_lacks(
    starttls_relay: Any, certificate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `flask --app app check` does: greet, secure, log in, offer the sender, leave."""
    port, recorder, login = starttls_relay
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with pytest.raises(TemporaryFailure, match=r"MAIL FROM refused: 530"):
        SmtpSession(f"smtp+starttls://127.0.0.1:{port}", timeout=10).verify("c@blog.example")
    SmtpSession(f"smtp+starttls://{USER}:s3cret%20pass@127.0.0.1:{port}", timeout=10).verify(
        "c@blog.example"
    )
    assert login.users == [USER] and recorder.raw == []  # logged in, nothing sent


def test_an_unverified_certificate_gets_no_password(
    starttls_relay: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, recorder, login = starttls_relay
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system CAs do not know it
    url = f"smtp+starttls://{USER}:s3cret%20pass@127.0.0.1:{port}"
    with SmtpSession(url, timeout=10) as session, pytest.raises(TemporaryFailure) as failure:
        session.send(_message("reader@example.org"), "reader@example.org")
    assert "CERTIFICATE_VERIFY_FAILED" in str(failure.value)
    assert recorder.messages == [] and login.users == []


def test_smtps_delivers(
    smtps_relay: Any, certificate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, recorder = smtps_relay
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with SmtpSession(f"smtps://127.0.0.1:{port}", timeout=10) as session:
        session.send(_message("reader@example.org"), "reader@example.org")
    assert [m["Subject"] for m in recorder.to("reader@example.org")] == ["TLS"]
