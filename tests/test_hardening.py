"""Hostile writers, as they send it: thread details, edits, deep chains, odd characters,
avatars, first-time trust and the admin's thread list."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from widget.extensions import db
from widget.models import Comment, Site, Thread, utcnow

from .conftest import BLOG, Api, csrf, post_form


def set_site(**values: Any) -> Site:
    site = db.session.scalars(select(Site).where(Site.name == "default")).one()
    for key, value in values.items():
        setattr(site, key, value)
    db.session.commit()
    return site


def edit(api: Api, response: Any, body: str) -> Any:
    data = response.get_json()
    return api.client.patch(
        f"/api/comments/{data['comment']['id']}",
        json={"body": body},
        headers={"Authorization": f"Bearer {data['edit_token']}"},
    )


# --- 3. the first writer does not own a thread's title and URL ------------------------------


def test_a_subscription_request_names_no_page_and_an_off_site_url_is_dropped(api: Api) -> None:
    api.client.post(
        "/api/subscriptions",
        json={
            "site": "default",
            "thread": "/2026/hello",
            "email": "x@example.org",
            "title": "Account suspended",
            "url": "https://evil.example/login",
        },
    )
    thread = db.session.scalars(select(Thread)).one()
    assert (thread.title, thread.url) == ("", "")
    api.post(thread="/other", url="https://evil.example/x")
    api.post(thread="/third", url=f"{BLOG}/third?token=secret&email=a@b.example#frag")
    api.post(thread="/?p=1 WIN AT https://evil.example/win", url=f"{BLOG}/?p=1")
    api.post(thread="/?p=2", url=f"{BLOG}/?p=2&utm_source=feed")
    urls = dict(db.session.execute(select(Thread.key, Thread.url)).all())
    assert urls["/other"] == "" and urls["/third"] == f"{BLOG}/third"
    # A key's own query is its page's address, only when it is one.
    assert urls["/?p=1 WIN AT https://evil.example/win"] == f"{BLOG}/"
    assert urls["/?p=2"] == f"{BLOG}/?p=2"


def test_a_page_load_fills_in_what_a_thread_lacks_and_replaces_nothing(api: Api) -> None:
    """A GET that claims to come from the site's page (anyone can forge Origin) may give a
    thread created by a subscription its title and URL, never change what it has: a title
    reaches feeds, the recent block and subscribers' mail."""
    api.client.post(
        "/api/subscriptions",
        json={"site": "default", "thread": "/2026/hello", "email": "x@example.org"},
    )

    def page_load(title: str, url: str) -> Any:
        return api.client.get(
            "/api/comments",
            query_string={"site": "default", "thread": "/2026/hello", "title": title, "url": url},
            headers={"Origin": BLOG},
        )

    first = page_load("Hello world", f"{BLOG}/2026/hello")
    assert first.status_code == 200
    assert first.get_json()["thread"]["title"] == "Hello world"
    assert first.get_json()["thread"]["url"] == f"{BLOG}/2026/hello"
    assert api.post(title="Hello world").status_code == 201  # published: the thread is read
    forged = page_load("WIN 1000 USD NOW at scam.example", f"{BLOG}/evil-path")
    assert forged.status_code == 200
    assert forged.get_json()["thread"]["title"] == "Hello world"
    assert api.thread().get_json()["thread"]["url"] == f"{BLOG}/2026/hello"
    feed = api.client.get("/feeds/comments.atom?site=default&thread=/2026/hello")
    assert "scam.example" not in feed.get_data(as_text=True)
    # Published without a title (the no-JavaScript page has none to send): it stays untitled
    # rather than take a stranger's; the owner can name it.
    assert api.post(thread="/untitled", title="").status_code == 201
    api.client.get(
        "/api/comments",
        query_string={"site": "default", "thread": "/untitled", "title": "URGENT: call +1-555"},
        headers={"Origin": BLOG},
    )
    assert api.thread("/untitled").get_json()["thread"]["title"] == ""


