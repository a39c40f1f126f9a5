"""The widget in Debian's Chromium: article on http://localhost:P1, Parley on http://127.0.0.1:P2."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from widget.extensions import db
from widget.models import Comment, Site, Subscription, Thread

from .axe import AXE
from .axe import axe_violations as _axe_violations
from .conftest import ARTIFACTS, POST, Live, fill_form, screenshot
from .live import CHROMIUM, article_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def test_loads_thread_and_posts_across_origins(page: Any, live: Live) -> None:
    live.seed(body="The *first* word.")
    page.goto(live.article())
    page.wait_for_selector("text=The first word.")
    assert page.locator("#ph").inner_text() == "1 comment"
    assert page.locator("em", has_text="first").count() == 1
    fill_form(page)
    page.click(POST)
    page.wait_for_selector("text=Hello from the browser.")
    assert page.locator("#ph").inner_text() == "2 comments"
    assert "published" in page.locator(".st").inner_text()
    page.reload()
    page.wait_for_selector("text=Hello from the browser.")
    assert page.locator("#ph").inner_text() == "2 comments"


def post_in_widget(page: Any, live: Live, body: str, then: str = "") -> None:
    """Open the article, write `body` in the widget's form and post it; wait for `then`
    (by default, the comment's text on the page)."""
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, body=body)
    page.click(POST)
    page.wait_for_selector(then or f"text={body}")


def test_a_plain_permalink_page_is_its_own_thread(page: Any, live: Live) -> None:
    """WordPress's default links (`/?p=12`): the canonical URL's query names the post, so
    each post keeps its own thread (the path alone is "/" for all), as imports key them."""
    live.seed(thread="/?p=12", body="On post twelve.")
    live.seed(thread="/?p=13", body="On post thirteen.")
    canonical = '<link rel="canonical" href="/?p=12">'
    url = live.article("/", thread=None, head=canonical) + "?p=12&utm_source=feed"
    page.goto(url)
    page.wait_for_selector("text=On post twelve.")
    assert page.locator("text=On post thirteen.").count() == 0
    fill_form(page, body="Answering twelve.")
    page.click(POST)
    page.wait_for_selector("text=Answering twelve.")
    with live.app.app_context():
        stored = db.session.scalars(select(Thread).where(Thread.key == "/?p=12")).one()
        assert stored.comment_count == 2
        assert stored.url == f"{live.articles.origin}/?p=12"  # the post, not its campaign


def test_reply_nests_under_its_parent(page: Any, live: Live) -> None:
    parent = live.seed(body="Parent here.")["comment"]["id"]
    page.goto(live.article())
    page.click(f"#parley-{parent} button:has-text('Reply')")
    fill_form(page, body="A reply.")
    page.click(POST)
    page.wait_for_selector("text=A reply.")
    page.reload()
    nested = page.locator(f"li:has(> #parley-{parent}) > ol article")
    nested.first.wait_for()
    assert "A reply." in nested.first.inner_text()


def test_a_reply_edited_voted_and_deleted_in_place_stays_so(page: Any, live: Live) -> None:
    """A reply is the thread's own object, not a copy: its edit, its vote and its deletion
    survive the redraws that follow (they reverted to the old text before a reload); an
    edited comment keeps its replies on screen."""
    parent = live.seed(body="Parent here.")["comment"]["id"]
    live.seed(body="Another reader's reply.", parent_id=parent)
    page.goto(live.article())
    page.click(f"#parley-{parent} button:has-text('Reply')")
    fill_form(page, body="My reply.")
    page.click(POST)
    mine = page.locator("article:has-text('My reply.')")
    mine.wait_for()
    mine.locator("button:has-text('Edit')").click()
    page.fill("article textarea", "My reply, edited.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=My reply, edited.")
    page.click(f"#parley-{parent} button:has-text('Reply')")  # a redraw: still edited
    page.click("button:has-text('Cancel')")
    assert page.locator("text=My reply, edited.").count() == 1
    mine = page.locator("article:has-text('My reply, edited.')")
    mine.locator("button:has-text('Delete')").click()
    mine.locator("button:has-text('Really delete')").click()
    page.wait_for_selector("text=Your comment was deleted.")
    assert page.locator("text=My reply, edited.").count() == 0
    assert page.locator("text=Another reader's reply.").count() == 1
    page.reload()
    page.wait_for_selector("text=Parent here.")
    assert page.locator("text=My reply, edited.").count() == 0


