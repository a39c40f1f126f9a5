"""Votes, sorting and preview through the JSON API, as the widget uses them."""

from __future__ import annotations

import secrets
import threading
from typing import Any

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from widget.extensions import db
from widget.models import Vote

from .conftest import Api


def voter() -> str:
    return secrets.token_urlsafe(24)


def vote(api: Api, comment_id: int, value: int, key: str, ip: str = "198.51.100.7") -> Any:
    return api.client.post(
        f"/api/comments/{comment_id}/vote",
        json={"value": value, "voter": key},
        environ_base={"REMOTE_ADDR": ip},
    )


def ids(comments: list[dict[str, Any]]) -> list[int]:
    return [c["id"] for c in comments]


def test_one_vote_per_voter_changed_or_taken_back(api: Api) -> None:
    comment_id = api.post().get_json()["comment"]["id"]
    ann, bob = voter(), voter()
    assert vote(api, comment_id, 1, ann).get_json() == {"score": 1}
    assert vote(api, comment_id, 1, ann).get_json() == {"score": 1}  # twice counts once
    assert vote(api, comment_id, -1, bob).get_json() == {"score": 0}
    assert vote(api, comment_id, -1, ann).get_json() == {"score": -2}  # changed her mind
    assert vote(api, comment_id, 0, bob).get_json() == {"score": -1}  # taken back
    page = api.thread().get_json()
    assert page["thread"]["votes"] is True and page["comments"][0]["score"] == -1
    # Stored hashed: neither key appears anywhere.
    stored = " ".join(v.voter_hash for v in db.session.scalars(select(Vote)))
    assert ann not in stored and bob not in stored


def test_one_network_votes_with_a_few_keys_only(api: Api) -> None:
    comment_id = api.post().get_json()["comment"]["id"]
    answers = [vote(api, comment_id, 1, voter()).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert vote(api, comment_id, 1, voter(), ip="203.0.113.9").status_code == 200


def test_votes_sent_at_once_keep_the_network_limit_and_the_score(api: Api) -> None:
    """Votes on one comment are counted one at a time: a script sending many keys at once
    gets no more than a network's few, and a voter changing her mind quickly leaves the
    score equal to the votes stored."""
    comment_id = api.post().get_json()["comment"]["id"]

    def at_once(votes: list[tuple[int, str, str]]) -> list[int]:
        start, statuses = threading.Barrier(len(votes)), []

        def send(value: int, key: str, ip: str) -> None:
            start.wait()
            statuses.append(vote(api, comment_id, value, key, ip=ip).status_code)

        senders = [threading.Thread(target=send, args=one) for one in votes]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        return statuses

    statuses = at_once([(1, voter(), "198.51.100.7") for _ in range(12)])
    assert sorted(statuses) == [200] * 3 + [429] * 9
    ann = voter()
    assert at_once([(1 if n % 2 else -1, ann, "203.0.113.9") for n in range(8)]) == [200] * 8
    stored = db.session.scalar(select(func.sum(Vote.value)).where(Vote.comment_id == comment_id))
    score = api.thread().get_json()["comments"][0]["score"]
    assert score == stored and stored in (2, 4)


def test_votes_are_refused_when_a_site_turns_them_off(api: Api, runner: FlaskCliRunner) -> None:
    posted = api.post().get_json()
    comment_id = posted["comment"]["id"]
    assert posted["comment"]["score"] == 0  # as in the thread's answer, while votes are on
    assert runner.invoke(args=["sites", "set", "default", "--votes", "off"]).exit_code == 0
    assert "score" not in api.post(body="later").get_json()["comment"]
    assert vote(api, comment_id, 1, voter()).status_code == 409
    page = api.thread().get_json()
    assert page["thread"]["votes"] is False and "score" not in page["comments"][0]


def test_votes_on_missing_or_held_comments_are_a_404(api: Api) -> None:
    assert vote(api, 999, 1, voter()).status_code == 404
    assert vote(api, 2**40, 1, voter()).status_code == 404
    comment_id = api.post().get_json()["comment"]["id"]
    assert vote(api, comment_id, 2, voter()).status_code == 422
    assert vote(api, comment_id, 1, "short").status_code == 422


def test_sorting_keeps_replies_oldest_first_and_pages_stay_in_order(api: Api) -> None:
    first, second, third = (api.post(body=f"c{n}").get_json()["comment"]["id"] for n in range(3))
    early_reply = api.post(body="r2", parent_id=first).get_json()["comment"]["id"]
    api.post(body="r3", parent_id=first)  # replies stay oldest first whatever the sort
    for _ in range(2):
        vote(api, second, 1, voter(), ip=f"192.0.2.{_}")
    vote(api, third, 1, voter())
    oldest = api.thread(sort="oldest").get_json()["comments"]
    newest = api.thread(sort="newest").get_json()["comments"]
    top = api.thread(sort="top").get_json()["comments"]
    assert ids(oldest) == [first, second, third]
    assert ids(newest) == [third, second, first]
    assert ids(top) == [second, third, first]
    assert ids(top[2]["replies"])[0] == early_reply
    for sort in ("oldest", "newest", "top"):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = api.thread(**params).get_json()
            seen += ids(page["comments"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        expected = {"oldest": oldest, "newest": newest, "top": top}[sort]
        assert seen == ids(expected), sort


def test_an_unknown_sort_is_a_400_and_each_sort_has_its_own_etag(api: Api) -> None:
    api.post()
    assert api.thread(sort="random").status_code == 400
    oldest, newest = api.thread(sort="oldest"), api.thread(sort="newest")
    assert oldest.headers["ETag"] != newest.headers["ETag"]
    again = api.client.get(
        "/api/comments?site=default&thread=/2026/hello&sort=newest",
        headers={"If-None-Match": newest.headers["ETag"]},
    )
    assert again.status_code == 304


def test_preview_renders_and_sanitizes_like_a_post(api: Api) -> None:
    body = "**bold** [x](javascript:alert(1)) <script>no</script>"
    preview = api.client.post("/api/preview", json={"site": "default", "body": body})
    posted = api.post(body=body).get_json()["comment"]["html"]
    assert preview.status_code == 200 and preview.get_json()["html"] == posted
    assert "<strong>bold</strong>" in posted and 'href="javascript' not in posted
    assert "<script" not in posted
    refused = api.client.post(
        "/api/preview",
        json={"site": "default", "body": ""},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code in (403, 422)
