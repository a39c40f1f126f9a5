"""Server-rendered pages: the demo, the no-JavaScript thread, feeds, subscription links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from sqlalchemy import select, text
from werkzeug.wrappers import Response as BaseResponse

from . import comments, moderation, notices, readers, sites, spam, subscriptions, threads
from .assets import Bundle, extra_bundle, widget_bundle
from .avatars import identicon_svg, is_seed
from .clock import no_sooner_than
from .config import is_on
from .errors import Conflict, NotFound, ParleyError, ValidationFailed
from .extensions import csrf, db, rate_limited
from .forms import (
    HONEYPOT_FIELD,
    CommentFields,
    ConfirmForm,
    EraseForm,
    PrivacyRequestForm,
    UnsubscribeForm,
    check_query_arguments,
    new_comment_from,
    submitted,
)
from .i18n_catalog import FIELD_MESSAGES
from .limits import MAX_ID, RECENT_MAX
from .mail.messages import (
    MODE_WORDS,
    article_link,
    comment_link,
    show_link_targets,
    thread_title,
)
from .models import APPROVED, PENDING, Address, Comment, ErasePolicy, OwnerNotify, Thread
from .serializers import iso, to_json
from .text import xml_safe
from .tokens import (
    TokenError,
    author_token,
    manage_token,
    names_row,
    privacy_token,
    read_privacy_token,
    read_token,
    read_token_issued,
)

bp = Blueprint("pages", __name__)
bp.before_request(check_query_arguments)
bp.add_app_template_filter(xml_safe, "xml_safe")

#: Languages of the no-JavaScript page (words and field messages, by Accept-Language).
PAGE_LANGUAGES = ("en", *FIELD_MESSAGES)


def _author_replied_to(thread: Thread | None, parent_id: int | None) -> str | None:
    """The name a reply form answers (a published comment of this thread), for its heading."""
    if thread is None or not parent_id or not 0 < parent_id <= MAX_ID:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.thread_id != thread.id or parent.status != APPROVED:
        return None
    return parent.author


def _page_language() -> str | None:
    """The article's language when a link says it (`lang=de`, as <html lang> or the widget's
    data-lang spell it: "de-AT" reads as "de"), if the page speaks it."""
    asked = (request.args.get("lang") or "").split("-")[0].lower()
    return asked if asked in PAGE_LANGUAGES else None


@bp.url_defaults
def _keep_page_language(endpoint: str, values: dict[str, Any]) -> None:
    # Its links (reply, paging) and its form keep the language the page was opened in.
    if endpoint == "pages.thread_page" and has_request_context() and "lang" not in values:
        if (lang := _page_language()) is not None:
            values["lang"] = lang


def translator(lang: str) -> Callable[[str], str]:
    """`tr(english)` for the page's language: the catalog's words, English where it has none."""
    table = FIELD_MESSAGES.get(lang, {})
    return lambda text: table.get(text, text)


#: Languages of the widget (static/i18n/<code>.json, each complete: a test checks).
LANGUAGES = ("en", "de", "fr", "es", "ar", "it", "nl", "pt", "pl", "ru", "uk", "ja", "zh", "tr")


@bp.get("/")
def demo() -> str:
    """A placeholder article with the embed snippet, for `make run` (PARLEY_DEMO=on only:
    a production install shows nothing at /)."""
    if not is_on(current_app.config["DEMO"]):
        raise NotFound("Nothing here: Parley serves the comments of your pages.")
    return render_template("demo.html")


@bp.get("/healthz")
def healthz() -> tuple[Response, int] | Response:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        return Response('{"status":"unavailable"}', 503, mimetype="application/json"), 503
    return Response('{"status":"ok"}', mimetype="application/json")


@bp.get("/embed.js")
def embed_js() -> Response:
    return _script(widget_bundle(current_app.static_folder or "static"))


@bp.get("/embed-extra.js")
def embed_extra_js() -> Response:
    return _script(extra_bundle(current_app.static_folder or "static"))


def _script(bundle: Bundle) -> Response:
    """A widget script: gzipped once at start, revalidated by ETag, loadable from any page."""
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(bundle.gzipped if gzipped else bundle.body, mimetype="text/javascript")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.set_etag(bundle.etag)
    response.make_conditional(request)
    return response


@bp.get("/i18n/<lang>.json")
def language_file(lang: str) -> Response:
    if lang not in LANGUAGES:
        raise NotFound("No such language.")
    response = send_from_directory(
        f"{current_app.static_folder}/i18n",
        f"{lang}.json",
        max_age=3600,
        mimetype="application/json",
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/avatars/<seed>.svg")
def avatar(seed: str) -> Response:
    if not is_seed(seed):
        raise NotFound("No such avatar.")
    response = Response(identicon_svg(seed), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- the thread without JavaScript -------------------------------------------


@bp.route("/threads", methods=["GET", "POST"])
@rate_limited(lambda: str(current_app.config["RATE_LIMIT_POST"]), methods=["POST"])
def thread_page() -> str | BaseResponse:
    key = threads.check_thread_key(request.args.get("thread"))
    page = threads.find_page_thread(request.args.get("site"), key)
    site, thread = page.site, page.thread
    form = CommentFields()
    kept = ""
    if request.method == "POST" and form.validate_on_submit():
        try:
            return _post_from_page(page, key, form)
        except ValidationFailed as exc:
            for name, messages in (exc.errors or {}).items():
                getattr(form, name).errors = list(messages)
        except Conflict:  # closed since the page was loaded: the page says so, text kept
            db.session.rollback()
            kept = form.body.data or ""
    elif request.method == "GET":
        form.form_token.data = spam.issue_form_token()
        form.parent_id.data = request.args.get("reply", type=int)
    status = 422 if form.errors else 409 if kept else 200
    cursor = request.args.get("cursor") or None
    if cursor:
        threads.decode_cursor(cursor)  # a 400 as the API answers, thread or not
    tree: list[dict[str, Any]] = []
    next_cursor = None
    if thread:
        tree, next_cursor = threads.load_page(thread, cursor, threads.page_limit())
    lang = _page_language() or request.accept_languages.best_match(PAGE_LANGUAGES) or "en"
    return render_template(
        "thread.html",
        lang=lang,
        direction="rtl" if lang == "ar" else "ltr",
        tr=translator(lang),
        site=site,
        key=key,
        thread=thread,
        closed=thread is not None and threads.is_closed(thread, site),
        kept=kept,
        tree=tree,
        steps=threads.flatten(tree),
        cursor=cursor,
        next_cursor=next_cursor,
        mine_pending=_own_pending(thread) if thread else [],
        replying_to=_author_replied_to(thread, form.parent_id.data),
        form=form,
        honeypot=HONEYPOT_FIELD,
        modes=MODE_CHOICES,
    ), status  # type: ignore[return-value]


def _post_from_page(page: threads.PageThread, key: str, form: CommentFields) -> BaseResponse:
    # No title or URL from here: a link's query string is anyone's to write.
    new = new_comment_from(form, key, title="", url="", ip=request.remote_addr or "")
    new.author_token = " ".join(session.get("authored", [])) or None
    comment, _token = comments.post_comment(page, new)
    # This browser's proof of its comments, for first-time moderation (as the widget keeps).
    session["authored"] = [
        author_token(comment.id, comment.created_at),
        *session.get("authored", []),
    ][:5]
    if comment.status == APPROVED:
        flash("Your comment is published.", "ok")
    else:
        flash("Thanks! Your comment is awaiting moderation.", "pending")
        # Only its author sees a held comment: remember it in this browser's session.
        session["pending"] = ([comment.id] + list(session.get("pending", [])))[:MAX_OWN_PENDING]
    cursor = (
        threads.page_cursor_of(comment, threads.page_limit())
        if comment.status == APPROVED
        else None
    )
    target = url_for("pages.thread_page", site=page.site.name, thread=key, cursor=cursor)
    return redirect(f"{target}#c{comment.id}", code=303)


MAX_OWN_PENDING = 20


def _own_pending(thread: Thread) -> list[Comment]:
    """Held comments this browser posted on this thread, for "awaiting moderation"."""
    ids = [i for i in session.get("pending", []) if isinstance(i, int)]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(ids), Comment.thread_id == thread.id, Comment.status == PENDING)
            .order_by(Comment.id)
        )
    )


# --- feed ----------------------------------------------------------------------


@bp.get("/feeds/comments.atom")
def feed() -> Response:
    """A thread's feed; without `thread`, the site's newest comments on all its threads."""
    site = threads.find_site(request.args.get("site"))
    if not request.args.get("thread"):
        entries = threads.recent_comments(site, RECENT_MAX)
        started = entries[0][0].created_at if entries else site.created_at
        return _feed(site, None, entries, started)
    key = threads.check_thread_key(request.args["thread"])
    thread = threads.find_thread(site, key)
    if thread is None:  # a new article's feed, subscribed to before its first comment
        return _feed(site, Thread(key=key, title="", url=""), [], site.created_at)
    rows = db.session.scalars(
        select(Comment)
        .where(Comment.thread_id == thread.id, Comment.status == APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(50)
    ).all()
    return _feed(
        site, thread, [(c, thread) for c in rows], rows[0].created_at if rows else thread.created_at
    )


def _feed(
    site: Any, thread: Thread | None, entries: list[tuple[Comment, Thread]], updated: Any
) -> Response:
    body = render_template(
        "feed.xml",
        site=site,
        thread=thread,
        entries=entries,
        iso=iso,
        updated=iso(updated),
    )
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


# --- subscription links (every GET is side-effect free) -------------------------------


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm_subscription(token: str) -> str | tuple[str, int]:
    address, subscription = subscriptions.address_from_token("confirm", token)
    if subscription is None:
        raise NotFound("This link is not valid.")
    if not subscription.active:  # said before the button, not after it
        raise NotFound("This subscription was stopped. Subscribe again on the article's page.")
    form = ConfirmForm()
    mode = MODE_WORDS.get(subscription.mode, MODE_WORDS["all"])
    if request.method == "POST":
        submitted(form)
        subscriptions.confirm(subscription)
        return render_template(
            "message.html",
            title="Subscription confirmed",
            message=f"You will get {mode}.",
            manage=manage_token(address.id, address.generation, address.created_at),
            back=subscription.thread.url,  # on one of the site's origins (threads.page_url)
        )
    return render_template("confirm.html", form=form, thread=subscription.thread, mode=mode)


def one_click_post() -> bool:
    """A mail provider's RFC 8058 one-click POST (List-Unsubscribe-Post): the link's token
    is all it carries, no CSRF token, no cookie."""
    return request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> str | tuple[str, int]:
    try:
        address, subscription = subscriptions.address_from_token("unsubscribe", token)
    except NotFound:
        # A subscription merged away or removed sends nothing more: that is what was asked.
        try:
            read_token("unsubscribe", token)
        except TokenError as exc:  # a forged or tampered link is still refused
            raise NotFound(exc.message) from exc
        return render_template(
            "message.html", title="Unsubscribed", message="You get no mail about this thread."
        )
    if request.method == "POST":
        if one_click_post():
            # RFC 8058: a mail provider's POST, with the token alone.
            subscriptions.unsubscribe(address, subscription, everything=False)
            return render_template(
                "message.html",
                title="Unsubscribed",
                message="You will get no more mail about this thread.",
            )
        form = UnsubscribeForm()
        submitted(form)
        subscriptions.unsubscribe(address, subscription, everything=bool(form.everything.data))
        return _unsubscribed(address, everything=bool(form.everything.data))
    if subscription is not None and not subscription.active:  # done already (one click)
        return _unsubscribed(address, everything=False, already=True)
    return render_template(
        "unsubscribe.html",
        form=UnsubscribeForm(),
        thread=subscription.thread if subscription else None,
    )


def _unsubscribed(address: Address, everything: bool, already: bool = False) -> str:
    """The page after an unsubscribe, with a fresh link to the address's subscriptions."""
    what = "any thread" if everything else "this thread"
    said = f"You will get no more mail about {what}."
    if already:
        said = f"You are unsubscribed: you get no mail about {what}."
    return render_template(
        "message.html",
        title="Unsubscribed",
        message=said,
        manage=manage_token(address.id, address.generation, address.created_at),
    )


