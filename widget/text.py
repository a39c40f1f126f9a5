"""What reader- and page-supplied text may contain: one definition for forms, query
parameters and feeds."""

from __future__ import annotations

import re

#: Never in a single-line value (a name, a title, a key, a URL): every C0 control, DEL,
#: C1 controls, bidi embeddings/overrides/isolates, and lone surrogates (which cannot be
#: stored as UTF-8).
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Never in a comment body: the same, but line breaks and tabs are text; bidi controls are
#: removed instead of refused (harmless to drop, and pasted text carries them).
_UNSAFE_IN_BODY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Characters XML 1.0 does not allow at all (a feed with one is not well-formed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def unsafe_in_line(value: str) -> bool:
    return _UNSAFE_IN_LINE.search(value) is not None


def unsafe_in_body(value: str) -> bool:
    return _UNSAFE_IN_BODY.search(value) is not None


def remove_unsafe_in_line(value: str) -> str:
    return _UNSAFE_IN_LINE.sub("", value)


def remove_unsafe_in_body(value: str) -> str:
    """A body as the form would take it: controls and lone surrogates out, bidi dropped."""
    return _UNSAFE_IN_BODY.sub("", without_bidi_controls(value))


def without_bidi_controls(value: str) -> str:
    return _BIDI_CONTROLS.sub("", value)


def xml_safe(value: str) -> str:
    """Text fit for an XML document (the Atom feed), whatever was stored."""
    return _NOT_XML.sub("", value)


def query_value_ok(value: str) -> bool:
    """A query parameter PostgreSQL and the pages can take: no NUL, no lone surrogate."""
    return "\x00" not in value and not re.search("[\ud800-\udfff]", value)