def test_a_held_comments_title_gives_way_to_the_page_and_the_owner_can_rename_a_thread(
    api: Api, admin: Any
) -> None:
    """While nothing on a thread is published, the page's own load corrects what its first
    (held) comment claimed; after that, only the owner renames it."""
    db.session.execute(db.text("UPDATE sites SET moderation = 'all'"))
    db.session.commit()
    held = api.post(thread="/new-post", title="SPAM TITLE", url=f"{BLOG}/new-post")
    assert held.get_json()["status"] == "pending"
    thread = db.session.scalars(select(Thread).where(Thread.key == "/new-post")).one()
    loaded = api.client.get(
        "/api/comments",
        query_string={"site": "default", "thread": "/new-post", "title": "Real title"},
        headers={"Origin": BLOG},
    )
    assert loaded.get_json()["thread"]["title"] == "Real title"
    # Whoever named it wrong, the owner renames it (and the log says so).
    token = csrf(admin, "/admin/threads?show=all")
    renamed = post_form(
        admin, f"/admin/threads/{thread.id}/title", token, title=" The  real title "
    )
    assert "Thread /new-post renamed." in renamed.get_data(as_text=True)
    assert api.thread("/new-post").get_json()["thread"]["title"] == "The real title"
    forged = api.client.get(  # nothing is published yet, but the owner has named it
        "/api/comments",
        query_string={"site": "default", "thread": "/new-post", "title": "Attacker again"},
        headers={"Origin": BLOG},
    )
    assert forged.get_json()["thread"]["title"] == "The real title"
    refused = post_form(admin, f"/admin/threads/{thread.id}/title", token, title="a\nb\u202e")
    assert "not renamed" in refused.get_data(as_text=True)
    assert "retitle-thread" in admin.get("/admin/events").get_data(as_text=True)


# --- 4. edits do not bypass moderation -------------------------------------------------------


def test_an_approved_comment_edited_into_link_spam_leaves_the_page(app: Any, api: Api) -> None:
    posted = api.post(body="A fair point.")
    app.config["SPAM_CHECKS"] = "on"
    links = " ".join(f"https://spam.example/{i}" for i in range(20))
    edited = edit(api, posted, links)
    assert edited.status_code == 200 and edited.get_json()["status"] == "pending"
    thread = api.thread().get_json()
    assert thread["comments"] == [] and thread["thread"]["count"] == 0


def test_an_edit_under_moderate_everything_goes_back_to_the_queue(api: Api) -> None:
    posted = api.post(body="First version.")
    set_site(moderation="all")
    assert edit(api, posted, "Second version.").get_json()["status"] == "pending"
    assert api.thread().get_json()["comments"] == []


def test_after_a_moderators_decision_the_author_cannot_edit_or_delete(
    api: Api, admin: FlaskClient
) -> None:
    posted = api.post(body="Evidence.")
    data = posted.get_json()
    token = csrf(admin, "/admin/")
    admin.post(
        "/admin/comments",
        data={"csrf_token": token, "action": "spam", "ids": data["comment"]["id"]},
    )
    assert edit(api, posted, "Nothing to see").status_code == 403
    deleted = api.client.delete(
        f"/api/comments/{data['comment']['id']}",
        headers={"Authorization": f"Bearer {data['edit_token']}"},
    )
    assert deleted.status_code == 403
    assert db.session.get(Comment, data["comment"]["id"]).body == "Evidence."  # type: ignore[union-attr]


# --- 5. depth -----------------------------------------------------------------------------------


def test_replies_nest_at_most_six_deep(api: Api) -> None:
    parent = api.post(body="top").get_json()["comment"]["id"]
    for level in range(10):
        parent = api.post(body=f"reply {level}", parent_id=parent).get_json()["comment"]["id"]
    assert max(db.session.scalars(select(Comment.depth))) == 6
    tree = api.thread().get_json()["comments"]
    depth, node = 0, tree[0]
    while node["replies"]:
        depth, node = depth + 1, node["replies"][0]
    assert depth == 6 and len(node["replies"]) == 0


