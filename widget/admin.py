"""The moderation web pages under /admin/: log in, the queue and its search, one comment
(edit, reply, history), threads, block lists, bounced addresses, the log, each site's
settings and webhooks, and a dashboard.

Every page and action keeps to the admin's sites (`auth.site_scope`): what lies outside is a
404 and is left out of every list and count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from . import comments, moderation, subscriptions, webhooks
from .admin_forms import (
    BLOCK_KIND_WORDS,
    MODERATION_WORDS,
    NOTIFY_OWNER_WORDS,
    BlockForm,
    SearchForm,
    SiteForm,
    WebhookForm,
)
from .admin_queries import (
    VIEWS,
    CommentSearch,
    EventFilter,
    Page,
    Scope,
    block_in_scope,
    blocks_page,
    busiest_threads,
    comment_history,
    comment_in_scope,
    days_of_comments,
    delivery_counts,
    events_page,
    ids_in_scope,
    page_number,
    recent_failures,
    search_comments,
    site_named,
    sites_in_scope,
    status_counts,
    thread_in_scope,
    threads_page,
)
from .auth import (
    AccountLocked,
    attempt_login,
    current_admin,
    end_sessions,
    login_required,
    site_scope,
    start_session,
)
from .errors import Forbidden, FormExpired, ParleyError
from .extensions import db, rate_limited
from .forms import ConfirmForm, EditForm, LoginForm, check_query_arguments, submitted
from .limits import BODY_MAX, MAX_ID, THREAD_KEY_MAX, TITLE_MAX
from .models import (
    PENDING,
    Address,
    AdminUser,
    Comment,
    DeliveryStatus,
    Role,
    Site,
    Thread,
)
from .sites import save_site
from .threads import is_closed, set_closed
from .vault import vault
from .wording import (
    DELIVERIES,
    STATUSES,
    action_words,
    mask_addresses_in,
    mask_email,
    reason_words,
)

#: The queue's filters, as its "Filtered by" line names them.
FILTER_LABELS = {
    "site": "site",
    "q": "text",
    "author": "author",
    "thread": "thread",
    "ip": "IP",
    "ah": "address",
}

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.app_template_global()
def thread_closed(thread: Thread) -> bool:
    """Closed by a moderator or by its site's auto-close (the admin shows both)."""
    return is_closed(thread, thread.site)


bp.before_request(check_query_arguments)


@bp.after_request
def no_store(response: Response) -> Response:
    # Moderation pages hold private data: never cached, never framed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "reason_words": reason_words,
        "action_words": action_words,
        "status_words": STATUSES,
        "edit_texts": edit_texts,
        "page_url": page_url,
        "body_max": BODY_MAX,
        "full_admin": _full_admin,
        "masked_text": mask_addresses_in,
    }


def page_url(number: int) -> str:
    """This page's URL with its query, on page `number`."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
    return url_for(request.endpoint or "admin.queue", **args)


def edit_texts(detail: str) -> tuple[str, str] | None:
    """The text before and after a moderator's edit, from its log entry."""
    try:
        texts = json.loads(detail)
    except ValueError:
        return None
    if isinstance(texts, dict) and isinstance(texts.get("before"), str):
        return texts["before"], str(texts.get("after", ""))
    return None


def _admin() -> AdminUser:
    admin = current_admin()
    if admin is None:  # login_required let the request in: the session ended meanwhile
        abort(403)
    return admin


def _owners_only() -> None:
    """A site's settings and webhooks are its owner's: a moderator (role) reads them only.
    They reroute the owner's mail and post the comments elsewhere."""
    if _admin().role != Role.OWNER:
        raise Forbidden("Only an owner can change a site's settings and webhooks.")


def _full_admin() -> bool:
    admin = current_admin()
    return admin is not None and site_scope(admin) is None


def _scope() -> Scope:
    return site_scope(_admin())


def _actor() -> str:
    return f"admin:{_admin().email}"


def _checked_form() -> None:
    submitted(ConfirmForm())


def _back(default: str) -> str:
    """Where a form came from (its `back` field), if that is a moderation page."""
    back = request.form.get("back", "")
    return back if back.startswith("/admin/") and not back.startswith("//") else default


