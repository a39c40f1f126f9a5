"""Readers' addresses, normalised once: the same mailbox is one address whatever its
spelling, and nothing that cannot be sent safely gets in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from .limits import EMAIL_MAX

#: Unicode categories never part of an address we send to: controls, format characters
#: (bidi overrides, zero-width joiners), line and paragraph separators, private use.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}


class AddressRefused(ValueError):
    """An address Parley will not store or send to; the message says why."""


@dataclass(frozen=True)
class MailAddress:
    #: The one spelling Parley keeps, hashes, blocks, counts and sends to (NFKC, lower case,
    #: the domain as IDNA normalises it).
    canonical: str
    #: The all-ASCII form for an SMTP server without SMTPUTF8 (None: the local part is not
    #: ASCII, so only an SMTPUTF8 server can take it).
    ascii: str | None

    @property
    def domain(self) -> str:
        return self.canonical.rsplit("@", 1)[-1]


def normalize_address(raw: str, *, check_deliverability: bool = False) -> MailAddress:
    """Validate and normalise an address; raise AddressRefused with a reader-facing message."""
    return _normalized(raw.strip(), check_deliverability)


@lru_cache(maxsize=4096)  # a post checks its address in the form, then hashes it
def _normalized(text: str, check_deliverability: bool) -> MailAddress:
    if not text or len(text) > EMAIL_MAX:
        raise AddressRefused("Enter a valid email address.")
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text):
        raise AddressRefused("This email address contains characters that are not allowed.")
    try:
        first = validate_email(text, check_deliverability=check_deliverability)
        # One mailbox, one spelling: fullwidth or other compatibility forms and case fold
        # into the same address, which is then validated again as it will be used.
        folded = fold_address(first.normalized)
        # (Most addresses are already in that form: nothing new to validate.)
        final = (
            first
            if folded == first.normalized
            else validate_email(folded, check_deliverability=False)
        )
    except EmailNotValidError as exc:
        raise AddressRefused("Enter a valid email address.") from exc
    local = final.local_part
    # "=?" opens an RFC 2047 encoded word: mail software may decode it into header text.
    if "=?" in local or "?=" in local:
        raise AddressRefused("This email address cannot receive mail safely; use another.")
    return MailAddress(canonical=final.normalized, ascii=final.ascii_email)


@lru_cache(maxsize=4096)  # the same readers post again and again
def canonical_email(raw: str) -> str:
    """The canonical spelling of an address, or a best-effort fold of one that is not valid
    (for look-ups of stored or imported data, which are never sent to unvalidated)."""
    try:
        return normalize_address(raw).canonical
    except AddressRefused:
        return fold_address(raw.strip())


def fold_address(address: str) -> str:
    """The local part in NFKC and lower case; the domain as IDNA (UTS 46) spells it.

    Lower case, not casefold(): casefolding turns ß into ss and ς into σ, and "faß.de" and
    "fass.de" are two domains (as "straße@" and "strasse@" may be two mailboxes).
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return unicodedata.normalize("NFKC", address).lower()
    return f"{unicodedata.normalize('NFKC', local).lower()}@{domain.lower()}"


def older_spelling(email: str) -> str | None:
    """How `email` was stored before 2026-11-29, when it differs: addresses were casefolded
    then (ß as ss, ς as σ), which can name another mailbox or domain."""
    current = canonical_email(email)
    return current.casefold() if current.casefold() != current else None


#: Domains whose mailboxes ignore dots in the local part (Gmail's own rule).
_DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox_of(canonical: str) -> str:
    """The mailbox a canonical address reaches: without a +tag ("ada+news@" is "ada@"), and
    at Gmail without dots. Many spellings, one inbox: caps on what a stranger can have
    mailed to it count here, not per spelling."""
    local, _, domain = canonical.rpartition("@")
    if "+" in local[1:]:
        local = local[: local.index("+", 1)]
    if domain in _DOTLESS:
        local, domain = local.replace(".", ""), _DOTLESS[domain]
    return f"{local}@{domain}"
