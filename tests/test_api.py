"""The JSON API, through the Flask test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from widget import cors, threads
from widget.extensions import db
from widget.models import Comment, Thread

from .conftest import BLOG, Api, comment_payload


def test_post_creates_thread_with_title_and_url(api: Api) -> None:
    response = api.post()
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "approved"
    assert body["edit_token"]
    assert body["comment"]["html"] == "<p>A first comment.</p>"
    assert set(body["comment"]) >= {
        "id",
        "parent_id",
        "author",
        "website",
        "avatar",
        "html",
        "created_at",
        "edited_at",
        "replies",
    }
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.title, thread.url) == ("Hello world", "https://blog.example/2026/hello")


def test_a_thread_made_without_title_takes_the_first_comments(api: Api) -> None:
    assert api.post(title=None, url=None).status_code == 201
    assert db.session.scalars(select(Thread)).one().title == ""
    assert api.post(body="Second.").status_code == 201
    db.session.expire_all()
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.title, thread.url) == ("Hello world", "https://blog.example/2026/hello")
    assert api.thread().get_json()["thread"]["title"] == "Hello world"
    assert api.post(body="Third.", title="Another title").status_code == 201
    db.session.expire_all()
    assert db.session.scalars(select(Thread)).one().title == "Hello world"  # the first one stays


def test_list_nests_replies_and_keeps_order(api: Api) -> None:
    first = api.post(body="one").get_json()["comment"]["id"]
    second = api.post(body="two").get_json()["comment"]["id"]
    reply = api.post(body="reply", parent_id=first).get_json()["comment"]["id"]
    api.post(body="reply to reply", parent_id=reply)
    data = api.thread().get_json()
    assert [c["id"] for c in data["comments"]] == [first, second]
    assert data["comments"][0]["replies"][0]["id"] == reply
    assert data["comments"][0]["replies"][0]["replies"][0]["html"] == "<p>reply to reply</p>"
    assert data["thread"]["count"] == 4
    assert data["next_cursor"] is None


def test_paging_walks_every_top_level_comment_once(api: Api) -> None:
    ids = [api.post(body=f"comment {i}").get_json()["comment"]["id"] for i in range(7)]
    api.post(body="reply", parent_id=ids[0])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.thread(**params).get_json()
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_etag_answers_304_until_the_thread_changes(api: Api) -> None:
    api.post()
    first = api.thread()
    etag = first.headers["ETag"]
    again = api.client.get(
        "/api/comments?site=default&thread=/2026/hello", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    api.post(body="new")
    changed = api.client.get(
        "/api/comments?site=default&thread=/2026/hello", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert len(changed.get_json()["comments"]) == 2


def test_edit_inside_window_changes_html(api: Api) -> None:
    posted = api.post().get_json()
    response = api.client.patch(
        f"/api/comments/{posted['comment']['id']}",
        json={"body": "**edited**"},
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert response.status_code == 200
    assert response.get_json()["comment"]["html"] == "<p><strong>edited</strong></p>"
    assert response.get_json()["comment"]["edited_at"]
    assert api.thread().get_json()["comments"][0]["html"] == "<p><strong>edited</strong></p>"


def test_an_edit_sent_while_a_moderator_approves_sees_the_decision(api: Api, backend: str) -> None:
    """The reader's edit waits for the moderator's transaction and then finds the comment
    reviewed: a 403, not new text nobody reviewed (SQLite took the check before the wait)."""
    db.session.execute(db.text("UPDATE sites SET moderation = 'all'"))
    db.session.commit()
    posted = api.post(body="Please approve me.").get_json()
    comment_id, token = posted["comment"]["id"], posted["edit_token"]
    db.session.remove()
    moderator = db.engine.connect()
    if backend == "sqlite":
        moderator.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock approving takes first
    moderator.execute(
        db.text("UPDATE comments SET status = 'approved' WHERE id = :id"), {"id": comment_id}
    )
    moderator.execute(
        db.text(
            "INSERT INTO moderation_events (comment_id, actor, action, detail, created_at)"
            " VALUES (:id, 'admin:mod@blog.example', 'approve', '', CURRENT_TIMESTAMP)"
        ),
        {"id": comment_id},
    )
    answers: list[int] = []

    def edit() -> None:
        with api.client.application.app_context():
            answers.append(
                api.client.patch(
                    f"/api/comments/{comment_id}",
                    json={"body": "Changed after approval."},
                    headers={"Authorization": f"Bearer {token}"},
                ).status_code
            )

    editor = threading.Thread(target=edit)
    editor.start()
    editor.join(1.0)  # it waits on the moderator's lock
    assert editor.is_alive()
    moderator.commit()
    moderator.close()
    editor.join(30)
    assert answers == [403]
    assert api.thread().get_json()["comments"][0]["html"] == "<p>Please approve me.</p>"


def test_edit_outside_window_is_refused(api: Api) -> None:
    posted = api.post().get_json()
    comment = db.session.get(Comment, posted["comment"]["id"])
    comment.created_at -= timedelta(minutes=16)
    db.session.commit()
    response = api.client.patch(
        f"/api/comments/{comment.id}",
        json={"body": "late"},
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert response.status_code == 403
    assert api.thread().get_json()["comments"][0]["html"] == "<p>A first comment.</p>"


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc"])
def test_edit_without_valid_token_is_refused(api: Api, header: str | None) -> None:
    posted = api.post().get_json()
    headers = {"Authorization": header} if header else {}
    response = api.client.patch(
        f"/api/comments/{posted['comment']['id']}", json={"body": "x"}, headers=headers
    )
    assert response.status_code in (401, 403)
    assert response.get_json()["error"]


def test_token_of_one_comment_does_not_edit_another(api: Api) -> None:
    mine = api.post().get_json()
    other = api.post(author="Eve", email="eve@example.org").get_json()
    response = api.client.patch(
        f"/api/comments/{other['comment']['id']}",
        json={"body": "x"},
        headers={"Authorization": f"Bearer {mine['edit_token']}"},
    )
    assert response.status_code == 403


def test_delete_keeps_replies_under_placeholder(api: Api) -> None:
    parent = api.post(body="parent").get_json()
    api.post(body="child", parent_id=parent["comment"]["id"])
    response = api.client.delete(
        f"/api/comments/{parent['comment']['id']}",
        headers={"Authorization": f"Bearer {parent['edit_token']}"},
    )
    assert response.status_code == 204
    top = api.thread().get_json()["comments"][0]
    assert top["html"] == "<p>[deleted]</p>" and top["author"] == ""
    assert top["replies"][0]["html"] == "<p>child</p>"
    assert api.thread().get_json()["thread"]["count"] == 1


def test_delete_without_replies_removes_it(api: Api) -> None:
    posted = api.post().get_json()
    api.client.delete(
        f"/api/comments/{posted['comment']['id']}",
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert api.thread().get_json()["comments"] == []


def test_counts_for_many_threads(api: Api) -> None:
    api.post(thread="/a")
    api.post(thread="/a")
    api.post(thread="/b")
    response = api.client.get("/api/counts?site=default&thread=/a&thread=/b&thread=/none")
    assert response.get_json() == {"/a": 2, "/b": 1, "/none": 0}


def test_counts_belong_to_the_named_site(api: Api, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["sites", "add", "other", "--moderation", "none"]).exit_code == 0
    api.post(thread="/a")
    api.post(site="other", thread="/a")
    api.post(site="other", thread="/a")
    assert api.client.get("/api/counts?site=other&thread=/a").get_json() == {"/a": 2}
    assert api.client.get("/api/counts?site=default&thread=/a").get_json() == {"/a": 1}
    unknown = api.client.get("/api/counts?site=nowhere&thread=/a")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == "not_found"


def test_cors_allows_site_origin(api: Api) -> None:
    api.post()
    response = api.client.get(
        "/api/comments?site=default&thread=/2026/hello", headers={"Origin": BLOG}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == BLOG
    assert "Origin" in response.headers["Vary"]


def test_while_the_database_is_away_the_widget_can_still_read_the_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post()
    assert api.thread().status_code == 200
    seen = api.client.get("/api/comments?site=default&thread=/2026/hello", headers={"Origin": BLOG})
    assert seen.headers["Access-Control-Allow-Origin"] == BLOG

    def away(*_: object, **__: object) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(cors, "any_site_allows", away)
    monkeypatch.setattr(threads, "find_page_thread", away)
    ask = {"Origin": BLOG, "Access-Control-Request-Method": "POST"}
    preflight = api.client.options("/api/comments", headers=ask)
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == BLOG
    posted = api.client.post("/api/comments", json=comment_payload(), headers={"Origin": BLOG})
    assert posted.status_code == 503 and posted.headers["Access-Control-Allow-Origin"] == BLOG
    assert "Retry-After" in posted.headers["Access-Control-Expose-Headers"]
    stranger = {**ask, "Origin": "https://never.example"}
    assert (
        "Access-Control-Allow-Origin"
        not in api.client.options("/api/comments", headers=stranger).headers
    )


def test_cors_refuses_foreign_origin(api: Api) -> None:
    api.post()
    response = api.client.get(
        "/api/comments?site=default&thread=/2026/hello", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    posted = api.client.post(
        "/api/comments",
        json={
            "site": "default",
            "thread": "/x",
            "author": "a",
            "email": "a@b.example",
            "body": "x",
        },
        headers={"Origin": "https://evil.example"},
    )
    assert posted.status_code == 403
    assert db.session.scalar(select(Thread).where(Thread.key == "/x")) is None


def test_preflight_for_site_origin_and_not_for_others(api: Api) -> None:
    ok = api.client.options(
        "/api/comments",
        headers={
            "Origin": BLOG,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == BLOG
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    refused = api.client.options(
        "/api/comments",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 403


def test_validation_errors_are_per_field(api: Api) -> None:
    response = api.post(author="", email="not-an-address", body="", website="ftp://x")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"author", "email", "body", "website"}


@pytest.mark.parametrize("field, value", [("author", "x" * 81), ("body", "x" * 10_001)])
def test_over_long_fields_are_refused_not_cut(api: Api, field: str, value: str) -> None:
    response = api.post(**{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_wrong_json_types_are_field_errors(api: Api) -> None:
    response = api.post(author=["x"], notify="yes", parent_id="3")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"author", "notify", "parent_id"}


def test_parent_from_another_thread_is_refused(api: Api) -> None:
    other = api.post(thread="/other").get_json()["comment"]["id"]
    response = api.post(parent_id=other)
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        ("author=x", "application/x-www-form-urlencoded", 415),
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 413),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "application/json", 400),
        (b"\xff\xfe\x00bad", "application/json", 400),
    ],
)
def test_malformed_requests_get_clean_errors(
    api: Api, data: str, content_type: str, status: int
) -> None:
    response = api.client.post("/api/comments", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_unknown_site_thread_and_comment_are_404(api: Api) -> None:
    assert api.client.get("/api/comments?site=nope&thread=/a").status_code == 404
    never = api.thread("/never")  # a new article: an empty page, not an error
    assert never.status_code == 200 and never.get_json()["comments"] == []
    assert api.post(site="nope").status_code == 404
    assert api.client.patch(
        "/api/comments/999", json={"body": "x"}, headers={"Authorization": "Bearer x"}
    ).status_code in (403, 404)


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=lots", "sort=bogus", "cursor=zzz", "cursor=" + "A" * 40]
)
def test_a_thread_nobody_commented_on_checks_its_query_like_any_other(api: Api, query: str) -> None:
    api.post(thread="/has-one")
    for key in ("/has-one", "/never"):
        answer = api.client.get(f"/api/comments?site=default&thread={key}&{query}")
        assert answer.status_code == 400, (key, query, answer.get_json())
        if query.startswith("cursor"):  # the no-JavaScript page reads it the same way
            page = api.client.get(f"/threads?site=default&thread={key}&{query}")
            assert page.status_code == 400, (key, query)


def test_the_empty_page_of_a_new_article_is_revalidated_and_then_changes(api: Api) -> None:
    empty = api.thread("/new")
    assert empty.headers["Cache-Control"] == "public, max-age=0, s-maxage=10, must-revalidate"
    again = api.client.get(
        "/api/comments?site=default&thread=/new", headers={"If-None-Match": empty.headers["ETag"]}
    )
    assert again.status_code == 304 and again.headers["ETag"] == empty.headers["ETag"]
    api.post(thread="/new", body="The first.")
    after = api.client.get(
        "/api/comments?site=default&thread=/new", headers={"If-None-Match": empty.headers["ETag"]}
    )
    assert after.status_code == 200 and after.get_json()["thread"]["count"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/comments?thread=/a",
        "/api/comments?site=&thread=/a",
        "/api/recent",
        "/api/form-token",
        "/api/counts?thread=/a",
        "/threads?thread=/a",
        "/feeds/comments.atom",
    ],
)
def test_a_request_that_names_no_site_is_a_400_that_says_so(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    if path.startswith("/api/"):
        assert response.get_json()["message"] == "Name the site: site=NAME."


def test_wrong_method_is_405(api: Api) -> None:
    response = api.client.put("/api/comments", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]


@pytest.mark.parametrize("params", ["limit=0", "limit=abc", "limit=9999", "cursor=%%%"])
def test_bad_query_parameters_are_400(api: Api, params: str) -> None:
    api.post()
    response = api.client.get(f"/api/comments?site=default&thread=/2026/hello&{params}")
    assert response.status_code == 400


def test_emoji_and_rtl_round_trip(api: Api) -> None:
    body = "שלום 👩🏽‍💻 مرحبا 🦄"
    api.post(body=body, author="Zoë 🦊")
    comment = api.thread().get_json()["comments"][0]
    assert comment["html"] == f"<p>{body}</p>" and comment["author"] == "Zoë 🦊"


def test_markdown_is_sanitized_and_links_are_nofollow(api: Api) -> None:
    body = "[click](javascript:alert(1)) <script>alert(1)</script> https://example.com"
    html = api.post(body=body).get_json()["comment"]["html"]
    assert "<script" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not dropped
    assert 'rel="nofollow ugc noopener"' in html


def test_closed_thread_refuses_comments(api: Api) -> None:
    api.post()
    db.session.scalars(select(Thread)).one().closed = True
    db.session.commit()
    assert api.post().status_code == 409


def test_form_token_endpoint_is_uncached(api: Api) -> None:
    response = api.client.get("/api/form-token?site=default")
    assert response.status_code == 200 and response.get_json()["form_token"]
    assert response.headers["Cache-Control"] == "no-store"


def test_openapi_describes_every_route(api: Api) -> None:
    doc = api.client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {
        "/api/comments",
        "/api/comments/{id}",
        "/api/counts",
        "/api/form-token",
        "/api/subscriptions",
        "/api/openapi.json",
    } <= set(doc["paths"])


def test_healthz_touches_the_database(api: Api) -> None:
    assert api.client.get("/healthz").get_json() == {"status": "ok"}


def test_ip_is_stored_truncated(api: Api) -> None:
    api.client.post(
        "/api/comments",
        json={
            "site": "default",
            "thread": "/ip",
            "author": "a",
            "email": "a@b.example",
            "body": "x",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
    )
    assert db.session.scalars(select(Comment)).one().ip == "203.0.113.0"


def test_email_is_encrypted_at_rest(api: Api) -> None:
    api.post(email="secret.person@example.org")
    comment = db.session.scalars(select(Comment)).one()
    assert "secret.person" not in comment.email_enc
    assert "secret.person" not in comment.email_hash


@pytest.mark.parametrize("field", ["author", "body", "email", "website", "thread"])
def test_nul_bytes_are_refused_cleanly(api: Api, field: str) -> None:
    value = {"website": "https://a.example/\x00x", "email": "a\x00b@example.org"}.get(
        field, "bad\x00value"
    )
    response = api.post(**{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_emoji_length_counts_characters_not_bytes(api: Api) -> None:
    assert api.post(author="🦄" * 80).status_code == 201
    assert api.post(author="🦄" * 81).status_code == 422
