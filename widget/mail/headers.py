"""Headers that go on the wire exactly as Parley builds them.

Python's email package parses a header value when it is set (decoding any RFC 2047
encoded word in it, CR/LF included, on versions without the CVE-2024-6923 fix) and folds
long lines into encoded words (which hides `List-Unsubscribe` from mail clients). Every
header that carries an address, a URL, an id or reader-written text is built here instead:
text as encoded words made by us, structured values as plain ASCII on one line.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from email.policy import Policy
from email.utils import parseaddr

#: Characters never copied into a header, even encoded: controls, bidi and other format
#: characters, line and paragraph separators.
_DROPPED = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
#: Bytes of UTF-8 per encoded word: "=?utf-8?b?" + 52 base64 characters + "?=" = 64, so
#: that one fits on a line after "List-Id: " or "Subject: " within RFC 2047's 76.
_WORD_BYTES = 39
#: RFC 2047: a line holding an encoded word is at most 76 characters, its header name included.
LINE_MAX = 76
_PLAIN = re.compile(r"[\x21-\x7e]+")
_URL_SAFE = re.compile(r"[\x21-\x7e]+")


class WireHeader:
    """A header value in its final wire form; the email package writes it out unchanged."""

    def __init__(self, name: str, wire: str) -> None:
        self.name = name
        #: The value; folded lines are joined by CRLF + a space.
        self.wire = wire

    def fold(self, *, policy: Policy) -> str:
        linesep = policy.linesep
        return f"{self.name}: {self.wire.replace(chr(13) + chr(10), linesep)}{linesep}"

    def __str__(self) -> str:
        return self.wire


def clean_text(value: str, limit: int = 200) -> str:
    """Reader- or page-supplied text fit for a header: one line, no control or format
    characters, at most `limit` characters."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in _DROPPED)
    return " ".join(kept.split())[:limit].rstrip()


#: RFC 5322 specials: in a phrase (List-Id, a display name) they would change its meaning.
_SPECIALS = set('()<>[]:;@\\,."')


def encoded_text(value: str, limit: int = 200, phrase: bool = False, name: str = "") -> str:
    """`value` as header text: plain words when it is printable ASCII with nothing that looks
    like an encoded word (and, in a phrase, no specials), else RFC 2047 base64 encoded
    words; folded at spaces only, the first line after "`name`: "."""
    text = clean_text(value, limit)
    words = text.split(" ")
    plain = all(_PLAIN.fullmatch(word) and "=?" not in word for word in words if word)
    if plain and not (phrase and _SPECIALS & set(text)):
        return _fold_words(words, name)
    return _fold_words(_encoded_words(text), name)


def _encoded_words(text: str) -> list[str]:
    chunks: list[str] = []
    current = b""
    for ch in text:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > _WORD_BYTES:
            chunks.append(current.decode())
            current = b""
        current += encoded
    if current:
        chunks.append(current.decode())
    return [f"=?utf-8?b?{base64.b64encode(c.encode()).decode()}?=" for c in chunks]


def _fold_words(words: list[str], name: str = "") -> str:
    """Words on lines of at most LINE_MAX characters (the first after "`name`: ", each
    folded one after a space); a word is never split."""
    lines: list[str] = []
    line = ""
    used = len(name) + 2 if name else 0  # what the first line holds before the value
    for word in words:
        if line and used + len(line) + 1 + len(word) > LINE_MAX:
            lines.append(line)
            line, used = word, 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


def text_header(name: str, value: str, limit: int = 200) -> WireHeader:
    return WireHeader(name, encoded_text(value, limit, name=name))


def list_id_header(description: str, label: str) -> WireHeader:
    """List-Id (RFC 2919): the description as text we encode, then `<label>`."""
    if not re.fullmatch(r"[A-Za-z0-9.-]+", label):
        raise ValueError(f"not a list label: {label!r}")
    text = encoded_text(description, 80, phrase=True, name="List-Id")
    return WireHeader("List-Id", f"{text}\r\n <{label}>")


def url_header(name: str, *urls: str) -> WireHeader:
    """`<url>, <url>` on one line (RFC 2369): never folded, never encoded."""
    for url in urls:
        if not _URL_SAFE.fullmatch(url) or ">" in url or "<" in url:
            raise ValueError(f"not a URL that can go into a header: {url!r}")
    return WireHeader(name, ", ".join(f"<{url}>" for url in urls))


def ids_header(name: str, *ids: str) -> WireHeader:
    """Message ids (`<local@domain>`), folded between ids only."""
    for message_id in ids:
        if not re.fullmatch(r"<[\x21-\x3d\x3f-\x7e]+@[A-Za-z0-9.-]+>", message_id):
            raise ValueError(f"not a message id: {message_id!r}")
    return WireHeader(name, _fold_words(list(ids), name))


def address_header(name: str, address: str, display_name: str = "") -> WireHeader:
    """`"Display" <addr>` with the display name as text we encode; the address as given
    (ASCII, or UTF-8 only when the SMTP server takes SMTPUTF8)."""
    if not address or any(ch in address for ch in '<>\r\n\t ,;"\\') or "=?" in address:
        raise ValueError("not an address that can go into a header")
    if not display_name:
        return WireHeader(name, address)
    return WireHeader(name, _fold_words([*_phrase(display_name), f"<{address}>"], name))


def _phrase(display_name: str) -> list[str]:
    """A display name as the words of a phrase: one quoted string, or encoded words."""
    text = clean_text(display_name, 100)
    if re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ .-]+", text) and "=?" not in text:
        return ['"' + text + '"']
    return _encoded_words(text)


def sender_header(name: str, configured: str) -> WireHeader:
    """The From header from PARLEY_MAIL_FROM ("Name <addr>" or a bare address)."""
    display_name, address = parse_sender(configured)
    return address_header(name, address, display_name)


def parse_sender(configured: str) -> tuple[str, str]:
    """(display name, ASCII address) of PARLEY_MAIL_FROM; ValueError saying what is wrong."""
    display_name, address = parseaddr(configured)
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(
            f"PARLEY_MAIL_FROM must be an address or 'Name <address>' (a name with a comma "
            f"needs quotes): {configured!r}"
        )
    if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+", local) or "=?" in local:
        raise ValueError("PARLEY_MAIL_FROM needs a plain ASCII local part (before the @).")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"PARLEY_MAIL_FROM has a domain that is not valid: {domain!r}") from exc
    return display_name, f"{local}@{ascii_domain}"
