"""Hostile requests: schemathesis against /api/openapi.json, hypothesis on the sanitizer and
the tokens, and hand-written malformed requests."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import nh3
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from widget.render import ALLOWED_TAGS, markdown_to_html, sanitize
from widget.tokens import PURPOSES, TokenError, make_token, read_token

from .conftest import make_app

_folder = Path(tempfile.mkdtemp(prefix="parley-fuzz-"))
os.environ.setdefault("PARLEY_INSTANCE_PATH", str(_folder / "instance"))
fuzz_app = make_app("sqlite", _folder)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "60"))


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_errors_and_keeps_its_schema(case: schemathesis.Case) -> None:
    with fuzz_app.app_context():
        case.call_and_validate(checks=CHECKS)
    REQUESTS_SENT.append(case.operation.label)


REQUESTS_SENT: list[str] = []


def test_fuzzer_really_ran() -> None:
    """Runs after the fuzzing above (file order): it sent requests to every operation."""
    print(f"\nschemathesis sent {len(REQUESTS_SENT)} requests")
    assert len(set(REQUESTS_SENT)) >= 7 and len(REQUESTS_SENT) >= 7 * 10


# --- sanitizer ----------------------------------------------------------------------------

MARKUP = st.lists(
    st.sampled_from(
        [
            "<script>",
            "</script>",
            "<img src=x onerror=alert(1)>",
            "<a href='javascript:x'>",
            "</a>",
            "<svg onload=x>",
            "<p>",
            "</p>",
            "<b>",
            '"',
            "'",
            "<",
            ">",
            "&",
            "[x](javascript:y)",
            "**",
            "`",
            "\n\n",
            "<iframe>",
            "<style>",
            "javascript:",
            "on",
            "=",
            " ",
            "x",
            "🦄",
        ]
    ),
    max_size=40,
).map("".join)


@given(st.one_of(st.text(max_size=300), MARKUP))
@settings(max_examples=400, deadline=None)
def test_rendered_html_holds_only_allowed_markup(text: str) -> None:
    html = markdown_to_html(text)
    assert (
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "rel"}},
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
        )
        == html
    )
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<svg" not in lowered
    assert re.findall(r'href="(?!https?:|mailto:)', lowered) == []
    assert all(rel == "nofollow ugc noopener" for rel in re.findall(r'rel="([^"]*)"', html))


@given(st.one_of(st.text(max_size=300), MARKUP))
@settings(max_examples=300, deadline=None)
def test_sanitize_is_idempotent(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


# --- tokens -------------------------------------------------------------------------------------

PAYLOADS = st.dictionaries(
    st.sampled_from(["c", "s", "a", "n"]), st.integers(0, 10**9), min_size=1, max_size=3
)


@given(st.sampled_from(PURPOSES), st.sampled_from(PURPOSES), PAYLOADS)
@settings(max_examples=200, deadline=None)
def test_tokens_only_open_for_their_purpose(made_for: str, read_as: str, payload: dict) -> None:
    with fuzz_app.test_request_context():
        token = make_token(made_for, payload)
        if made_for == read_as:
            assert read_token(read_as, token) == payload
        else:
            with pytest.raises(TokenError):
                read_token(read_as, token)


@given(st.sampled_from(PURPOSES), PAYLOADS, st.integers(0, 200), st.characters())
@settings(max_examples=200, deadline=None)
def test_tampered_tokens_are_refused(purpose: str, payload: dict, position: int, char: str) -> None:
    with fuzz_app.test_request_context():
        token = make_token(purpose, payload)
        index = position % len(token)
        tampered = token[:index] + char + token[index + 1 :]
        if tampered == token:
            return
        with pytest.raises(TokenError):
            read_token(purpose, tampered)


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_random_strings_are_never_tokens(text: str) -> None:
    with fuzz_app.test_request_context():
        for purpose in PURPOSES:
            with pytest.raises(TokenError):
                read_token(purpose, text)