def _comment_or_404(comment_id: int) -> tuple[Comment, Thread, Site]:
    return comment_in_scope(comment_id, _scope()) or abort(404)


def _site_or_404(name: str) -> Site:
    return site_named(name, _scope()) or abort(404)


def _refused(form: Any) -> None:
    """A form that failed only for its CSRF token is an expired form, not a field error."""
    if "csrf_token" in form.errors:
        raise FormExpired()


# --- logging in -------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@rate_limited(lambda: str(current_app.config["RATE_LIMIT_LOGIN"]), methods=["POST"])
def login() -> str | BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = attempt_login(form.email.data or "", form.password.data or "")
        except AccountLocked as exc:
            flash(exc.message, "error")
            retry = {"Retry-After": str(exc.retry_after)}
            return render_template("admin/login.html", form=form), 429, retry
        if user is not None:
            start_session(user)
            target = request.args.get("next", "")
            safe = target.startswith("/admin/") and not target.startswith("//")
            return redirect(target if safe else url_for("admin.queue"))
        flash("Wrong email or password.", "error")
        return render_template("admin/login.html", form=form), 401
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
def logout() -> BaseResponse:
    _checked_form()
    admin = current_admin()
    if admin is not None:
        end_sessions(admin)  # a copy of this cookie (or any other of this admin's) dies too
    session.clear()
    return redirect(url_for("admin.login"))


# --- the queue and its search -------------------------------------------------------------


@bp.get("/")
@login_required
def queue() -> tuple[str, int]:
    form = SearchForm(formdata=request.args, meta={"csrf": False})
    return _queue_page(form, valid=form.validate())


@bp.post("/search")
@login_required
def search() -> BaseResponse | tuple[str, int]:
    """The search form posts here (an address typed in it never reaches a URL), then lands
    on the queue with the address's keyed hash."""
    form = SearchForm()
    if form.validate_on_submit():
        return redirect(url_for("admin.queue", **form.query_args()))
    _refused(form)
    return _queue_page(form, valid=False, status=422)


def _queue_page(form: SearchForm, valid: bool, status: int = 200) -> tuple[str, int]:
    view = form.status.data if form.status.data in VIEWS else PENDING
    wanted = CommentSearch(
        status=view,
        site=form.site.data or "",
        thread=form.thread.data or "",
        text=form.q.data or "",
        author=form.author.data or "",
        address_hash=form.ah.data or "",
        ip=form.ip.data or "",
    )
    scope = _scope()
    if valid:
        page = search_comments(wanted, scope, page_number(request.args.get("page")))
        counts = status_counts(wanted, scope)
    else:
        page, counts = Page([], 0, 1), {}
    filters = form.query_args() if valid else {}
    filters.pop("status", None)
    filter_links = [
        (
            FILTER_LABELS[name],
            "the address you typed" if name == "ah" else value,
            url_for("admin.queue", status=view, **{k: v for k, v in filters.items() if k != name}),
        )
        for name, value in filters.items()
    ]
    html = render_template(
        "admin/queue.html",
        page=page,
        view=view,
        views=VIEWS,
        counts=counts,
        search=wanted,
        filters=filters,
        filter_links=filter_links,
        form=form,
        sites=[s.name for s in sites_in_scope(scope)],
        masked=_masked_addresses(c for c, _, _ in page.items),
        more_filters=any((wanted.author, wanted.thread, wanted.ip, wanted.address_hash))
        or bool(form.email.data),
    )
    return html, 400 if not valid and status == 200 else status


def _masked_addresses(found: Any) -> dict[int, str]:
    masked = {}
    for comment in found:
        email = vault().decrypt(comment.email_enc) if comment.email_enc else ""
        masked[comment.id] = mask_email(email) if email else ""
    return masked


@bp.post("/comments")
@login_required
def act_on_comments() -> BaseResponse:
    """Approve, mark spam, delete or restore one comment or a selection."""
    _checked_form()
    action = request.form.get("action", "")
    chosen = [int(i) for i in request.form.getlist("ids") if i.isascii() and i.isdigit()]
    if not chosen:
        flash("Select the comments first (the boxes beside them).", "error")
        return redirect(_back(url_for("admin.queue")))
    try:
        done, skipped = moderation.moderate_many(
            ids_in_scope(chosen, _scope()), action, actor=_actor()
        )
    except ParleyError as exc:  # an unknown action
        flash(f"Nothing changed: {exc.message}", "error")
        return redirect(_back(url_for("admin.queue")))
    flash(f"{action.capitalize()}: {done} comment{'s' if done != 1 else ''}.", "ok")
    if skipped:
        flash(
            f"{skipped} left as {'they were' if skipped != 1 else 'it was'}: "
            "deleted by its reader, there is nothing left to restore.",
            "error",
        )
    return redirect(_back(url_for("admin.queue")))