def chain_from_before_the_cap(api: Api, length: int) -> None:
    """A top-level comment with a reply chain `length` deep, stored as older versions or an
    import could have left it."""
    api.post(body="top")
    thread = db.session.scalars(select(Thread)).one()
    root = db.session.scalars(select(Comment)).one()
    parent_id, now = root.id, utcnow()
    for level in range(1, length + 1):
        row = {"thread_id": thread.id, "parent_id": parent_id, "root_id": root.id, "depth": level}
        row |= {"author": "A", "body": "b", "html": "<p>b</p>", "status": "approved"}
        parent_id = db.session.execute(
            insert(Comment).returning(Comment.id), [{**row, "created_at": now}]
        ).scalar_one()
    db.session.commit()


def test_a_330_deep_chain_from_before_the_cap_still_renders(api: Api) -> None:
    chain_from_before_the_cap(api, 330)
    assert api.thread().status_code == 200
    page = api.client.get("/threads?site=default&thread=/2026/hello")
    assert page.status_code == 200 and page.get_data(as_text=True).count('class="comment"') == 331


# --- 6 and 7. one validation path, no 500 for odd input -----------------------------------


@pytest.mark.parametrize("parent_id", [2**31, 2**63, 2**70])
def test_an_out_of_range_parent_id_is_a_422(api: Api, parent_id: int) -> None:
    response = api.post(parent_id=parent_id)
    assert response.status_code == 422 and "parent_id" in response.get_json()["errors"]


@pytest.mark.parametrize("field", ["author", "body", "title", "thread", "website"])
def test_a_lone_surrogate_in_any_string_is_a_422(api: Api, field: str) -> None:
    payload = {
        "site": "default",
        "thread": "/t",
        "author": "A",
        "email": "a@example.org",
        "body": "b",
        field: "x\ud800y" if field != "website" else "https://x.example/\ud800",
    }
    raw = json.dumps(payload)  # escapes the surrogate as \\ud800, as a hostile client sends it
    response = api.client.post("/api/comments", data=raw, content_type="application/json")
    assert response.status_code == 422 and field in response.get_json()["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/comments?site=default&thread=/a%00b",
        "/api/counts?site=def%00ault&thread=/a",
        "/api/counts?site=default&thread=/a&thread=/a%00b",  # a repeated key's later value
        "/threads?site=default&thread=/a%00",
        "/feeds/comments.atom?site=default&thread=%00",
        "/api/comments?site=default&thread=/2026/hello&cursor=MjAyNi0wMS0wMVQwMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5",
    ],
)
def test_nul_and_out_of_range_values_in_query_parameters_are_a_400(api: Api, path: str) -> None:
    api.post()
    assert api.client.get(path).status_code == 400


def test_a_huge_comment_id_in_the_path_is_a_404(api: Api) -> None:
    response = api.client.patch(
        f"/api/comments/{2**64}", json={"body": "x"}, headers={"Authorization": "Bearer x.y.z"}
    )
    assert response.status_code in (403, 404)
    assert response.status_code != 500


@pytest.mark.parametrize("name", ["Ann\u202eevil", "Ann\x01", "An\x85n", "Ann\u2066x"])
def test_control_and_bidi_characters_in_a_name_are_refused_on_both_paths(
    api: Api, name: str
) -> None:
    assert api.post(author=name).status_code == 422
    token = csrf(api.client, "/threads?site=default&thread=/nojs")
    page = api.client.post(
        "/threads?site=default&thread=/nojs",
        data={"csrf_token": token, "author": name, "email": "a@example.org", "body": "hi"},
    )
    assert page.status_code == 422
    assert db.session.scalars(select(Comment)).all() == []


def test_the_feed_stays_well_formed_xml_whatever_was_stored(api: Api) -> None:
    api.post()
    comment = db.session.scalars(select(Comment)).one()
    comment.author, comment.html = "Imported\x01 name\x0b", "<p>text\x02</p>"
    db.session.commit()
    feed = api.client.get("/feeds/comments.atom?site=default&thread=/2026/hello")
    assert feed.status_code == 200
    ElementTree.fromstring(feed.data)  # raises on a document that is not well-formed


# --- 8. avatars and first-time trust ----------------------------------------------------------