@bp.route("/subscriptions/<token>", methods=["GET", "POST"])
def manage_subscriptions(token: str) -> str:
    """Every subscription of an address: switch each one's mode, pause all, or leave."""
    address, _ = subscriptions.address_from_token("manage", token)
    form = ConfirmForm()
    if request.method == "POST":
        submitted(form)
        action = request.form.get("action", "leave")
        chosen = request.form.get("subscription", type=int)
        if action == "mode":
            subscriptions.set_mode(address, chosen, request.form.get("mode", ""))
            flash("Saved: you will get what you chose.", "ok")
        elif action == "pause":
            days = request.form.get("days", type=int) or 0
            subscriptions.pause(address, days if days in (7, 30) else 0)
            flash(f"Paused for {days} days." if days in (7, 30) else "Mail resumed.", "ok")
        else:
            mine = {s.id: s for s in subscriptions.subscriptions_of(address)}
            if chosen not in mine:
                raise NotFound("No such subscription.")
            everything = request.form.get("all") == "1"
            subscriptions.unsubscribe(address, mine[chosen], everything=everything)
            if everything:  # every earlier link is void now; this page's is renewed
                return _unsubscribed(address, everything=True)
            flash("Unsubscribed.", "ok")
    items = [s for s in subscriptions.subscriptions_of(address) if s.active]
    return render_template(
        "manage.html",
        form=form,
        subscriptions=items,
        address=address,
        modes=MODE_CHOICES,
        privacy=privacy_token(address.email_hash),
    )