def test_editing_a_comment_keeps_its_replies_on_screen(page: Any, live: Live) -> None:
    post_in_widget(page, live, "Mine, with answers.")
    with live.app.app_context():
        mine = db.session.scalars(select(Comment)).one().id
    live.seed(body="An answer to it.", parent_id=mine)
    page.reload()
    page.wait_for_selector("text=An answer to it.")
    page.click(f"#parley-{mine} button:has-text('Edit')")
    page.fill("article textarea", "Mine, edited.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Mine, edited.")
    assert page.locator("text=An answer to it.").count() == 1


def test_held_comment_is_shown_to_its_author_only(page: Any, live: Live, browser: Any) -> None:
    live.reset(moderation="all")
    post_in_widget(page, live, "Please approve me.", then="text=Awaiting moderation")
    assert "awaiting moderation" in page.locator(".st").inner_text()
    page.reload()
    page.wait_for_selector("text=Please approve me.")
    assert page.locator("text=Awaiting moderation").count() == 1
    other = browser.new_context().new_page()
    other.goto(live.article())
    other.wait_for_selector("#f-author")
    assert other.locator("text=Please approve me.").count() == 0
    other.context.close()


def test_no_edit_tools_once_a_moderator_approved_the_held_comment(page: Any, live: Live) -> None:
    live.reset(moderation="all")
    post_in_widget(page, live, "Please approve me.", then="text=Awaiting moderation")
    assert page.locator("article button:has-text('Edit')").count() == 1  # held: still mine
    with live.app.app_context():
        from widget.moderation import moderate

        moderate(db.session.scalars(select(Comment)).one(), "approve", "admin:test")
    page.reload()
    page.wait_for_selector("text=Please approve me.")
    assert page.locator("text=Awaiting moderation").count() == 0
    assert page.locator("article button:has-text('Edit')").count() == 0
    assert page.locator("article button:has-text('Delete')").count() == 0
    screenshot(page, "approved-no-tools.png")


def test_an_approval_while_the_page_is_open_shows_in_place_without_a_banner(
    page: Any, live: Live
) -> None:
    live.reset(moderation="all")
    for n in range(55):  # more than a page: the reader loads the second one
        live.seed(body=f"Older {n}.")
    with live.app.app_context():
        from widget.moderation import moderate

        for held in db.session.scalars(select(Comment)).all():
            moderate(held, "approve", "admin:test")
    page.clock.install()
    url = live.articles.add(
        "/newest", article_html(live.api, "/post").replace("<div id", '<div data-sort="newest" id')
    )
    page.goto(url)
    page.click("button:has-text('Load more comments')")
    page.wait_for_selector("text=Older 0.")
    fill_form(page, body="Approve me while I wait.")
    page.click(POST)
    page.wait_for_selector("text=Awaiting moderation")
    live.seed(body="Someone else, approved with it.", author="Other")
    with live.app.app_context():
        for held in db.session.scalars(select(Comment).where(Comment.status == "pending")):
            moderate(held, "approve", "admin:test")
    page.clock.run_for(25_000)  # the first live poll, 20 s in
    page.wait_for_selector(".fresh:has-text('New comments: 1')")  # the other one only
    assert page.locator(".badge:has-text('Awaiting moderation')").count() == 0
    assert page.locator("text=Approve me while I wait.").count() == 1
    assert page.locator("article button:has-text('Edit')").count() == 0  # a decision was made
    assert page.locator(".list article").count() == 56  # both pages kept, and the comment
    assert page.locator("#ph").inner_text() == "56 comments"


