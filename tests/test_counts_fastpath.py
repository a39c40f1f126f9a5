"""`GET /api/counts` answered again without Flask while nothing moved (widget/fastpath.py):
the same bytes and headers as Flask's answer, and never a stale count."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import BLOG, Api

QUERY = "/api/counts?site=default&thread=/2026/hello&thread=/2026/other"


def _flask_calls(app: Flask) -> list[str]:
    """Records each request the middleware hands on to Flask."""
    calls: list[str] = []
    fast_path = app.wsgi_app
    inner = fast_path.app  # type: ignore[attr-defined]

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append("flask")
        return inner(environ, start_response)

    fast_path.app = counted  # type: ignore[attr-defined]
    return calls


def test_a_repeated_request_skips_flask_with_the_same_answer(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    api.post()
    calls = _flask_calls(app)
    first = client.get(QUERY, headers={"Origin": BLOG})
    again = client.get(QUERY, headers={"Origin": BLOG})
    assert calls == ["flask"]
    assert first.get_json() == again.get_json() == {"/2026/hello": 1, "/2026/other": 0}
    assert first.headers == again.headers
    assert again.headers["Access-Control-Allow-Origin"] == BLOG
    # Another origin, or no gzip, is another answer: Flask makes it.
    client.get(QUERY)
    client.get(QUERY, headers={"Origin": BLOG, "Accept-Encoding": "gzip"})
    assert calls == ["flask"] * 3


def test_a_count_that_moves_is_never_answered_from_the_old_copy(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    assert client.get(QUERY).get_json()["/2026/other"] == 0
    assert client.get(QUERY).get_json()["/2026/other"] == 0
    api.post(thread="/2026/other")
    assert client.get(QUERY).get_json()["/2026/other"] == 1
    posted = api.post(thread="/2026/other", body="Another one.").get_json()
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert client.get(QUERY).get_json()["/2026/other"] == 1


def test_refusals_are_not_kept(app: Flask, client: FlaskClient) -> None:
    calls = _flask_calls(app)
    for _ in range(2):
        refused = client.get(QUERY, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403
        assert client.get("/api/counts?site=nope&thread=a").status_code == 404
    assert calls == ["flask"] * 4
