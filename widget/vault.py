"""Readers' addresses at rest: encrypted, with keyed hashes for look-ups and avatars."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .addresses import canonical_email, mailbox_of


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"parley", info=purpose).derive(
        secret.encode()
    )


normalise_email = canonical_email


#: Marks AES-256-GCM ciphertexts; anything else is a Fernet token from before.
_GCM = "g1."
_ASSOCIATED = b"parley-email"
#: Sealed secrets: an address's ciphertext cannot pass for one (nor one for an address).
_SEALED = b"parley-secret"


class Vault:
    """Encrypts addresses (AES-256-GCM) and derives keyed hashes (HMAC-SHA256) from them."""

    def __init__(self, secret: str) -> None:
        key = _derive(secret, b"email-encryption")
        # One cipher object for the process: Fernet built three per address, a tenth of a post.
        self._aead = AESGCM(key)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))  # reads what it stored
        self._lookup_key = _derive(secret, b"email-lookup")
        self._avatar_key = _derive(secret, b"avatar")
        self._secret = secret
        self._purpose_keys: dict[str, bytes] = {}

    def encrypt(self, email: str) -> str:
        nonce = os.urandom(12)  # random 96-bit nonces: safe far beyond any site's readers
        sealed = self._aead.encrypt(nonce, normalise_email(email).encode(), _ASSOCIATED)
        return _GCM + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        """The address, or "" for a token this key did not make."""
        try:
            if token.startswith(_GCM):
                raw = base64.urlsafe_b64decode(token[len(_GCM) :])
                return self._aead.decrypt(raw[:12], raw[12:], _ASSOCIATED).decode()
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, InvalidTag, ValueError):
            return ""

    def seal(self, secret: str) -> str:
        """Encrypt a secret exactly as given (a webhook's URL or key): `encrypt` would fold
        it as an address, and a chat URL's token is case-sensitive."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), _SEALED)
        return _GCM + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, token: str) -> str:
        """The secret `seal` stored, or "" for a token this key did not seal."""
        try:
            raw = base64.urlsafe_b64decode(token.removeprefix(_GCM))
            return self._aead.decrypt(raw[:12], raw[12:], _SEALED).decode()
        except (InvalidTag, ValueError):
            return ""

    def lookup_hash(self, email: str) -> str:
        """Equal for equal addresses; useless without the server's key."""
        return hmac.new(
            self._lookup_key, normalise_email(email).encode(), hashlib.sha256
        ).hexdigest()

    def mailbox_hash(self, email: str) -> str:
        """Equal for every spelling of one mailbox (addresses.mailbox_of)."""
        return self.keyed_hash("mailbox", mailbox_of(normalise_email(email)))

    def keyed_hash(self, purpose: str, text: str) -> str:
        """HMAC-SHA256 of `text` under a key of its own per purpose (voters, networks)."""
        key = self._purpose_keys.get(purpose)
        if key is None:
            key = self._purpose_keys[purpose] = _derive(self._secret, purpose.encode())
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    def avatar_seed(self, text: str, site_id: int | None = None) -> str:
        """The identicon's seed: per site, so one address's avatars on two sites (or a
        guessed address) cannot be matched."""
        scoped = f"{site_id}\x00{text.strip().lower()}" if site_id is not None else text.lower()
        return hmac.new(self._avatar_key, scoped.strip().encode(), hashlib.sha256).hexdigest()[:20]


def vault() -> Vault:
    """The application's vault (keyed by PARLEY_EMAIL_KEY, else the secret key)."""
    return current_app.extensions["parley_vault"]  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)  # the same few addresses post again and again
def truncate_ip(raw: str) -> str:
    """Keep a /24 of IPv4 and a /48 of IPv6: enough for blocks, not a person."""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