def test_an_approval_on_a_long_oldest_first_thread_shows_in_place_too(
    page: Any, live: Live
) -> None:
    """Oldest first, the approved comment is on the last page, which the reader has not
    loaded: the poll looks among the newest while one of theirs is held."""
    live.reset(moderation="none")
    for n in range(55):
        live.seed(body=f"Older {n}.")
    with live.app.app_context():
        db.session.scalars(select(Site)).one().moderation = "all"
        db.session.commit()
    page.clock.install()
    page.goto(live.article())
    page.wait_for_selector("text=Older 0.")
    fill_form(page, body="Held on a long thread.")
    page.click(POST)
    page.wait_for_selector(".badge:has-text('Awaiting moderation')")
    with live.app.app_context():
        from widget.moderation import moderate

        held = db.session.scalars(select(Comment).where(Comment.status == "pending")).one()
        moderate(held, "approve", "admin:test")
    page.clock.run_for(25_000)  # the first live poll, 20 s in
    page.wait_for_function("!document.querySelector('#parley').shadowRoot.querySelector('.badge')")
    assert page.locator("text=Held on a long thread.").count() == 1
    assert page.locator(".fresh").is_hidden()  # nothing new to its author, no false count
    assert page.locator("#ph").inner_text() == "56 comments"


def test_a_refused_edit_takes_the_tools_away(page: Any, live: Live) -> None:
    """Approved at first look after it was published: the widget cannot know until the
    server says so; then the tools go."""
    post_in_widget(page, live, "Published at once.", then="article button:has-text('Edit')")
    with live.app.app_context():
        from widget.moderation import moderate

        moderate(db.session.scalars(select(Comment)).one(), "approve", "admin:test")
    page.click("article button:has-text('Edit')")
    page.fill("article textarea", "Changed.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=This is no longer possible.")
    screenshot(page, "edit-refused.png")
    page.reload()
    page.wait_for_selector("text=Published at once.")
    assert page.locator("article button:has-text('Edit')").count() == 0


def test_author_edits_then_deletes_own_comment(page: Any, live: Live) -> None:
    post_in_widget(page, live, "Tpyo here.")
    page.reload()
    page.click("button:has-text('Edit')")
    page.fill("article textarea", "Typo fixed.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Typo fixed.")
    page.reload()
    page.wait_for_selector("text=Typo fixed.")
    page.click("button:has-text('Delete')")
    page.click("button:has-text('Really delete')")
    page.wait_for_selector("text=Your comment was deleted.")
    # Nothing answered it: it leaves the page now, as it does after a reload.
    assert page.locator("article").count() == 0 and page.locator("text=[deleted]").count() == 0
    page.reload()
    page.wait_for_selector("#f-author")
    assert page.locator("text=Typo fixed.").count() == 0
    assert page.dialogs == []


def test_load_more_fetches_the_next_page(page: Any, live: Live) -> None:
    for i in range(55):
        live.seed(body=f"Comment number {i}.")
    page.goto(live.article())
    page.wait_for_selector("text=Comment number 49.")
    assert page.locator("text=Comment number 50.").count() == 0
    page.dblclick("button:has-text('Load more comments')")  # an impatient reader
    page.wait_for_selector("text=Comment number 54.")
    page.wait_for_timeout(300)
    assert page.locator("article").count() == 55  # the next page once, not twice
    assert page.locator("button:has-text('Load more comments')").is_hidden()


def test_counts_come_from_one_batched_request(page: Any, live: Live) -> None:
    live.seed(thread="/a")
    live.seed(thread="/a")
    live.seed(thread="/b")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/counts" in r.url else None)
    url = live.articles.add(
        "/list",
        article_html(live.api, None, counts=("/a", "/b", "/c")).replace(
            '<div id="parley"></div>', ""
        ),
    )
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-parley-count=\"/a\"]').textContent=='2'")
    texts = [page.locator(f"[data-parley-count='{k}']").inner_text() for k in ("/a", "/b", "/c")]
    assert texts == ["2", "1", "0"]
    assert len(requests) == 1


