"""Hostile requests: schemathesis against /api/openapi.json, hypothesis on the sanitizer and
the tokens, and hand-written malformed requests."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator

import nh3
import pytest
import schemathesis
from flask import Flask
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

from .conftest import BACKENDS, make_app


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One app per database for every fuzzed request (built when the tests run)."""
    yield make_app(str(request.param), tmp_path_factory.mktemp("fuzz"))


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "60"))


def test_api_never_errors_and_keeps_its_schema(fuzz_app: Flask) -> None:
    """schemathesis fuzzes every operation of /api/openapi.json through the WSGI app."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    sent: Counter[str] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            with fuzz_app.app_context():
                case.call_and_validate(checks=CHECKS)
            sent[case.operation.label] += 1

        fuzz()
    print(f"\nschemathesis sent {sum(sent.values())} requests")
    assert len(sent) >= 7 and all(count >= 10 for count in sent.values()), sent


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
    # A link is kept only with an address it may have: no address-less <a> looking like one.
    assert len(re.findall(r"<a\b", once)) == len(re.findall(r'<a href="', once)), once


def test_old_bold_and_italic_of_imports_keep_their_emphasis() -> None:
    old = "<p><b>Bold</b>, <I class='x'>italic</I>, <br>and <bdi>so</bdi> on</p>"
    assert sanitize(old) == "<p><strong>Bold</strong>, <em>italic</em>, <br>and so on</p>"


def test_a_link_whose_address_is_refused_becomes_its_text() -> None:
    # As an import brings it (Isso, WordPress: HTML, not Markdown).
    imported = (
        '<p>See <a href="javascript:alert(1)" title="t">this <em>page</em></a> or <a>that</a>.</p>'
    )
    assert sanitize(imported) == "<p>See this <em>page</em> or that.</p>"


# --- tokens -------------------------------------------------------------------------------------

PAYLOADS = st.dictionaries(
    st.sampled_from(["c", "s", "a", "n"]), st.integers(0, 10**9), min_size=1, max_size=3
)


@given(st.sampled_from(PURPOSES), st.sampled_from(PURPOSES), PAYLOADS)
@settings(max_examples=200, deadline=None)
def test_tokens_only_open_for_their_purpose(
    fuzz_app: Flask, made_for: str, read_as: str, payload: dict
) -> None:
    with fuzz_app.test_request_context():
        token = make_token(made_for, payload)
        if made_for == read_as:
            assert read_token(read_as, token) == payload
        else:
            with pytest.raises(TokenError):
                read_token(read_as, token)


@given(st.sampled_from(PURPOSES), PAYLOADS, st.integers(0, 200), st.characters())
@settings(max_examples=200, deadline=None)
def test_tampered_tokens_are_refused(
    fuzz_app: Flask, purpose: str, payload: dict, position: int, char: str
) -> None:
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
def test_random_strings_are_never_tokens(fuzz_app: Flask, text: str) -> None:
    with fuzz_app.test_request_context():
        for purpose in PURPOSES:
            with pytest.raises(TokenError):
                read_token(purpose, text)


def test_a_token_spelled_with_other_base64_characters_is_refused(fuzz_app: Flask) -> None:
    """Base64's decoder takes "/" for "_" and "+" for "-": such a spelling is not the token."""
    with fuzz_app.test_request_context():
        n, token = next(
            (n, t) for n in range(1, 500) if "_" in (t := make_token("confirm", {"s": n}))
        )
        assert read_token("confirm", token) == {"s": n}
        with pytest.raises(TokenError):
            read_token("confirm", token.replace("_", "/", 1))
