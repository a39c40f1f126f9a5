"""A site's erase policy (`sites set --erase-policy placeholder|remove`): what erasing a
reader's data (GDPR art. 17) leaves of their comments, read as readers read the thread
afterwards: the JSON API, the no-JavaScript page and the counts."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import delete, func, select, update

from widget import comments, moderation, readers
from widget.extensions import db
from widget.models import (
    APPROVED,
    Address,
    Block,
    Comment,
    Delivery,
    ModerationEvent,
    Site,
    Subscription,
    Thread,
    Vote,
)
from widget.tokens import manage_token, never_token, unsubscribe_token
from widget.vault import vault

from .conftest import Api
from .seed import confirmed_subscribers
from .test_admin import page_of, settings_form
from .test_mail_safety import csrf_token
from .test_votes_and_sorting import vote, voter

ALICE = "alice.erased@example.org"
KEY = "/2026/hello"


def invoke(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def post(api: Api, author: str, body: str, **fields: Any) -> int:
    email = ALICE if author == "Alice" else f"{author.lower()}@example.org"
    answer = api.post(author=author, email=email, body=body, **fields)
    assert answer.status_code == 201, answer.get_json()
    return int(answer.get_json()["comment"]["id"])


def tree_of(comments: list[dict[str, Any]]) -> dict[int, int | None]:
    """Each comment of a JSON thread and the comment it is shown under (None: top level)."""
    shown: dict[int, int | None] = {}
    stack: list[tuple[dict[str, Any], int | None]] = [(c, None) for c in comments]
    while stack:
        comment, above = stack.pop()
        shown[comment["id"]] = above
        stack.extend((reply, comment["id"]) for reply in comment["replies"])
    return shown


class PageTree(HTMLParser):
    """Each comment of the no-JavaScript page (`<li id="cN">`) and the one it is shown under."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[int, int | None] = {}
        self._open: list[int | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "li":
            return
        ident = dict(attrs).get("id") or ""
        comment = int(ident[1:]) if ident.startswith("c") and ident[1:].isdigit() else None
        if comment is not None:
            self.shown[comment] = next((c for c in reversed(self._open) if c), None)
        self._open.append(comment)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._open:
            self._open.pop()


def page_tree(client: FlaskClient, site: str = "default", key: str = KEY) -> tuple[str, PageTree]:
    answer = client.get("/threads", query_string={"site": site, "thread": key})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    parsed = PageTree()
    parsed.feed(html)
    return html, parsed


def count_of(client: FlaskClient, site: str = "default", key: str = KEY) -> int:
    answer = client.get("/api/counts", query_string={"site": site, "thread": key})
    return int(answer.get_json()[key])


def test_remove_takes_the_comment_away_and_the_replies_move_up(
    api: Api, runner: FlaskCliRunner
) -> None:
    listed = invoke(runner, "sites", "list")
    assert "erase-policy:placeholder" in listed  # the default
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    assert "erase-policy:remove" in invoke(runner, "sites", "list")
    first = post(api, "Dora", "An earlier top-level comment.")
    alice = post(api, "Alice", "Alice's own words, to be erased.", website="https://alice.example")
    bob = post(api, "Bob", "Bob answers her.", parent_id=alice)
    carol = post(api, "Carol", "Carol answers Bob.", parent_id=bob)
    before = api.thread()
    assert before.get_json()["thread"]["count"] == 4 and count_of(api.client) == 4
    etag = before.headers["ETag"]

    output = invoke(runner, "readers", "erase", ALICE, "--yes")
    assert "Erased 1 comments and 0 subscriptions." in output

    # The JSON thread: no trace of Alice; Bob's reply is at the top level, after Dora's
    # comment (oldest first), with Carol's still under it.
    answer = api.thread()
    raw = answer.get_data(as_text=True)
    assert "Alice" not in raw and "erased" not in raw and "alice.example" not in raw
    assert "[deleted]" not in raw
    page = answer.get_json()
    assert [c["id"] for c in page["comments"]] == [first, bob]
    assert tree_of(page["comments"]) == {first: None, bob: None, carol: bob}
    [_, shown_bob] = page["comments"]
    assert shown_bob["html"] == "<p>Bob answers her.</p>" and shown_bob["parent_id"] is None
    assert shown_bob["replies"][0]["html"] == "<p>Carol answers Bob.</p>"
    # The count went down by one everywhere; the old ETag no longer matches.
    assert page["thread"]["count"] == 3 and count_of(api.client) == 3
    assert answer.headers["ETag"] != etag
    assert (
        api.client.get(
            "/api/comments",
            query_string={"site": "default", "thread": KEY},
            headers={"If-None-Match": etag},
        ).status_code
        == 200
    )

    # The no-JavaScript page: the same.
    html, tree = page_tree(api.client)
    assert "Alice" not in html and "[deleted]" not in html and "erased" not in html
    assert "Bob answers her." in html and "Carol answers Bob." in html
    assert tree.shown == {first: None, bob: None, carol: bob}

    # Stored: the row is gone; depth and root follow the new place.
    db.session.expire_all()
    assert db.session.get(Comment, alice) is None
    rows = {c.id: (c.parent_id, c.root_id, c.depth) for c in db.session.scalars(select(Comment))}
    assert rows == {first: (None, first, 0), bob: (None, bob, 0), carol: (bob, bob, 1)}
    # A new reply to Carol nests below her, as any reply would.
    dan = post(api, "Dan", "Dan answers Carol.", parent_id=carol)
    assert tree_of(api.thread().get_json()["comments"])[dan] == carol


def test_a_reply_below_a_removed_reply_moves_to_its_grandparent(
    api: Api, runner: FlaskCliRunner
) -> None:
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    top = post(api, "Dora", "The question.")
    alice = post(api, "Alice", "Alice's answer.", parent_id=top)
    bob = post(api, "Bob", "Bob answers her.", parent_id=alice)
    later = post(api, "Eve", "Eve answers the question later.", parent_id=top)
    # Alice also answered Bob: that comment goes too, and nothing of hers is left over.
    mine_again = post(api, "Alice", "Alice again.", parent_id=bob)
    carol = post(api, "Carol", "Carol answers that.", parent_id=mine_again)

    invoke(runner, "readers", "erase", ALICE, "--yes")

    page = api.thread().get_json()
    assert "Alice" not in json.dumps(page)
    assert page["thread"]["count"] == 4
    [shown_top] = page["comments"]
    # Bob is now a reply to the question, beside Eve's, oldest first; Carol under Bob.
    assert [r["id"] for r in shown_top["replies"]] == [bob, later]
    assert tree_of(page["comments"]) == {top: None, bob: top, later: top, carol: bob}
    html, tree = page_tree(api.client)
    assert "Alice" not in html and tree.shown == {top: None, bob: top, later: top, carol: bob}
    db.session.expire_all()
    rows = {c.id: (c.parent_id, c.root_id, c.depth) for c in db.session.scalars(select(Comment))}
    assert rows == {
        top: (None, top, 0),
        bob: (top, top, 1),
        later: (top, top, 1),
        carol: (bob, top, 2),
    }


def test_the_default_policy_still_leaves_deleted(api: Api, runner: FlaskCliRunner) -> None:
    alice = post(api, "Alice", "Alice's own words.")
    bob = post(api, "Bob", "Bob answers her.", parent_id=alice)

    # As a script or cron runs it (no terminal, no --yes): done as typed, nothing asked.
    invoke(runner, "readers", "erase", ALICE)

    page = api.thread().get_json()
    [shown] = page["comments"]
    assert shown["id"] == alice and shown["deleted"] and shown["author"] == ""
    assert shown["html"] == "<p>[deleted]</p>" and shown["replies"][0]["id"] == bob
    assert page["thread"]["count"] == 1
    html, tree = page_tree(api.client)
    assert "[deleted]" in html and "Alice" not in html
    assert tree.shown == {alice: None, bob: alice}


def test_each_site_erases_by_its_own_policy(api: Api, runner: FlaskCliRunner) -> None:
    invoke(
        runner,
        *("sites", "add", "other", "--origin", "https://other.example", "--moderation", "none"),
        *("--erase-policy", "remove"),
    )
    here = post(api, "Alice", "Alice on the default site.")
    reply_here = post(api, "Bob", "Bob on the default site.", parent_id=here)
    there = post(api, "Alice", "Alice on the other site.", site="other")
    reply_there = post(api, "Bob", "Bob on the other site.", site="other", parent_id=there)
    # Her /privacy page says which site does what.
    from widget.tokens import privacy_token
    from widget.vault import vault

    told = api.client.get(f"/privacy/{privacy_token(vault().lookup_hash(ALICE))}")
    assert "Your comments on other are removed; on default they become" in told.get_data(
        as_text=True
    )

    output = invoke(runner, "readers", "erase", ALICE, "--yes")
    assert "Erased 2 comments and 0 subscriptions." in output

    default = api.thread().get_json()
    assert default["comments"][0]["id"] == here and default["comments"][0]["deleted"]
    assert tree_of(default["comments"]) == {here: None, reply_here: here}
    other = api.client.get("/api/comments", query_string={"site": "other", "thread": KEY})
    assert tree_of(other.get_json()["comments"]) == {reply_there: None}
    assert "Alice" not in other.get_data(as_text=True)
    assert other.get_json()["thread"]["count"] == 1 and count_of(api.client, "other") == 1
    _, tree = page_tree(api.client, "other")
    assert tree.shown == {reply_there: None}


def test_remove_takes_its_votes_mail_and_edit_texts_along(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    invoke(runner, "webhooks", "add", "default", "http://127.0.0.1:9/hook")
    first = post(api, "Dora", "The first comment makes the thread.")
    thread = db.session.scalars(select(Thread)).one()
    confirmed_subscribers(thread, ["sam@example.org"])
    db.session.commit()
    alice = post(api, "Alice", "A secret original.")
    bob = post(api, "Bob", "Bob answers her.", parent_id=alice)
    assert vote(api, alice, 1, voter()).status_code == 200
    comment = db.session.get(Comment, alice)
    assert comment is not None
    moderation.moderate(comment, "approve", "admin:me")
    moderation.moderator_edit(comment, "Edited by a moderator.", "admin:me")
    mine = Delivery.comment_id == alice
    assert db.session.scalar(select(func.count()).select_from(Delivery).where(mine)) >= 2

    invoke(runner, "readers", "erase", ALICE, "--yes")

    db.session.expire_all()
    count = func.count()
    assert db.session.scalar(select(count).select_from(Vote).where(Vote.comment_id == alice)) == 0
    assert db.session.scalar(select(count).select_from(Delivery).where(mine)) == 0
    # Deliveries about Bob's reply stay: it is still published.
    assert db.session.scalar(select(count).select_from(Delivery).where(Delivery.comment_id == bob))
    events = db.session.scalars(select(ModerationEvent)).all()
    assert not any("secret original" in e.detail or "Edited by" in e.detail for e in events)
    assert not any(e.comment_id == alice for e in events)
    assert {e.action for e in events} >= {"edit", "approve", "erase-reader"}  # decisions stay
    assert [c["id"] for c in api.thread().get_json()["comments"]] == [first, bob]


def test_removing_a_held_comment_leaves_the_count_and_bumps_the_version(
    api: Api, runner: FlaskCliRunner
) -> None:
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    post(api, "Dora", "Published at once.")
    invoke(runner, "sites", "set", "default", "--moderation", "all")
    assert api.post(author="Alice", email=ALICE, body="Held.").get_json()["status"] == "pending"
    thread = db.session.scalars(select(Thread)).one()
    count, version = thread.comment_count, thread.version
    assert count == 1

    invoke(runner, "readers", "erase", ALICE, "--yes")

    db.session.expire_all()
    thread = db.session.scalars(select(Thread)).one()
    assert thread.comment_count == 1 and thread.version > version
    assert db.session.scalar(select(func.count(Comment.id))) == 1


def test_the_privacy_link_erases_by_the_sites_policy_and_says_so(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    from widget.tokens import privacy_token
    from widget.vault import vault

    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    alice = post(api, "Alice", "Alice's own words.")
    bob = post(api, "Bob", "Bob answers her.", parent_id=alice)
    link = f"/privacy/{privacy_token(vault().lookup_hash(ALICE))}"
    shown = api.client.get(link).get_data(as_text=True)
    assert "Your comments are removed" in shown and "[deleted]" not in shown
    token = csrf_token(shown)
    erased = api.client.post(link + "/erase", data={"csrf_token": token, "sure": "y"})
    assert erased.status_code == 200
    assert "1 comment removed (replies by others stay)" in erased.get_data(as_text=True)
    page = api.thread().get_json()
    assert tree_of(page["comments"]) == {bob: None} and page["thread"]["count"] == 1


def test_the_settings_page_sets_the_policy_like_the_cli(
    admin: FlaskClient, runner: FlaskCliRunner
) -> None:
    html = page_of(admin, "/admin/sites/default")
    assert "When a reader has their data erased" in html
    data = settings_form(html)
    assert data["erase_policy"] == ["placeholder"]
    data["erase_policy"] = "remove"
    assert admin.post("/admin/sites/default", data=data).status_code == 302
    assert db.session.scalars(select(Site)).one().erase_policy == "remove"
    assert "erase-policy:remove" in invoke(runner, "sites", "list")
    event = db.session.scalars(
        select(ModerationEvent).where(ModerationEvent.action == "settings")
    ).one()
    assert event.detail == "erase_policy"
    bad = admin.post("/admin/sites/default", data={**data, "erase_policy": "shred"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.get_data(as_text=True)
    refused = runner.invoke(args=["sites", "set", "default", "--erase-policy", "shred"])
    assert refused.exit_code != 0


def test_the_policy_travels_in_the_backup(
    runner: FlaskCliRunner, tmp_path: Path, backend: str, db_folder: Path
) -> None:
    from .conftest import make_app

    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    path = tmp_path / "backup.json"
    invoke(runner, "export", str(path))
    backup = json.loads(path.read_text())
    assert backup["sites"][0]["erase_policy"] == "remove"
    unknown = tmp_path / "unknown.json"
    backup["sites"][0]["erase_policy"] = "shred"
    unknown.write_text(json.dumps(backup))
    db.session.rollback()  # the next app empties the same database
    for source, policy in ((path, "remove"), (unknown, "placeholder")):
        fresh = make_app(backend, db_folder)
        with fresh.app_context():
            result = fresh.test_cli_runner().invoke(args=["import", "parley", str(source)])
            assert result.exit_code == 0, result.output
            assert db.session.scalars(select(Site)).one().erase_policy == policy


@pytest.mark.parametrize("policy", ["placeholder", "remove"])
def test_erasing_nobody_changes_nothing(policy: str, api: Api, runner: FlaskCliRunner) -> None:
    invoke(runner, "sites", "set", "default", "--erase-policy", policy)
    post(api, "Bob", "Bob's comment.")
    output = invoke(runner, "readers", "erase", ALICE, "--yes")
    assert "Erased 0 comments and 0 subscriptions." in output
    assert api.thread().get_json()["thread"]["count"] == 1


# --- ids that come back -----------------------------------------------------------------


def test_an_erased_readers_edit_token_opens_nothing_of_the_next_comment(
    app: Flask, api: Api, runner: FlaskCliRunner, backend: str
) -> None:
    """SQLite gives a removed comment's id to the next comment. The erased reader's browser
    still holds that id's edit token: it must not edit, delete or vouch for the newcomer."""
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    answer = api.post(author="Mallory", email="mallory@example.org", body="Soon gone.")
    mallory = answer.get_json()
    invoke(runner, "readers", "erase", "mallory@example.org", "--yes")
    bob = post(api, "Bob", "Bob's own words.")  # within the second her token was made in
    if backend == "sqlite":
        assert bob == mallory["comment"]["id"]  # the id came back: the case at hand
    bearer = {"Authorization": f"Bearer {mallory['edit_token']}"}
    edited = api.client.patch(f"/api/comments/{bob}", json={"body": "SCAM"}, headers=bearer)
    deleted = api.client.delete(f"/api/comments/{bob}", headers=bearer)
    assert edited.status_code == deleted.status_code == 403
    assert "another comment" in edited.get_json()["message"]
    [shown] = api.thread().get_json()["comments"]
    assert shown["html"] == "<p>Bob's own words.</p>" and shown["author"] == "Bob"
    # Nor does her author token pass for proof that she wrote Bob's (approved) comment.
    invoke(runner, "sites", "set", "default", "--moderation", "first-time")
    again = api.post(
        author="Bob",
        email="bob@example.org",
        body="Me, honest.",
        author_token=mallory["author_token"],
    )
    assert again.get_json()["status"] == "pending"


def test_an_erased_readers_mail_links_open_nothing_of_the_next_reader(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    """Erasing deletes the address and its subscriptions; a later reader may get their ids.
    Links in mail the erased reader kept (they never expire, RFC 8058) stay theirs alone."""
    kim = api.post(author="Kim", email="kim@example.org", body="Tell me more.", notify=True)
    assert kim.status_code == 201
    subscription = db.session.scalars(select(Subscription)).one()
    links = {
        "unsubscribe": unsubscribe_token(subscription.id, subscription.created_at),
        "never": never_token(subscription.address_id, subscription.address.created_at),
        "manage": manage_token(subscription.address_id, 0, subscription.address.created_at),
    }
    invoke(runner, "readers", "erase", "kim@example.org", "--yes")
    # Within the second her links were made in:
    lee = api.post(author="Lee", email="lee@example.org", body="Me too.", notify=True)
    assert lee.status_code == 201
    [lees] = db.session.scalars(select(Subscription)).all()
    taken = api.client.post(
        f"/unsubscribe/{links['unsubscribe']}", data={"List-Unsubscribe": "One-Click"}
    )
    assert taken.status_code == 200  # Kim is told she gets nothing: true
    assert api.client.get(f"/subscriptions/never/{links['never']}").status_code == 404
    manage = api.client.get(f"/subscriptions/{links['manage']}")
    assert manage.status_code == 404 and "Me too" not in manage.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Subscription, lees.id).active  # type: ignore[union-attr]
    assert db.session.get(Address, lees.address_id).suppressed_at is None  # type: ignore[union-attr]


def test_a_reply_written_while_its_parent_is_erased_is_placed_or_refused(
    app: Flask, api: Api, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader answers a comment while its author's erasure runs: the reply lands where
    the conversation now is, or gets a 409 when what it answers is gone; never a reply
    counted but shown nowhere, never a 500."""
    invoke(runner, "sites", "set", "default", "--erase-policy", "remove")
    top = post(api, "Dora", "Dora starts.")
    alice = post(api, "Alice", "Alice answers Dora.", parent_id=top)
    bob = post(api, "Bob", "Bob answers Alice.", parent_id=alice)
    checked = comments._check_parent

    def erased_meanwhile(thread: Thread, parent_id: int | None) -> Comment | None:
        found = checked(thread, parent_id)  # read before the erasure...
        with db.engine.begin() as other:  # ...which another request commits now
            other.execute(delete(Comment).where(Comment.id == alice))
            other.execute(update(Comment).where(Comment.id == bob).values(parent_id=top, depth=1))
        return found

    monkeypatch.setattr(comments, "_check_parent", erased_meanwhile)
    gone = api.post(author="Carol", email="carol@example.org", body="To Alice.", parent_id=alice)
    assert gone.status_code == 409 and "just removed" in gone.get_json()["message"]
    # Bob's comment was moved up while Carol answered it: her reply follows it there.
    top_2 = post(api, "Eve", "Eve starts again.")
    moved = post(api, "Fay", "Fay answers Eve.", parent_id=top_2)

    def moved_meanwhile(thread: Thread, parent_id: int | None) -> Comment | None:
        found = checked(thread, parent_id)
        with db.engine.begin() as other:
            other.execute(update(Comment).where(Comment.id == moved).values(root_id=top, depth=3))
        return found

    monkeypatch.setattr(comments, "_check_parent", moved_meanwhile)
    placed = api.post(author="Gil", email="gil@example.org", body="To Fay.", parent_id=moved)
    assert placed.status_code == 201
    stored = db.session.get(Comment, placed.get_json()["comment"]["id"])
    assert stored is not None and (stored.root_id, stored.depth) == (top, 4)


def test_a_block_outlives_the_erasure_without_the_address(
    app: Flask, api: Api, admin: FlaskClient
) -> None:
    """The owner blocked a reader, who then erases their data by the /privacy link: the
    block still holds (by the keyed hash), but neither the blocks page nor the log shows
    even the masked address any more, and the reader is told what is kept."""
    from widget.tokens import privacy_token
    from widget.vault import vault

    blocked = db.session.get(Comment, post(api, "Alice", "Buy my pills."))
    assert blocked is not None
    moderation.block_author(blocked, "email", actor="admin:mod@blog.example")
    # Anna's address masks alike: her block and its log entry are not Alice's to erase.
    anna = db.session.get(Comment, post(api, "Anna", "Cheap watches."))
    assert anna is not None
    moderation.block_author(anna, "email", actor="admin:mod@blog.example")
    assert page_of(admin, "/admin/blocks").count("a•••@example.org") >= 2
    assert page_of(admin, "/admin/events").count("a•••@example.org") == 2
    link = f"/privacy/{privacy_token(vault().lookup_hash(ALICE))}"
    token = csrf_token(api.client.get(link).get_data(as_text=True))
    erased = api.client.post(link + "/erase", data={"csrf_token": token, "sure": "y"})
    told = erased.get_data(as_text=True)
    assert "keeps a keyed fingerprint of it, so that the block holds" in told
    assert page_of(admin, "/admin/events").count("a•••@example.org") == 1  # Anna's
    assert "an erased reader&#39;s address" in page_of(admin, "/admin/events")
    assert "an address (not shown)" in page_of(admin, "/admin/blocks")
    alices = db.session.scalars(select(Block).where(Block.value == vault().lookup_hash(ALICE)))
    assert alices.one().email_enc is None
    app.config["SPAM_CHECKS"] = "on"
    again = api.post(author="Alice", email=ALICE, body="Back again.")
    stored = db.session.get(Comment, again.get_json()["comment"]["id"])
    assert stored is not None and "blocked-address" in stored.reasons  # the block holds


def test_a_reply_racing_its_parents_removal_on_postgresql_is_a_409(
    app: Flask, api: Api, backend: str
) -> None:
    """PostgreSQL reads the parent before the erasure commits and checks the foreign key
    after: the reader gets a 409, not a 500."""
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the INSERT finds no parent")
    import threading
    import time

    parent = post(api, "Alice", "Soon removed.")
    locked, engine = threading.Event(), db.engine

    def erase_meanwhile() -> None:
        with engine.begin() as other:  # what readers._remove does, in another request
            other.execute(select(Comment.id).where(Comment.id == parent).with_for_update())
            locked.set()
            time.sleep(0.5)  # the reply's INSERT is waiting on this lock
            other.execute(delete(Comment).where(Comment.id == parent))

    eraser = threading.Thread(target=erase_meanwhile)
    eraser.start()
    assert locked.wait(5)
    answer = api.post(author="Bob", email="bob@example.org", body="Hi", parent_id=parent)
    eraser.join()
    assert answer.status_code == 409, answer.get_json()


def test_an_erasure_waiting_on_an_approval_keeps_the_count_and_does_not_deadlock(
    app: Flask, api: Api, backend: str
) -> None:
    """A moderator approves the reader's held comment (the comment, then its thread) while
    the reader erases her data: the erasure waits on the comment, then counts it as
    published (the count was left one too high, and on PostgreSQL the two could deadlock:
    the erasure took the thread before the comment)."""
    import threading

    db.session.execute(update(Site).values(moderation="all"))
    db.session.commit()
    held = post(api, "Alice", "Held, then approved, then erased.")
    thread_id = db.session.get(Comment, held).thread_id  # type: ignore[union-attr]
    db.session.remove()
    moderator = db.engine.connect()
    if backend == "sqlite":
        moderator.exec_driver_sql("BEGIN IMMEDIATE")
    moderator.execute(update(Comment).where(Comment.id == held).values(status=APPROVED))
    outcome: list[Any] = []

    def erase() -> None:
        with app.app_context():
            try:
                outcome.append(readers.erase_by_hash(vault().lookup_hash(ALICE)))
            except Exception as exc:  # noqa: BLE001 - the test reports it
                outcome.append(exc)

    eraser = threading.Thread(target=erase)
    eraser.start()
    eraser.join(1.0)  # waiting on the moderator's lock
    moderator.execute(
        update(Thread)
        .where(Thread.id == thread_id)
        .values(comment_count=Thread.comment_count + 1, version=Thread.version + 1)
    )
    moderator.commit()
    moderator.close()
    eraser.join(30)
    assert outcome == [(1, 0)], outcome
    db.session.expire_all()
    assert db.session.get(Thread, thread_id).comment_count == 0  # type: ignore[union-attr]
    assert api.thread().get_json()["thread"]["count"] == 0