def test_a_long_archive_page_gets_every_count_in_requests_any_server_takes(
    page: Any, live: Live
) -> None:
    keys = [
        f"/2026/11/a-rather-long-article-slug-that-goes-on-and-on-number-{n}" for n in range(150)
    ]
    keys[29] = "/" + "评论" * 100  # 200 characters, 1,800 once percent-encoded
    for key in keys[::50]:
        live.seed(thread=key)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/counts" in r.url else None)
    spans = "".join(f'<span data-parley-count="{key}">?</span>' for key in keys)
    url = live.articles.add(
        "/archive", article_html(live.api, None).replace('<div id="parley"></div>', spans)
    )
    page.goto(url)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-parley-count]')].every(e => e.textContent !== '?')"
    )
    texts = page.locator("[data-parley-count]").all_inner_texts()
    assert texts == ["1" if n % 50 == 0 else "0" for n in range(150)]
    # gunicorn takes a request line of up to 4,094 characters ("GET ", the path, " HTTP/1.1")
    assert len(asked) > 1 and all(
        len(urlsplit(u).path) + len(urlsplit(u).query) < 4050 for u in asked
    )


def test_field_error_shows_next_to_its_field_and_keeps_text(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, email="not-an-address", body="Keep me.")
    page.click(POST)
    page.wait_for_selector("#e-email:has-text('valid email')")
    assert page.locator("#f-email").get_attribute("aria-invalid") is not None
    # Their looks come with the second chunk (the first load leaves them out): red, and a
    # thicker border than the other fields'.
    looks = page.evaluate(
        """() => {
        const root = document.querySelector('#parley').shadowRoot;
        const style = (sel) => getComputedStyle(root.querySelector(sel));
        return [style('#e-email').color, style('#f-author').color,
                style('#f-email').borderTopWidth, style('#f-author').borderTopWidth];
    }"""
    )
    assert looks[0] != looks[1] and looks[2] == "2px" and looks[3] == "1px", looks
    assert page.locator("#f-body").input_value() == "Keep me."
    page.locator("#f-email").type("x")  # being corrected: the field is no longer marked
    assert page.locator("#e-email").inner_text() == ""
    assert page.locator("#f-email").get_attribute("aria-invalid") is None
    assert (
        page.evaluate("document.querySelector('#parley').shadowRoot.activeElement.id") == "f-email"
    )
    # Sent again at once: the form's token was not spent, so there is no new one to age.
    page.fill("#f-email", "fixed@example.org")
    started = time.monotonic()
    page.click(POST)
    page.wait_for_selector("article:has-text('Keep me.')")
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"status": 429, "body": '{"error": "rate_limited", "message": "Too many"}'}, "Zu viele"),
        (  # not "your text is kept": the reader has typed nothing yet
            {"status": 503, "body": '{"error": "unavailable", "message": "Down"}'},
            "konnten nicht geladen werden",
        ),
    ],
)
def test_a_thread_that_cannot_load_says_so_in_the_pages_language(
    page: Any, live: Live, answer: dict[str, Any], said: str
) -> None:
    live.seed(body="Hidden by the outage.")
    page.route(
        "**/api/comments?*",
        lambda route: route.fulfill(content_type="application/json", **answer),
    )
    page.goto(live.article(lang="de"))
    page.wait_for_selector(f"#ph:has-text('{said}')")
    assert "Diskutieren" not in page.locator("#ph").inner_text()  # not "join the conversation"
    assert said in page.locator("form .st").first.inner_text()  # announced (role=status)


