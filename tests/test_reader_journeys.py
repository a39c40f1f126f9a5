"""Readers' journeys through the widget in Chromium, step after step as a reader clicks:
edit and reload, post after an edit, reply, delete, sort, vote, preview, live updates, two
threads on one page, other languages, a site's own dark toggle."""

from __future__ import annotations

from typing import Any

from .conftest import POST, Live, fill_form, screenshot
from .live import article_html

SHADOW = "document.querySelector('#parley').shadowRoot"


def post(page: Any, body: str, author: str = "Reader") -> None:
    fill_form(page, body=body, author=author)
    page.click(POST)


def test_the_edit_box_holds_the_markdown_after_a_reload_and_cancel_shows_the_saved_text(
    page: Any, live: Live
) -> None:
    page.goto(live.article())
    post(page, "Some **bold** words and [a link](https://example.org).")
    page.wait_for_selector("article strong:has-text('bold')")
    page.reload()
    page.click("button:has-text('Edit')")
    area = page.locator("article textarea")
    assert area.input_value() == "Some **bold** words and [a link](https://example.org)."
    area.fill("Now **bolder** words.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("article strong:has-text('bolder')")
    page.click("button:has-text('Edit')")
    assert page.locator("article textarea").input_value() == "Now **bolder** words."
    page.click("article button:has-text('Cancel')")
    page.wait_for_selector("article strong:has-text('bolder')")
    assert page.locator("text=Some").count() == 0
    page.reload()
    page.wait_for_selector("article strong:has-text('bolder')")
    assert page.locator("article .ed").count() == 1  # marked edited


def test_posting_after_an_edited_comment_keeps_the_whole_thread(page: Any, live: Live) -> None:
    page.goto(live.article())
    post(page, "First words.")
    page.wait_for_selector("article:has-text('First words.')")
    page.click("button:has-text('Edit')")
    page.locator("article textarea").fill("First words, edited.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("article:has-text('First words, edited.')")
    post(page, "Second words.")
    page.wait_for_selector("article:has-text('Second words.')")
    assert page.locator("article:has-text('First words, edited.')").count() == 1
    assert page.locator("#ph").inner_text() == "2 comments"


def test_a_reply_says_whom_it_answers_and_lands_under_it(page: Any, live: Live) -> None:
    live.seed(author="Ann", body="A question?")
    page.goto(live.article())
    page.click("button[aria-label='Reply to Ann']")
    page.wait_for_selector(".to:has-text('Replying to Ann')")
    post(page, "An answer.")
    reply = page.locator("li li article:has-text('An answer.')")
    reply.wait_for()
    focused = page.evaluate(f"{SHADOW}.activeElement.id")
    assert focused == reply.get_attribute("id")
    assert page.locator(".to").is_hidden()


def test_deleting_updates_the_count_and_the_name_at_once(page: Any, live: Live) -> None:
    live.seed(body="Someone else's.")
    page.goto(live.article())
    post(page, "Mine, soon gone.", author="Deleter")
    page.wait_for_selector("#ph:has-text('2 comments')")
    page.click("button:has-text('Delete')")
    page.click("button:has-text('Really delete')")
    page.wait_for_selector("#ph:has-text('1 comment')")
    assert page.locator("text=Deleter").count() == 0
    assert page.locator("article").count() == 1  # no "[deleted]" left behind
    assert page.locator(".st:has-text('Your comment was deleted.')").count() == 1


def test_deleting_the_comment_one_is_answering_turns_the_reply_into_a_new_comment(
    page: Any, live: Live
) -> None:
    page.goto(live.article(path="/answering"))
    post(page, "Mine, about to go.", author="Me")
    page.click("article:has-text('Mine, about to go.') button:has-text('Reply')")
    page.wait_for_selector(".to:has-text('Replying to Me')")
    page.click("article:has-text('Mine, about to go.') button:has-text('Delete')")
    page.click("button:has-text('Really delete')")
    page.wait_for_selector(".st:has-text('Your comment was deleted.')")
    assert page.locator(".to").is_hidden()
    post(page, "Now a comment of its own.", author="Me")
    page.wait_for_selector("article:has-text('Now a comment of its own.')")
    assert page.locator("text=not in this thread").count() == 0


def test_sorting_and_voting(page: Any, live: Live) -> None:
    for n in range(3):
        live.seed(body=f"Comment {n}.")
    page.goto(live.article())
    page.wait_for_selector("text=Comment 2.")
    page.locator("article:has-text('Comment 1.') button[aria-label^='Vote up']").click()
    up = page.locator("article:has-text('Comment 1.') button[aria-label^='Vote up']")
    page.wait_for_selector("article:has-text('Comment 1.') .sc:has-text('1')")
    assert up.get_attribute("aria-pressed") == "true"
    page.select_option("#f-sort", "top")
    page.wait_for_function(
        f"{SHADOW}.querySelector('.list article .c').textContent.includes('Comment 1.')"
    )
    page.select_option("#f-sort", "newest")
    page.wait_for_function(
        f"{SHADOW}.querySelector('.list article .c').textContent.includes('Comment 2.')"
    )
    page.reload()  # the vote is remembered by this browser
    pressed = page.locator("article:has-text('Comment 1.') button[aria-label^='Vote up']")
    assert pressed.get_attribute("aria-pressed") == "true"


def test_preview_shows_the_text_as_it_will_look(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.fill("#f-body", "A **strong** claim.")
    page.click("button:has-text('Preview')")
    page.wait_for_selector(".pv strong:has-text('strong')")
    assert page.locator("#f-body").is_hidden()
    page.click("button:has-text('Write')")
    assert page.locator("#f-body").input_value() == "A **strong** claim."


def test_a_comment_from_another_reader_arrives_without_a_jump(page: Any, live: Live) -> None:
    page.clock.install()
    live.seed(body="Already here.")
    page.goto(live.article())
    page.wait_for_selector("text=Already here.")
    live.seed(body="Just arrived.", author="Other")
    page.clock.run_for(25_000)  # the first poll, 20 s in
    page.wait_for_selector(".fresh:has-text('New comments: 1')")
    banner = page.locator(".fresh").evaluate("el => getComputedStyle(el).backgroundColor")
    assert banner not in ("rgba(0, 0, 0, 0)", "transparent"), banner  # set apart from the list
    assert page.locator("text=Just arrived.").count() == 0  # shown only when asked
    page.click(".fresh button")
    page.wait_for_selector("text=Just arrived.")


def test_a_new_comment_on_a_long_thread_read_oldest_first_is_announced(
    page: Any, live: Live
) -> None:
    """Oldest first, a new comment lands on the last page, which the poll does not load:
    the thread's count says it came."""
    for n in range(55):
        live.seed(body=f"Old comment {n}.")
    page.clock.install()
    page.goto(live.article())
    page.wait_for_selector("text=Old comment 49.")
    live.seed(body="Just arrived.", author="Other")
    page.clock.run_for(25_000)  # the first poll, 20 s in
    page.wait_for_selector(".fresh:has-text('New comments: 1')")


def test_my_comment_goes_first_when_the_newest_come_first(page: Any, live: Live) -> None:
    for n in range(3):
        live.seed(body=f"Comment {n}.")
    page.goto(live.article())
    page.wait_for_selector("text=Comment 2.")
    page.select_option("#f-sort", "newest")
    page.wait_for_function(
        f"{SHADOW}.querySelector('.list article .c').textContent.includes('Comment 2.')"
    )
    post(page, "Mine, the newest.")
    page.wait_for_selector("text=Mine, the newest.")
    first = page.evaluate(f"{SHADOW}.querySelector('.list article .c').textContent")
    assert "Mine, the newest." in first


def test_a_comment_sent_again_after_the_network_came_back_is_not_held(
    page: Any, live: Live
) -> None:
    """Offline, the post fails and so does the fetch of a new form token; online again, the
    next try fetches one first (without it the server would hold the comment as a bot's)."""
    live.reset(moderation="none", spam_checks="on")
    page.goto(live.article())
    page.wait_for_selector("#f-author")
    fill_form(page, body="Sent twice, published once.")
    page.context.set_offline(True)
    page.click(POST)
    page.wait_for_selector(".st:has-text('Could not reach')")
    page.context.set_offline(False)
    page.click(POST)
    page.wait_for_selector("text=Sent twice, published once.")
    status = page.locator("form .st").first.inner_text()
    assert "published" in status and "awaiting" not in status, status


def test_a_reply_in_progress_survives_a_redraw_without_its_comment(page: Any, live: Live) -> None:
    """Replying to a comment of the second page, then sorting (or "Show" new comments):
    the first page comes back without that comment, and the form with it; the form stays,
    with what the reader typed."""
    for n in range(55):
        live.seed(body=f"Old comment {n}.")
    # The answer for the first choice below comes last: the page shows the order chosen last.
    page.add_init_script(
        "const send = window.fetch; window.fetch = (url, o) => String(url).includes('sort=newest')"
        " ? new Promise((done) => setTimeout(done, 500)).then(() => send(url, o)) : send(url, o)"
    )
    page.goto(live.article())
    page.wait_for_selector("text=Old comment 49.")
    page.click("button.more")
    page.wait_for_selector("text=Old comment 52.")
    page.click("article:has-text('Old comment 52.') button:has-text('Reply')")
    page.fill("#f-body", "Half written.")
    page.select_option("#f-sort", "newest")
    page.select_option("#f-sort", "oldest")
    page.wait_for_timeout(800)
    page.wait_for_function(
        f"{SHADOW}.querySelector('.list article .c').textContent.includes('Old comment 0.')"
    )
    assert page.locator("text=Old comment 52.").count() == 0
    assert page.locator("#f-body").is_visible()
    assert page.locator("#f-body").input_value() == "Half written."


def test_a_mails_link_to_a_comment_brings_it_into_view(page: Any, live: Live) -> None:
    ids = [live.seed(body=f"Comment {n}.\n\n" + "Long. " * 80)["comment"]["id"] for n in range(30)]
    page.goto(live.article() + f"#parley-{ids[25]}")
    page.wait_for_selector("text=Comment 25.")
    page.wait_for_function(f"{SHADOW}?.activeElement?.id === 'parley-{ids[25]}'")
    assert page.evaluate("window.scrollY") > 1000  # the page moved down to it


def test_a_mails_link_to_a_comment_past_the_first_page_brings_it_into_view(
    page: Any, live: Live
) -> None:
    # Fifty comments a page, oldest first: a new comment on a long thread is on a later page.
    ids = [live.seed(body=f"Comment {n}.")["comment"]["id"] for n in range(55)]
    page.goto(live.article() + f"#parley-{ids[53]}")
    page.wait_for_function(f"{SHADOW}?.activeElement?.id === 'parley-{ids[53]}'")
    assert page.locator("text=Comment 53.").is_visible()
    assert page.locator("text=Comment 0.").count() == 1  # the first page stays, once
    assert page.locator("button:has-text('Load more comments')").is_hidden()  # none left


def test_a_comment_posted_before_the_last_page_is_loaded_shows_once_in_its_place(
    page: Any, live: Live
) -> None:
    for n in range(55):
        live.seed(body=f"Comment {n}.")
    page.goto(live.article())
    page.wait_for_selector("text=Comment 49.")
    post(page, "Mine, the newest.")
    page.wait_for_selector("text=Mine, the newest.")  # shown at once, below what is loaded
    page.click("button:has-text('Load more comments')")
    page.wait_for_selector("text=Comment 54.")
    bodies = page.locator(".list > li > article .c").all_inner_texts()
    assert bodies.count("Mine, the newest.") == 1
    assert bodies[-2:] == ["Comment 54.", "Mine, the newest."]


def test_two_threads_on_one_page_through_the_js_api(page: Any, live: Live) -> None:
    live.seed(thread="/post", body="On the first thread.")
    live.seed(thread="/second", body="On the second thread.")
    extra = (
        '<div id="second"></div><script>window.addEventListener("load", () => '
        'Parley.mount(document.getElementById("second"), {thread: "/second"}))</script>'
    )
    page.goto(live.article(extra=extra))
    page.wait_for_selector("#parley >> text=On the first thread.")
    page.wait_for_selector("#second >> text=On the second thread.")
    assert page.locator("#parley >> text=On the second thread.").count() == 0


def test_german_and_arabic_pages_speak_their_language(page: Any, live: Live) -> None:
    page.goto(live.article(lang="de", path="/de"))
    page.wait_for_selector("#ph:has-text('Diskutieren Sie mit')")
    page.click(POST)
    page.wait_for_selector("#e-author:not(:empty)")
    assert "Enter" not in page.locator("#e-author").inner_text()
    page.goto(live.article(lang="ar", dir_="rtl", path="/ar"))
    page.wait_for_selector("section[dir=rtl]")
    page.click(POST)
    page.wait_for_selector("#e-email:not(:empty)")
    assert "Enter" not in page.locator("#e-email").inner_text()
    screenshot(page, "widget-arabic.png")


def test_counts_and_minutes_take_each_languages_plural_forms(page: Any, live: Live) -> None:
    for n in range(3):
        live.seed(thread="/three", body=f"Number {n}.")
    live.seed(thread="/one", body="Alone.")
    expected = {  # Russian and Polish: 2-4 take a form of their own
        ("ru", "/three"): "3 комментария",
        ("pl", "/three"): "3 komentarze",
        ("en", "/three"): "3 comments",
        ("ru", "/one"): "1 комментарий",
        ("en", "/one"): "1 comment",
        ("de", "/one"): "1 Kommentar",
    }
    for (lang, thread), heading in expected.items():
        page.goto(live.article(lang=lang, path=f"/{lang}{thread}", thread=thread))
        page.wait_for_function(f"{SHADOW}?.querySelector('#ph')?.textContent === {heading!r}")
    # The edit note counts down in the reader's language: one minute is not "1 minutes".
    page.goto(live.article(path="/minutes"))
    post(page, "Timed.")
    page.wait_for_selector("text=You can edit this for 15 more minutes.")
    page.evaluate("Date.now = ((now) => () => now() + 14.2 * 60e3)(Date.now)")
    page.click("button:has-text('Edit')")
    page.wait_for_selector("text=You can edit this for 1 more minute.")


def test_the_sites_own_dark_toggle_wins(page: Any, live: Live) -> None:
    live.seed(body="Colours.")
    page.goto(live.article())
    page.wait_for_selector("text=Colours.")
    background = f"getComputedStyle({SHADOW}.querySelector('section')).backgroundColor"
    light = page.evaluate(background)
    page.evaluate("Parley.setTheme('dark')")
    dark = page.evaluate(background)
    assert light != dark and dark == "rgb(13, 17, 23)"
    screenshot(page, "widget-dark-toggle.png")
    page.evaluate("Parley.setTheme('light')")
    assert page.evaluate(background) == light
    # With data-theme on the script tag, a thread mounted after setTheme() follows setTheme.
    url = live.articles.add(
        "/themed",
        article_html(live.api, "/themed").replace(
            'data-site="default"', 'data-site="default" data-theme="dark"'
        ),
    )
    page.goto(url)
    page.wait_for_function(f"{SHADOW}?.querySelector('section')")
    page.evaluate(
        "Parley.setTheme('light'); const el = document.createElement('div');"
        " el.id = 'later'; document.body.append(el); Parley.mount(el, {thread: '/later'})"
    )
    later = "document.querySelector('#later').shadowRoot"
    page.wait_for_function(f"{later}?.querySelector('section')")
    assert (
        page.evaluate(f"getComputedStyle({later}.querySelector('section')).backgroundColor")
        == light
    )
    assert page.evaluate(background) == light  # and so does the thread mounted before


def test_a_reply_or_an_edit_in_progress_survives_a_vote_elsewhere(page: Any, live: Live) -> None:
    live.seed(author="Bob", body="Bob speaks.")
    live.seed(author="Cy", body="Cy speaks.")
    page.goto(live.article())
    page.click("button[aria-label='Reply to Bob']")
    page.wait_for_selector(".to:has-text('Replying to Bob')")
    page.fill("#f-body", "Half a reply")
    page.click("article:has-text('Cy speaks.') button[aria-label^='Vote up']")
    page.wait_for_selector("article:has-text('Cy speaks.') .sc:has-text('1')")
    assert page.locator("#f-body").input_value() == "Half a reply"
    assert page.locator("li:has(article:has-text('Bob speaks.')) form").count() == 1
    page.select_option("#f-sort", "newest")  # a whole redraw keeps it too
    assert page.locator("#f-body").input_value() == "Half a reply"


def test_subscribe_form_stays_inside_the_widget(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.click("button.subl")
    page.wait_for_selector("form.sub")
    outside = page.evaluate("document.querySelectorAll('form, input').length")
    assert outside == 0  # nothing leaked into the host page
    assert page.locator("button.subl").get_attribute("aria-expanded") == "true"


def test_markdown_emphasis_looks_emphasised(page: Any, live: Live) -> None:
    live.seed(body="Some **bold** and *italic*.")
    page.goto(live.article())
    page.wait_for_selector("article strong")
    weight = page.evaluate(f"getComputedStyle({SHADOW}.querySelector('article strong')).fontWeight")
    style = page.evaluate(f"getComputedStyle({SHADOW}.querySelector('article em')).fontStyle")
    assert int(weight) >= 700 and style == "italic"


def test_an_edit_to_a_held_comment_shows_after_a_reload(page: Any, live: Live) -> None:
    live.reset(moderation="all")
    page.goto(live.article())
    post(page, "Held words.")
    page.wait_for_selector("article:has-text('Held words.')")
    page.click("button:has-text('Edit')")
    page.locator("article textarea").fill("Held words, edited.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("article:has-text('Held words, edited.')")
    page.reload()
    page.wait_for_selector("article:has-text('Held words, edited.')")


def test_notify_me_offers_replies_all_or_a_digest(page: Any, live: Live) -> None:
    page.goto(live.article())
    page.check("#f-notify")
    choice = page.locator("select[name=mode]")
    choice.wait_for()
    assert choice.input_value() == "replies"  # the default when posting
    choice.select_option("digest")
    post(page, "Tell me once a day.")
    page.wait_for_selector("article:has-text('Tell me once a day.')")
    assert page.locator("select[name=mode]").count() == 0  # the box is unticked again
    with live.app.app_context():
        from sqlalchemy import select

        from widget.extensions import db
        from widget.models import Subscription

        assert db.session.scalars(select(Subscription.mode)).all() == ["digest"]


def test_the_manage_page_switches_modes_and_pauses_in_a_browser(page: Any, live: Live) -> None:
    live.seed(body="Followed.", notify="all")
    with live.app.app_context():
        from sqlalchemy import select

        from widget.clock import utcnow
        from widget.extensions import db
        from widget.models import Address, Subscription
        from widget.tokens import manage_token

        subscription = db.session.scalars(select(Subscription)).one()
        subscription.confirmed_at = utcnow()
        db.session.commit()
        address = db.session.scalars(select(Address)).one()
        token = manage_token(address.id, address.generation, address.created_at)
    page.goto(f"{live.api}/subscriptions/{token}")
    page.select_option("select[name=mode]", "digest")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Saved: you will get what you chose.")
    assert page.locator("select[name=mode]").input_value() == "digest"
    page.click("button:has-text('Pause all mail for 7 days')")
    page.wait_for_selector("text=Mail is paused until")
    screenshot(page, "manage-subscriptions.png")
    page.click("button:has-text('Resume mail now')")
    page.wait_for_selector("text=Mail resumed.")


def test_a_recent_comments_block_lists_the_sites_newest(page: Any, live: Live) -> None:
    live.seed(thread="/a", body="Older words.", author="Ann")
    live.seed(thread="/b", body="Newest words.", author="Bo")
    sidebar = '<aside data-parley-recent="2"></aside>'
    page.goto(live.article(extra=sidebar))
    page.wait_for_selector("aside .parley-recent li")
    items = page.locator("aside .parley-recent li").all_inner_texts()
    assert items[0].startswith("Bo") and "Newest words." in items[0] and len(items) == 2


def test_without_shadow_dom_a_link_to_the_no_js_page_stands_in(page: Any, live: Live) -> None:
    page.add_init_script("delete Element.prototype.attachShadow")
    live.seed(body="Readable anyway.")
    page.goto(live.article(lang="de", path="/de-article", thread="/post"))
    link = page.locator("#parley a:has-text('Read and write comments')")
    link.wait_for()
    link.click()
    page.wait_for_selector("text=Readable anyway.")
    assert "/threads?" in page.url
    # In the article's language, whatever the browser's (Chromium here says en-US).
    page.wait_for_selector("button:has-text('Kommentar senden')")