# --- one comment: its page, edit, reply, block -----------------------------------------------


@bp.get("/comments/<int:comment_id>")
@login_required
def comment(comment_id: int) -> tuple[str, int]:
    return _comment_page(_comment_or_404(comment_id))


def _comment_page(
    found: tuple[Comment, Thread, Site],
    *,
    edit: EditForm | None = None,
    reply: EditForm | None = None,
    errors: Sequence[str] = (),
    status: int = 200,
) -> tuple[str, int]:
    comment, thread, site = found
    parent = db.session.get(Comment, comment.parent_id) if comment.parent_id else None
    html = render_template(
        "admin/comment.html",
        comment=comment,
        thread=thread,
        site=site,
        parent=parent,
        masked=_masked_addresses([comment]),
        history=comment_history(comment.id),
        edit=edit,
        reply=reply,
        errors=errors,
    )
    return html, status


@bp.post("/comments/<int:comment_id>/edit")
@login_required
def edit_comment(comment_id: int) -> BaseResponse | tuple[str, int]:
    found = _comment_or_404(comment_id)
    form = EditForm()
    if not form.validate_on_submit():
        _refused(form)
        return _comment_page(found, edit=form, status=422)
    try:
        moderation.moderator_edit(
            found[0], form.body.data or "", actor=_actor(), editor_role=_admin().role
        )
    except ParleyError as exc:
        return _comment_page(found, edit=form, errors=_messages(exc), status=exc.status)
    flash("Your edit is saved.", "ok")
    return redirect(url_for("admin.comment", comment_id=comment_id))


@bp.post("/comments/<int:comment_id>/reply")
@login_required
def reply(comment_id: int) -> BaseResponse | tuple[str, int]:
    """Publish a reply as the owner (or moderator); a held comment is approved with it."""
    found = _comment_or_404(comment_id)
    form = EditForm()
    if not form.validate_on_submit():
        _refused(form)
        return _comment_page(found, reply=form, status=422)
    try:
        mine = comments.post_as_admin(_admin(), found[1], form.body.data or "", found[0].id)
    except ParleyError as exc:
        return _comment_page(found, reply=form, errors=_messages(exc), status=exc.status)
    flash(f"Your reply is published (comment #{mine.id}).", "ok")
    return redirect(_back(url_for("admin.comment", comment_id=comment_id)))


def _messages(exc: ParleyError) -> list[str]:
    found = [m for messages in (exc.errors or {}).values() for m in messages]
    return found or [exc.message]


@bp.post("/comments/<int:comment_id>/block")
@login_required
def block_author(comment_id: int) -> BaseResponse:
    """Block the comment's address or IP range on its site, and mark the comment spam."""
    _checked_form()
    comment, _, _ = _comment_or_404(comment_id)
    kind = request.form.get("kind", "")
    try:
        moderation.block_author(comment, kind, actor=_actor())
    except ParleyError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Blocked the author's {'address' if kind == 'email' else 'IP range'}.", "ok")
    return redirect(_back(url_for("admin.queue")))


# --- block lists --------------------------------------------------------------------------


@bp.route("/blocks", methods=["GET", "POST"])
@login_required
def blocks() -> BaseResponse | tuple[str, int]:
    scope = _scope()
    names = [s.name for s in sites_in_scope(scope)]
    form = BlockForm.for_sites(names)
    if request.method == "POST":
        if form.validate_on_submit():
            site = site_named(form.site.data or "", scope) or abort(404)
            moderation.add_block(site, form.kind.data or "", form.stored_value(), actor=_actor())
            flash("Block added.", "ok")
            return redirect(url_for("admin.blocks"))
        _refused(form)
    site_filter = request.args.get("site", "")
    page = blocks_page(scope, site_filter, page_number(request.args.get("page")))
    html = render_template(
        "admin/blocks.html",
        page=page,
        shown={
            block.id: moderation.block_shown(block.kind, block.value, block.email_enc)
            for block, _ in page.items
        },
        sites=names,
        site_filter=site_filter,
        form=form,
        kind_words=BLOCK_KIND_WORDS,
    )
    return html, 422 if form.errors else 200


