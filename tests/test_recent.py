"""A site's newest comments (#20): the site-wide Atom feed and `GET /api/recent`."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from widget.extensions import db
from widget.models import Site

from .conftest import BLOG, Api

ATOM = "{http://www.w3.org/2005/Atom}"


def seed(api: Api) -> None:
    api.post(thread="/a/", title="Article A", url=f"{BLOG}/a/", body="first on a")
    api.post(thread="/b/", title="Article <B>", url=f"{BLOG}/b/", body="*on b*")
    api.post(thread="/a/", body="second on a", author="Zoë")


def test_site_wide_feed_lists_the_newest_comments_of_every_thread(
    client: FlaskClient, api: Api
) -> None:
    seed(api)
    response = client.get("/feeds/comments.atom?site=default")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    feed = ElementTree.fromstring(response.data)
    assert feed.findtext(f"{ATOM}title") == "Recent comments on default"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == (  # type: ignore[union-attr]
        "http://parley.test/feeds/comments.atom?site=default"
    )
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Zoë on Article A",
        "Ada on Article <B>",
        "Ada on Article A",
    ]
    links = [e.find(f"{ATOM}link").get("href") for e in entries]  # type: ignore[union-attr]
    assert links[1].startswith(f"{BLOG}/b/#parley-") and links[0].startswith(f"{BLOG}/a/#parley-")
    assert "<em>on b</em>" in (entries[1].findtext(f"{ATOM}content") or "")
    assert b"ada@example.org" not in response.data


def test_thread_feed_is_unchanged(client: FlaskClient, api: Api) -> None:
    seed(api)
    feed = ElementTree.fromstring(client.get("/feeds/comments.atom?site=default&thread=/a/").data)
    assert feed.findtext(f"{ATOM}title") == "Comments on Article A"
    assert len(feed.findall(f"{ATOM}entry")) == 2
    assert client.get("/feeds/comments.atom?site=nope").status_code == 404


def test_recent_api(client: FlaskClient, api: Api) -> None:
    seed(api)
    db.session.execute(update(Site).values(moderation="all"))
    db.session.commit()
    assert api.post(thread="/a/", body="held for moderation").status_code == 201
    response = client.get("/api/recent?site=default&limit=2", headers={"Origin": BLOG})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == BLOG
    assert response.headers["Cache-Control"] == "public, max-age=60"
    comments = response.get_json()["comments"]
    assert [c["html"] for c in comments] == ["<p>second on a</p>", "<p><em>on b</em></p>"]
    assert comments[0]["author"] == "Zoë" and comments[0]["avatar"].startswith("http")
    assert comments[1]["thread"] == {
        "key": "/b/",
        "title": "Article <B>",
        "url": f"{BLOG}/b/",
        "count": 1,
        "closed": False,
    }
    everything = client.get("/api/recent?site=default").get_json()["comments"]
    assert [c["thread"]["key"] for c in everything] == ["/a/", "/b/", "/a/"]
    assert "ada@example.org" not in response.get_data(as_text=True)


@pytest.mark.parametrize("limit", ["0", "51", "x", "-1"])
def test_recent_limit_is_checked(client: FlaskClient, limit: str) -> None:
    response = client.get(f"/api/recent?site=default&limit={limit}")
    assert response.status_code == 400 and "limit" in response.get_json()["message"]


def test_recent_refuses_other_origins_and_unknown_sites(client: FlaskClient) -> None:
    assert client.get("/api/recent?site=nope").status_code == 404
    response = client.get("/api/recent?site=default", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers or response.status_code == 403


def test_recent_is_in_the_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    parameters = doc["paths"]["/api/recent"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {"site", "limit"}