# --- a reader's data (GDPR art. 15, 17, 20) ------------------------------------------


@bp.route("/privacy", methods=["GET", "POST"])
@rate_limited(lambda: str(current_app.config["RATE_LIMIT_POST"]), methods=["POST"])
def privacy() -> str | tuple[str, int]:
    """Ask for a link to one's data: it is mailed; the page shows nothing about anyone."""
    form = PrivacyRequestForm()
    if form.validate_on_submit():
        with no_sooner_than():  # known or not, the same answer in the same time
            readers.request_privacy_link(form.email.data or "")
        return render_template("privacy.html", form=form, sent=True)
    return render_template("privacy.html", form=form, sent=False), 422 if form.errors else 200


@bp.get("/privacy/<token>")
def privacy_link(token: str) -> str:
    """What a /privacy link opens: how much is stored, a download and an erase button."""
    return _privacy_page(token, _privacy_hash(token), EraseForm())


@bp.get("/privacy/<token>/export.json")
def privacy_export(token: str) -> Response:
    """Everything stored about the address, as a JSON download (reads only)."""
    data = readers.export_by_hash(_privacy_hash(token))
    response = Response(to_json(data), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-comments-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/privacy/<token>/erase")
def privacy_erase(token: str) -> str | tuple[str, int]:
    email_hash = _privacy_hash(token)
    form = EraseForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            submitted(form)  # the standard "form expired" answer
        return _privacy_page(token, email_hash, form), 422
    if readers.stored_about(email_hash) == (0, 0):  # erased already (the form sent again)
        return _privacy_page(token, email_hash, form)
    policies = readers.erase_policies(email_hash)
    blocked = readers.is_blocked_somewhere(email_hash)
    erased, unsubscribed = readers.erase_by_hash(email_hash, actor="reader")
    kept = (
        " A site that blocked your address keeps a keyed fingerprint of it, so that the"
        " block holds; the address itself is gone."
        if blocked
        else " Your address is no longer stored."
    )
    return render_template(
        "message.html",
        title="Your data is erased",
        message=(
            f"{_erased_in_words(erased, policies)}, and {unsubscribed} subscription"
            f"{'s are' if unsubscribed != 1 else ' is'} gone.{kept}"
        ),
        manage=None,
    )


def _erased_in_words(erased: int, policies: dict[str, list[str]]) -> str:
    """What an erasure did to the reader's comments (each site's erase policy)."""
    comments = f"{erased} comment{'s' if erased != 1 else ''}"
    if ErasePolicy.REMOVE not in policies:
        return f"{comments} now read “[deleted]” without your name or website"
    if ErasePolicy.PLACEHOLDER not in policies:
        return f"{comments} removed (replies by others stay)"
    removed = ", ".join(policies[ErasePolicy.REMOVE])
    kept = ", ".join(policies[ErasePolicy.PLACEHOLDER])
    return (
        f"{comments} erased: removed on {removed}; on {kept} left as “[deleted]” without"
        " your name or website"
    )


def _privacy_page(token: str, email_hash: str, form: EraseForm) -> str:
    comments_count, subscriptions_count = readers.stored_about(email_hash)
    return render_template(
        "privacy_link.html",
        token=token,
        comments=comments_count,
        subscriptions=subscriptions_count,
        policies=readers.erase_policies(email_hash),
        form=form,
    )


def _privacy_hash(token: str) -> str:
    try:
        return read_privacy_token(token)
    except TokenError as exc:
        raise NotFound(
            "This link has expired or is not valid. Ask for a new one at /privacy."
        ) from exc


#: The choices of the manage page, as readers read them.
MODE_CHOICES = (
    ("replies", "Replies to my comments"),
    ("all", "Every new comment"),
    ("digest", "A daily digest"),
)


@bp.route("/subscriptions/never/<token>", methods=["GET", "POST"])
@csrf.exempt
def never_mail(token: str) -> str:
    """ "Never email me again", from a confirmation mail the reader did not ask for: its
    button (with CSRF), or the mail provider's RFC 8058 one-click POST (the token alone),
    as it is the confirmation mail's List-Unsubscribe."""
    address, _ = subscriptions.address_from_token("never", token)
    form = ConfirmForm()
    one_click = one_click_post()
    if request.method == "POST":
        if not one_click:
            submitted(form)
        if request.form.get("allow") and not one_click:  # the way back: this page's (CSRF)
            subscriptions.allow_mail_again(address)
            return render_template(
                "message.html",
                title="Mail allowed again",
                message="This site may email this address again. Subscribe to a thread "
                "from its page (each subscription is confirmed by a link, as before).",
            )
        subscriptions.never_mail(address)
    elif address.suppressed_at is None:
        return render_template("never.html", form=form)
    # Done (now, or already: the link opened again says so, and a GET changes nothing).
    # Only the owner's own "never" can be taken back here; a server's refusal is the admin's.
    owner_asked = address.suppression_reason == subscriptions.OWNER_ASKED
    return render_template("never.html", form=form, done=True, may_allow=owner_asked)


# --- moderation links from the owner's mail -------------------------------------------


@bp.route("/moderate/mail/<token>", methods=["GET", "POST"])
@csrf.exempt
def stop_owner_mail(token: str) -> str:
    """The owner's mail's List-Unsubscribe: a page with a button (with CSRF), or the mail
    provider's RFC 8058 one-click POST (the token alone). Stops the site's mail to its owner."""
    site = sites.owner_mail_site(token)
    form = ConfirmForm()
    if request.method == "POST":
        if not one_click_post():
            submitted(form)
        if site.notify_owner != OwnerNotify.NONE:
            sites.stop_owner_mail(site)
    elif site.notify_owner != OwnerNotify.NONE:
        return render_template("owner_mail.html", form=form, site=site.name)
    return render_template(
        "message.html",
        title="No more mail",
        message=(
            f"Site {site.name} mails its owner nothing more about its comments. To hear of "
            f"them again: the admin's settings of the site, or `flask --app app sites set "
            f"{site.name} --notify-owner held`."
        ),
    )


#: The moderation page's question when a mail's link chose an action (`?action=`) ...
MODERATE_QUESTIONS = {
    "approve": "Approve this comment?",
    "spam": "Mark this comment as spam?",
    "delete": "Delete this comment?",
}
#: ... and what it says once the action is done.
MODERATE_DONE = {
    "approve": "Approved: the comment is published.",
    "spam": "Marked as spam: the comment is hidden, and the spam filter learns from it.",
    "delete": "Deleted: the comment no longer shows.",
}


#: Who decided, in the log, when the owner's mail link did.
MAIL_LINK = "mail-link"


@bp.route("/moderate/<token>", methods=["GET", "POST"])
def moderate_link(token: str) -> str | tuple[str, int]:
    """The owner's mail link: the article, the comment (every link's target shown) and only
    the actions that change it; a GET never acts (mail scanners follow links)."""
    try:
        payload, issued = read_token_issued(
            "moderate", token, max_age=int(current_app.config["MODERATION_LINK_MAX_AGE"])
        )
    except TokenError as exc:
        return render_template("error.html", status=404, message=exc.message), 404
    comment = db.session.get(Comment, payload.get("c") if isinstance(payload, dict) else None)
    if comment is not None and not names_row(payload, issued, comment.created_at):
        comment = None  # its id was another comment's, which is gone
    thread = db.session.get(Thread, comment.thread_id) if comment is not None else None
    if comment is None or thread is None:
        raise NotFound("This comment no longer exists.")
    if "h" in payload and payload["h"] != notices.owner_mail_hash(thread.site):
        raise NotFound("This link went to an earlier owner address of the site: it is void.")
    # Decided since the mail by someone else (in the admin): their decision stands. The
    # link's own decisions it may take back (approved, then seen to be spam).
    mailed = payload.get("s", comment.status)
    if moderation.last_decided_by(comment.id) == MAIL_LINK:
        mailed = comment.status
    form = ConfirmForm()
    done = ""
    if request.method == "POST":
        action = request.form.get("action", "")
        submitted(form)
        if action not in MODERATE_DONE:
            raise ParleyError("Choose Approve, Mark as spam or Delete.")
        # Pressing a button twice is harmless; an action a mail link does not offer for
        # this state (approving a deleted comment), or for a state that changed since the
        # mail, is for the admin.
        if moderation.ACTIONS[action] != comment.status and (
            action not in notices.mail_actions(comment) or comment.status != mailed
        ):
            state = notices.STATE_WORDS.get(comment.status, comment.status)
            raise Conflict(f"This comment is {state}: open it in the admin to change that.")
        moderation.moderate(comment, action, actor=MAIL_LINK)
        done = MODERATE_DONE[action]
    chosen = request.args.get("action", "") if not done else ""
    offered = notices.mail_actions(comment) if comment.status == mailed else ()
    actions = [(a, notices.ACTION_LABELS[a]) for a in offered]
    actions.sort(key=lambda pair: pair[0] != chosen)  # the mail's choice first
    return render_template(
        "moderate.html",
        form=form,
        comment=comment,
        done=done,
        question=MODERATE_QUESTIONS.get(chosen, "") if chosen in dict(actions) else "",
        title=thread_title(thread),
        article=article_link(thread),
        link=comment_link(thread, comment) if comment.status == APPROVED else "",
        state=notices.STATE_WORDS.get(comment.status, comment.status),
        reasons=notices.reason_words(comment),
        html=show_link_targets(comment.html),
        actions=actions,
        decided_since=not done and comment.status != mailed,
        reply_url=f"/admin/comments/{comment.id}",
    )