@bp.post("/blocks/<int:block_id>/delete")
@login_required
def unblock(block_id: int) -> BaseResponse:
    _checked_form()
    block = block_in_scope(block_id, _scope()) or abort(404)
    moderation.remove_block(block.id, actor=_actor())
    flash("Block removed.", "ok")
    return redirect(_back(url_for("admin.blocks")))


# --- threads ------------------------------------------------------------------------------


@bp.get("/threads")
@login_required
def threads() -> str:
    search = request.args.get("q", "").strip()[:THREAD_KEY_MAX]
    everything = request.args.get("show") == "all"
    page = threads_page(search, everything, _scope(), page_number(request.args.get("page")))
    return render_template(
        "admin/threads.html",
        page=page,
        search=search,
        everything=everything,
        key_max=THREAD_KEY_MAX,
        title_max=TITLE_MAX,
    )


@bp.post("/threads/<int:thread_id>/<any(close, reopen):action>")
@login_required
def close_thread(thread_id: int, action: str) -> BaseResponse:
    _checked_form()
    thread = thread_in_scope(thread_id, _scope()) or abort(404)
    thread = set_closed(thread.id, action == "close", actor=_actor())
    flash(f"Thread {thread.key} {'closed' if thread.closed else 'reopened'}.", "ok")
    return redirect(_back(url_for("admin.threads")))


@bp.post("/threads/<int:thread_id>/move")
@login_required
def move_thread(thread_id: int) -> BaseResponse:
    """Give one thread a new key (its article's URL changed)."""
    from .remap import move_thread as move

    _checked_form()
    thread = thread_in_scope(thread_id, _scope()) or abort(404)
    new_key = request.form.get("new_key", "").strip()
    old_key, site_name = thread.key, thread.site.name
    try:
        move(site_name, old_key, new_key, actor=_actor())
    except ParleyError as exc:  # the key is taken or not valid: say so on the page
        flash(f"Thread {old_key} not moved: {exc.message}", "error")
        return redirect(url_for("admin.threads", q=old_key))
    flash(f"Thread {old_key} moved to {new_key}.", "ok")
    return redirect(url_for("admin.threads", q=new_key))


@bp.post("/threads/<int:thread_id>/title")
@login_required
def retitle_thread(thread_id: int) -> BaseResponse:
    """Correct the title a thread got from its first writer or page load."""
    from .remap import retitle_thread as retitle

    _checked_form()
    thread = thread_in_scope(thread_id, _scope()) or abort(404)
    key = thread.key
    try:
        retitle(thread.id, request.form.get("title", ""), actor=_actor())
    except ParleyError as exc:
        flash(f"Thread {key} not renamed: {exc.message}", "error")
    else:
        flash(f"Thread {key} renamed.", "ok")
    return redirect(url_for("admin.threads", q=key))


# --- the log, bounced addresses -------------------------------------------------------------


@bp.get("/events")
@login_required
def events() -> str:
    raw_comment = request.args.get("comment", "")
    wanted = EventFilter(
        site=request.args.get("site", ""),
        thread=request.args.get("thread", ""),
        comment_id=_id_arg(raw_comment),
    )
    page = events_page(_scope(), wanted, page_number(request.args.get("page")))
    return render_template("admin/events.html", page=page, wanted=wanted)


def _id_arg(raw: str) -> int | None:
    """An id from the query: None when not given; 0, which names nothing, when not an id any
    table hands out (an empty answer, not a database error)."""
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID else 0


