"""Keyboard and screen-reader journeys in Chromium: what the accessibility tree says and where
focus lands after every step (WCAG 2.2 AA; docs/accessibility.md lists them)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import POST, Live, fill_form

pytestmark = pytest.mark.browser
SHADOW = "document.querySelector('#parley').shadowRoot"


def focused(page: Any) -> str:
    """The focused element inside the widget: its id, else its tag and text."""
    script = f"""(() => {{ const el = {SHADOW}.activeElement;
        return el ? (el.id || el.tagName + ':' + el.textContent.trim()) : 'body'; }})()"""
    return str(page.evaluate(script))


def ax_nodes(page: Any) -> list[dict[str, Any]]:
    """Chromium's full accessibility tree, as a screen reader reads it."""
    cdp = page.context.new_cdp_session(page)
    return list(cdp.send("Accessibility.getFullAXTree")["nodes"])


def ax_property(node: dict[str, Any], name: str) -> Any:
    for prop in node.get("properties", []):
        if prop["name"] == name:
            return prop["value"].get("value")
    return None


def ax_named(page: Any, name: str) -> list[dict[str, Any]]:
    return [n for n in ax_nodes(page) if n.get("name", {}).get("value") == name]


def test_invalid_fields_read_as_invalid_and_the_status_region_is_always_there(
    page: Any, live: Live
) -> None:
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    regions = [n for n in ax_nodes(page) if n.get("role", {}).get("value") == "status"]
    assert regions, "the status region is in the tree before any message"
    page.click(POST)
    page.wait_for_selector("#e-author:not(:empty)")
    for label in ("Name", "Email", "Comment"):
        [field] = [n for n in ax_named(page, label) if n["role"]["value"] in ("textbox",)]
        assert ax_property(field, "invalid") == "true", label
    assert focused(page) == "f-author"


def test_focus_after_reply_cancel_and_edit_cancel(page: Any, live: Live) -> None:
    seeded = live.seed(author="Ann", body="Hello.")
    page.goto(live.article())
    page.click("button[aria-label='Reply to Ann']")
    page.wait_for_selector(".to:has-text('Replying to Ann')")
    assert focused(page) == "f-body"
    page.click(".to button")
    assert focused(page) == f"parley-{seeded['comment']['id']}"
    fill_form(page, body="My own words.")
    page.click(POST)
    mine = page.locator("article:has-text('My own words.')")
    mine.wait_for()
    assert focused(page) == mine.get_attribute("id")
    page.click("article:has-text('My own words.') button:has-text('Edit')")
    page.click("article button:has-text('Cancel')")
    assert focused(page) == mine.get_attribute("id")


def test_focus_after_load_more_and_a_subscription(page: Any, live: Live) -> None:
    for n in range(55):
        live.seed(body=f"Comment {n}.")
    page.goto(live.article())
    page.click("button:has-text('Load more comments')")
    page.wait_for_selector("text=Comment 54.")
    assert page.locator("article:has-text('Comment 50.')").get_attribute("id") == focused(page)
    page.click("button.subl")
    page.fill("#f-sub", "follower@example.org")
    page.click(".sub button[type=submit]")
    page.wait_for_selector(".st:has-text('We sent a confirmation link')")
    assert focused(page).startswith("BUTTON:Subscribe without commenting")
    assert page.locator("button.subl").get_attribute("aria-expanded") == "false"


def test_an_error_without_a_field_is_said_as_it_is(page: Any, live: Live) -> None:
    gone = live.seed(author="Ann", body="Soon spam.")
    page.goto(live.article())
    page.click("button[aria-label='Reply to Ann']")
    page.wait_for_selector(".to:has-text('Replying to Ann')")
    with live.app.app_context():
        from widget.extensions import db
        from widget.models import Comment

        db.session.get(Comment, gone["comment"]["id"]).status = "spam"  # type: ignore[union-attr]
        db.session.commit()
    fill_form(page, body="An answer to nobody.")
    page.click(POST)
    page.wait_for_selector(".st:has-text('The comment you reply to is not in this thread.')")
    assert focused(page) == "BUTTON:Post comment"


def test_a_quick_reader_is_never_held_silently(page: Any, live: Live) -> None:
    live.reset(spam_checks="on")
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, body="Typed fast, sent at once.")
    page.click(POST)  # within the 3 s the server asks for
    page.wait_for_selector("article:has-text('Typed fast, sent at once.')", timeout=15_000)
    assert page.locator(".badge:has-text('Awaiting moderation')").count() == 0


def test_the_widget_reflows_at_320_pixels(browser: Any, live: Live) -> None:
    live.reset()
    live.seed(body="https://example.com/" + "a-very-long-unbroken-path-segment" * 6)
    live.seed(body="```\n" + "wide_code_line = 1; " * 15 + "\n```")
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(live.article())
    page.wait_for_selector("text=wide_code_line")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