def test_avatars_link_nothing_across_sites_and_held_posts_show_none(api: Api) -> None:
    db.session.add(Site(name="other", origins=BLOG, moderation="none"))
    db.session.commit()
    mine = api.post(email="ada@example.org").get_json()["comment"]["avatar"]
    elsewhere = api.post(site="other", email="ada@example.org").get_json()["comment"]["avatar"]
    assert mine and elsewhere and mine != elsewhere
    set_site(moderation="all")
    held = api.post(email="ada@example.org", body="held").get_json()["comment"]
    assert held["avatar"] is None


# --- 9. threads without end ------------------------------------------------------------------


def test_the_admin_threads_page_lists_live_threads_pages_and_searches(
    api: Api, admin: FlaskClient
) -> None:
    for n in range(60):  # a stranger's subscription requests: threads with nothing in them
        api.client.post(
            "/api/subscriptions",
            json={"site": "default", "thread": f"/junk/{n}", "email": f"s{n}@example.org"},
        )
    api.post(thread="/real/article", title="A real article")
    page = admin.get("/admin/threads").get_data(as_text=True)
    assert "A real article" in page and "/junk/" not in page
    everything = admin.get("/admin/threads?show=all").get_data(as_text=True)
    assert everything.count("/junk/") >= 50 and "Older threads" in everything
    second = admin.get("/admin/threads?show=all&page=2").get_data(as_text=True)
    assert "/junk/" in second and "Newer threads" in second
    found = admin.get("/admin/threads?q=REAL").get_data(as_text=True)
    assert "A real article" in found
    assert "No thread matches" in admin.get("/admin/threads?q=nothing-like-it").get_data(
        as_text=True
    )


# --- what the attacker review found --------------------------------------------------------


def test_entity_encoded_links_and_words_are_checked_as_readers_see_them(app: Any, api: Api) -> None:
    posted = api.post(body="A fair point.")
    app.config["SPAM_CHECKS"] = "on"
    links = " ".join(f"[win](https&#58;//c&#97;sino.example/{n})" for n in range(20))
    assert edit(api, posted, links).get_json()["status"] == "pending"
    assert api.thread().get_json()["comments"] == []


def test_a_600_deep_imported_chain_is_shown_flattened_at_the_depth_limit(api: Api) -> None:
    chain_from_before_the_cap(api, 600)
    page = api.thread()
    assert page.status_code == 200
    depth, node = 0, page.get_json()["comments"][0]
    while node["replies"]:
        depth, node = depth + 1, node["replies"][-1]
    assert depth == 6


def test_a_reply_cannot_land_under_a_hidden_ancestor(api: Api, admin: FlaskClient) -> None:
    parent = api.post(body="top").get_json()["comment"]["id"]
    chain = [parent]
    for level in range(7):
        chain.append(api.post(body=f"r{level}", parent_id=chain[-1]).get_json()["comment"]["id"])
    token = csrf(admin, "/admin/")
    admin.post("/admin/comments", data={"csrf_token": token, "action": "spam", "ids": chain[5]})
    reply = api.post(body="under the spam", parent_id=chain[6])
    assert reply.status_code == 422 and "parent_id" in reply.get_json()["errors"]


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", "/admin/?site=%00", None),
        ("get", "/admin/threads?q=%00", None),
        ("post", "/admin/comments", {"action": "approve", "ids": ["99999999999999999999", "²"]}),
        ("post", "/admin/suppressions", {"address": "99999999999999"}),
        ("post", "/admin/blocks/99999999999999/delete", {}),
        ("post", "/admin/comments/99999999999999/block", {"kind": "email"}),
    ],
)
def test_admin_pages_answer_odd_input_without_a_500(
    admin: FlaskClient, method: str, path: str, data: dict[str, Any] | None
) -> None:
    if data is not None:
        data = {"csrf_token": csrf(admin, "/admin/"), **data}
    response = getattr(admin, method)(path, data=data)
    assert response.status_code < 500


def test_a_thread_key_with_controls_is_refused_on_the_no_js_page(api: Api) -> None:
    response = api.client.get("/threads?site=default&thread=/a%1b[31mRED%E2%80%AEgnp")
    assert response.status_code == 400


def test_switching_votes_changes_the_etag(api: Api) -> None:
    api.post()
    before = api.thread().headers["ETag"]
    set_site(votes=False)
    after = api.thread()
    assert after.headers["ETag"] != before and "score" not in after.get_json()["comments"][0]