@bp.route("/suppressions", methods=["GET", "POST"])
@login_required
def suppressions() -> str | BaseResponse:
    """Addresses a mail server refused for good; removing one lets mail flow again. They
    belong to no site: only an admin of every site sees them."""
    if _scope() is not None:
        abort(404)
    if request.method == "POST":
        _checked_form()
        subscriptions.lift_suppression(request.form.get("address", type=int))
        return redirect(url_for("admin.suppressions"))
    rows = db.session.scalars(
        select(Address).where(Address.suppressed_at.is_not(None)).order_by(Address.id)
    ).all()
    masked = {a.id: mask_email(vault().decrypt(a.email_enc)) for a in rows}
    return render_template("admin/suppressions.html", rows=rows, masked=masked)


# --- sites: settings and webhooks ----------------------------------------------------------


@bp.get("/sites")
@login_required
def sites() -> str:
    return render_template(
        "admin/sites.html",
        sites=sites_in_scope(_scope()),
        moderation_words=MODERATION_WORDS,
        notify_words=NOTIFY_OWNER_WORDS,
    )


@bp.route("/sites/<name>", methods=["GET", "POST"])
@login_required
def site_settings(name: str) -> BaseResponse | tuple[str, int]:
    """A site's settings, with the same effect as `flask sites set`."""
    site = _site_or_404(name)
    form = SiteForm() if request.method == "POST" else SiteForm.of(site)
    if request.method == "POST":
        _owners_only()
        if form.validate_on_submit():
            try:
                save_site(site.name, create=False, actor=_actor(), **form.settings())
            except ParleyError as exc:
                db.session.rollback()  # nothing of a refused change stays in the session
                return _settings_page(site, form, errors=[exc.message], status=422)
            flash("Settings saved.", "ok")
            return redirect(url_for("admin.site_settings", name=site.name))
        _refused(form)
        return _settings_page(site, form, status=422)
    return _settings_page(site, form)


def _settings_page(
    site: Site,
    form: SiteForm,
    *,
    hook_form: WebhookForm | None = None,
    errors: Sequence[str] = (),
    secret: str = "",
    status: int = 200,
) -> tuple[str, int]:
    owner = vault().decrypt(site.owner_email_enc) if site.owner_email_enc else ""
    html = render_template(
        "admin/site.html",
        site=site,
        form=form,
        owner=mask_email(owner) if owner else "",
        hooks=webhooks.list_webhooks(site.name),
        hook_form=hook_form or WebhookForm(formdata=None),
        errors=errors,
        secret=secret,
        may_change=_admin().role == Role.OWNER,  # a moderator (role) reads them only
    )
    return html, status


@bp.post("/sites/<name>/webhooks")
@login_required
def add_webhook(name: str) -> tuple[str, int]:
    site = _site_or_404(name)
    _owners_only()
    hook_form = WebhookForm()
    if not hook_form.validate_on_submit():
        _refused(hook_form)
        return _settings_page(site, SiteForm.of(site), hook_form=hook_form, status=422)
    try:
        _, secret = webhooks.add_webhook(
            site.name,
            hook_form.url.data or "",
            hook_form.format.data,
            hook_form.events.data,
            actor=_actor(),
            internal=False,
        )
    except ParleyError as exc:
        hook_form.url.errors = [exc.message]
        return _settings_page(site, SiteForm.of(site), hook_form=hook_form, status=422)
    # The secret is shown once, on this answer only: never in a URL or a flash cookie.
    return _settings_page(site, SiteForm.of(site), secret=secret, status=201)


@bp.post("/sites/<name>/webhooks/<int:hook_id>/delete")
@login_required
def remove_webhook(name: str, hook_id: int) -> BaseResponse:
    _checked_form()
    site = _site_or_404(name)
    _owners_only()
    if hook_id not in {hook.id for hook in webhooks.list_webhooks(site.name)}:
        abort(404)
    webhooks.remove_webhook(hook_id, actor=_actor())
    flash("Webhook removed.", "ok")
    return redirect(url_for("admin.site_settings", name=site.name))


# --- the dashboard -------------------------------------------------------------------------


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    scope = _scope()
    days = days_of_comments(scope)
    failures = recent_failures(scope)
    return render_template(
        "admin/dashboard.html",
        days=days,
        top=max([d.new for d in days] + [1]),
        busiest=busiest_threads(scope),
        deliveries=delivery_counts(scope),
        failures=failures,
        errors={d.id: mask_addresses_in(d.last_error) for d in failures},
        kind_words=DELIVERIES,
        delivery_states=tuple(DeliveryStatus),
    )