def test_draft_survives_failed_request_and_reload(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, body="Words I do not want to lose.")
    page.route(
        "**/api/comments",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.click(POST)
    page.wait_for_selector(".st:has-text('Could not reach')")
    assert page.locator("#f-body").input_value() == "Words I do not want to lose."
    page.unroute("**/api/comments")
    # The database away: the server's 503 is read (CORS holds), and said the same way.
    page.route(
        "**/api/comments",
        lambda route: (
            route.fulfill(
                status=503,
                content_type="application/json",
                headers={"Access-Control-Allow-Origin": "*"},
                body='{"error": "unavailable", "message": "Temporarily unavailable. Try again."}',
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.evaluate(
        "document.querySelector('#parley').shadowRoot.querySelector('.st').textContent = ''"
    )
    page.click(POST)
    page.wait_for_selector(".st:has-text('Could not reach')")
    assert "Temporarily" not in page.locator("form .st").first.inner_text()
    page.unroute("**/api/comments")
    page.reload()
    page.wait_for_selector("#f-body")
    assert page.locator("#f-body").input_value() == "Words I do not want to lose."
    assert page.locator("#f-author").input_value() == ""  # remembered only when asked to
    page.fill("#f-author", "Reader")
    page.fill("#f-email", "reader@example.org")
    page.check("#f-remember")
    page.click(POST)
    page.wait_for_selector("article:has-text('Words I do not want to lose.')")
    page.reload()
    page.wait_for_selector("#f-body")
    assert page.locator("#f-body").input_value() == ""
    assert page.locator("#f-author").input_value() == "Reader"


def active_id(page: Any) -> str:
    script = "document.querySelector('#parley').shadowRoot.activeElement?.id || ''"
    return str(page.evaluate(script))


def test_keyboard_only_posting(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    for _ in range(5):  # past the sort control to the first field
        page.keyboard.press("Tab")
        if active_id(page) == "f-author":
            break
    assert active_id(page) == "f-author"
    page.keyboard.type("Keys Only")
    page.keyboard.press("Tab")
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # notify: the choice of what to get appears beside it
    page.keyboard.press("Tab")  # that choice: replies, the default
    page.keyboard.press("Tab")  # remember me: left unticked
    page.keyboard.press("Tab")
    assert active_id(page) == ""  # the Post button has no id
    page.keyboard.press("Enter")
    page.wait_for_selector("article:has-text('Typed without a mouse.')")
    focused = page.evaluate("document.querySelector('#parley').shadowRoot.activeElement.id")
    assert focused.startswith("parley-")


def test_survives_hostile_host_css(page: Any, live: Live) -> None:
    live.seed(body="Still readable.")
    hostile = (
        "<style>* { all: unset; position: absolute; font-size: 40px } "
        "html { font-size: 3px } body { line-height: 0; letter-spacing: 9px } "
        "p, h2, input, button, form, textarea, label, ol, li { display: none !important;"
        " color: transparent !important }"
        " #parley { display: none !important; visibility: hidden !important; opacity: 0"
        " !important; position: fixed !important; width: 1px !important; height: 1px !important;"
        " transform: scale(0) !important; overflow: hidden !important }</style>"
    )
    page.goto(live.article(head=hostile))
    page.wait_for_selector("text=Still readable.")
    size = page.evaluate(
        "getComputedStyle(document.querySelector('#parley').shadowRoot"
        ".querySelector('#f-body')).fontSize"
    )
    assert size == "16px"
    host = page.locator("#parley").evaluate(
        "e => { const s = getComputedStyle(e); return [s.display, s.visibility, s.opacity,"
        " s.position, s.transform, s.overflow, e.getBoundingClientRect().height > 100] }"
    )
    assert host == ["block", "visible", "1", "static", "none", "visible", True], host
    fill_form(page, body="Posted through hostile CSS.")
    page.click(POST)
    page.wait_for_selector("article:has-text('Posted through hostile CSS.')")
    screenshot(page, "hostile-css.png")


def test_dark_scheme_and_narrow_phone(browser: Any, live: Live) -> None:
    live.reset()
    live.seed(body="Dark and narrow.")
    context = browser.new_context(color_scheme="dark", viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(live.article())
    page.wait_for_selector("text=Dark and narrow.")
    background = page.evaluate(
        "getComputedStyle(document.querySelector('#parley').shadowRoot"
        ".querySelector('.p')).backgroundColor"
    )
    assert background == "rgb(13, 17, 23)"
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 320
    screenshot(page, "dark-320.png")
    context.close()


def test_right_to_left_language(page: Any, live: Live) -> None:
    live.seed(body="مرحبا بالعالم")
    page.goto(live.article(lang="ar"))
    page.wait_for_selector("text=مرحبا بالعالم")
    box = page.locator(".p")
    assert box.get_attribute("dir") == "rtl"
    assert box.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.locator(POST).inner_text() == "نشر التعليق"
    screenshot(page, "rtl.png")


def test_german_from_data_lang(page: Any, live: Live) -> None:
    url = live.articles.add(
        "/de", article_html(live.api, "/de").replace('id="parley"', 'id="parley" data-lang="de"')
    )
    page.goto(url)
    page.wait_for_selector("button:has-text('Kommentar senden')")
    assert "nicht veröffentlicht" in page.locator("#n-email").inner_text()
    # On the script tag, beside data-site, it is every thread's default.
    on_script = live.articles.add(
        "/fr",
        article_html(live.api, "/fr").replace(
            'data-site="default"', 'data-site="default" data-lang="fr"'
        ),
    )
    page.goto(on_script)
    page.wait_for_selector("button:has-text('Publier le commentaire')")


def test_subscribe_without_commenting(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.click("button:has-text('Subscribe without commenting')")
    page.fill("#f-sub", "follower@example.org")
    page.click(".sub button[type=submit]")
    page.wait_for_selector(".st:has-text('We sent a confirmation link')")
    with live.app.app_context():
        assert db.session.scalars(select(Subscription)).one().active


def test_form_token_is_fetched_and_sent(page: Any, live: Live) -> None:
    live.reset(moderation="none", spam_checks="on")
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, body="Patient reader.")
    page.wait_for_timeout(3200)  # posting under 3 s after the token is suspicious
    page.click(POST)
    page.wait_for_selector("article:has-text('Patient reader.')")
    assert "published" in page.locator(".st").inner_text()


@pytest.mark.parametrize("scheme", ["light", "dark", "rtl"])
def test_axe_finds_no_accessibility_violations(browser: Any, live: Live, scheme: str) -> None:
    if not AXE.exists():
        pytest.skip("axe-core not installed (make test installs it)")
    live.reset()
    parent = live.seed(body="Axe *checks* this [link](https://example.com).")["comment"]["id"]
    live.seed(body="A reply.", parent_id=parent)
    live.seed(body="```\n" + "wide_code_line = 1; " * 30 + "\n```")  # no sideways scrolling
    context = browser.new_context(color_scheme="light" if scheme == "rtl" else scheme)
    page = context.new_page()
    page.goto(live.article(lang="ar", dir_="rtl") if scheme == "rtl" else live.article())
    page.wait_for_selector("text=A reply.")
    page.click(POST)  # show field errors too
    page.wait_for_selector("#e-author:not(:empty)")
    result = _axe_violations(page, include=[["#parley"]])
    assert result == [], json.dumps(result)
    context.close()


NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_on_the_server_pages(
    browser: Any, live: Live, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """The no-JavaScript thread and every moderator page, as a keyboard or screen-reader
    user meets them (field errors and a pager shown, a queue with held comments), in light
    and dark, on a 320 px screen where nothing may scroll sideways (WCAG 1.4.10)."""
    if not AXE.exists():
        pytest.skip("axe-core not installed (make test installs it)")
    live.reset()
    monkeypatch.setitem(live.app.config, "PAGE_SIZE", 1)
    parent = live.seed(body="Public *comment* with a [link](https://example.com).")
    live.seed(body="A reply.", parent_id=parent["comment"]["id"])
    live.seed(body="Second public comment.")
    with live.app.app_context():
        db.session.scalars(select(Site)).one().moderation = "all"
        db.session.commit()
        from widget.auth import create_admin

        create_admin("mod@example.org", "correct horse battery")
    for n in range(2):
        live.seed(body=f"Held comment {n}.")
    live.seed(body="A long address: https://example.com/" + "very-long-path-segment" * 8)
    live.seed(body="```\n" + "a_wide_line_of_code = 1; " * 12 + "\n```")
    # The pages' CSP refuses axe's inline script.
    context = browser.new_context(
        bypass_csp=True, color_scheme=scheme, viewport={"width": 320, "height": 700}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    found: dict[str, Any] = {}
    wide: list[str] = []
    page.goto(f"{live.api}/threads?site=default&thread=/post&limit=10&lang=ar")
    if not page.evaluate(NO_SIDEWAYS_SCROLL):  # right to left: nothing hidden off to the left
        wide.append("no-js thread, Arabic")
    page.goto(f"{live.api}/threads?site=default&thread=/post&limit=10")
    if not page.evaluate(NO_SIDEWAYS_SCROLL):
        wide.append("no-js thread")
    page.click("button[type=submit]")  # the form with its field errors
    page.wait_for_selector(".error")
    assert page.locator("a[rel=next]").count() == 1  # the pager is on the page checked
    found["no-js thread"] = _axe_violations(page)
    page.goto(f"{live.api}/admin/login")
    found["login"] = _axe_violations(page)
    page.fill("#email", "mod@example.org")
    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Held comment 0")
    found["queue"] = _axe_violations(page)
    for path in ("", "?status=approved", "blocks", "threads", "events", "suppressions"):
        page.goto(f"{live.api}/admin/{path}")
        found[path or "queue"] = found.get(path) or _axe_violations(page)
        if not page.evaluate(NO_SIDEWAYS_SCROLL):
            wide.append(path or "queue")
    context.close()
    assert {name: v for name, v in found.items() if v} == {}, json.dumps(found)
    assert wide == [], f"scrolls sideways at 320 px: {wide}"


def test_demo_page_screenshots(browser: Any, live: Live) -> None:
    live.reset()
    demo = "/2026/11/slow-bread"
    first = live.seed(thread=demo, author="Mira", body="Tried this last weekend. The *crust*!")
    live.seed(
        thread=demo,
        author="Jon",
        website="https://jon.example",
        body="Fold twice, not three times: it keeps the crumb open.",
        parent_id=first["comment"]["id"],
    )
    live.seed(thread=demo, author="Ana", body="Does rye flour work too?")
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, viewport={"width": 900, "height": 900})
        page = context.new_page()
        page.goto(live.api + "/")
        page.wait_for_selector("text=Does rye flour work too?")
        path = screenshot(page, f"demo-{scheme}.png")
        assert path.stat().st_size > 10_000
        context.close()
    shutil.copy(ARTIFACTS / "demo-light.png", ARTIFACTS / "README-screenshot.png")


def test_moderator_approves_held_comment_and_it_appears_on_the_demo(
    browser: Any, live: Live
) -> None:
    live.reset(moderation="all")
    demo = "/2026/11/slow-bread"
    held = live.seed(thread=demo, author="Quiet Reader", body="Waiting for a moderator.")
    assert held["status"] == "pending"
    with live.app.app_context():
        from widget.auth import create_admin

        create_admin("mod@blog.example", "correct horse battery staple")
    context = browser.new_context()
    page = context.new_page()
    page.goto(live.api + "/")
    page.wait_for_selector("#f-author")
    assert page.locator("text=Waiting for a moderator.").count() == 0
    admin = context.new_page()
    admin.goto(live.api + "/admin/")
    admin.fill("input[name=email]", "mod@blog.example")
    admin.fill("input[name=password]", "correct horse battery staple")
    admin.click("button:has-text('Log in')")
    admin.wait_for_selector("text=Waiting for a moderator.")
    admin.click(f"#c{held['comment']['id']} button[value=approve]")
    admin.wait_for_selector("text=Approve: 1 comment.")
    page.reload()
    page.wait_for_selector("text=Waiting for a moderator.")
    assert page.locator("#ph").inner_text() == "1 comment"
    context.close()
