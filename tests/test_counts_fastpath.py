"""`GET /api/counts` and thread pages answered again without Flask while nothing they were
made from moved (widget/fastpath.py): the same bytes and headers as Flask's answer, and
never a stale one."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.conftest import BLOG, Api
from widget.extensions import db
from widget.models import Site

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


# --- thread pages ------------------------------------------------------------------------

PAGE = "/api/comments?site=default&thread=/2026/hello"


def test_a_repeated_thread_read_skips_flask_and_follows_every_change(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    api.post()
    calls = _flask_calls(app)
    first = client.get(PAGE, headers={"Origin": BLOG})
    again = client.get(PAGE, headers={"Origin": BLOG})
    assert calls == ["flask"] and first.data == again.data and first.headers == again.headers
    # A browser revalidating: the 304 is kept too, and still a 304.
    etag = first.headers["ETag"]
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    assert calls == ["flask"] * 2
    # A new comment: the kept answers are stale, for a plain read and a revalidation alike.
    api.post(body="Second.")
    assert len(client.get(PAGE, headers={"Origin": BLOG}).get_json()["comments"]) == 2
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 200


def test_a_kept_open_page_does_not_outlive_the_auto_close_deadline(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    api.post()
    site = db.session.scalars(select(Site)).one()
    site.close_after_days = 1
    db.session.commit()
    assert client.get(PAGE).get_json()["thread"]["closed"] is False
    assert client.get(PAGE).get_json()["thread"]["closed"] is False
    app.extensions["parley_clock"].advance(2 * 86_400)
    assert client.get(PAGE).get_json()["thread"]["closed"] is True


def test_a_site_that_drops_an_origin_stops_answering_it_at_once(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    api.post()
    assert client.get(PAGE, headers={"Origin": BLOG}).status_code == 200
    assert client.get(PAGE, headers={"Origin": BLOG}).status_code == 200
    site = db.session.scalars(select(Site)).one()
    site.origins = "https://other.example"
    db.session.commit()
    assert client.get(PAGE, headers={"Origin": BLOG}).status_code == 403


def test_a_thread_made_again_under_a_kept_key_is_never_answered_with_the_old_one(
    app: Flask, client: FlaskClient, api: Api, runner: FlaskCliRunner
) -> None:
    api.post(body="On the old article.")
    assert client.get(PAGE).get_json()["comments"][0]["html"] == "<p>On the old article.</p>"
    client.get(PAGE)
    moved = runner.invoke(args=["threads", "move", "default", "/2026/hello", "/2026/moved"])
    assert moved.exit_code == 0, moved.output
    api.post(body="On the new article.")  # a new thread, at the same version as the old one
    (shown,) = client.get(PAGE).get_json()["comments"]
    assert shown["html"] == "<p>On the new article.</p>"
