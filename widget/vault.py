"""Readers' addresses at rest: encrypted, with keyed hashes for look-ups and avatars."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"parley", info=purpose).derive(
        secret.encode()
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Vault:
    """Encrypts addresses (Fernet) and derives keyed hashes (HMAC-SHA256) from them."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"email-encryption")))
        self._lookup_key = _derive(secret, b"email-lookup")
        self._avatar_key = _derive(secret, b"avatar")

    def encrypt(self, email: str) -> str:
        return self._fernet.encrypt(normalise_email(email).encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return ""

    def lookup_hash(self, email: str) -> str:
        """Equal for equal addresses; useless without the server's key."""
        return hmac.new(
            self._lookup_key, normalise_email(email).encode(), hashlib.sha256
        ).hexdigest()

    def avatar_seed(self, text: str) -> str:
        return hmac.new(
            self._avatar_key, text.strip().lower().encode(), hashlib.sha256
        ).hexdigest()[:20]


def vault() -> Vault:
    """The application's vault (keyed by PARLEY_EMAIL_KEY, else the secret key)."""
    return current_app.extensions["parley_vault"]  # type: ignore[no-any-return]


def truncate_ip(raw: str) -> str:
    """Keep a /24 of IPv4 and a /48 of IPv6: enough for blocks, not a person."""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
