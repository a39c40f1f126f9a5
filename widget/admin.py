"""The moderation web page under /admin/: log in, the queue, threads, blocks, events."""

from __future__ import annotations

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
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from . import moderation, subscriptions
from .auth import (
    AccountLocked,
    attempt_login,
    current_admin,
    end_sessions,
    login_required,
    start_session,
)
from .errors import ParleyError
from .extensions import db, rate_limited
from .forms import ConfirmForm, LoginForm, check_query_arguments, submitted
from .limits import MAX_ID, THREAD_KEY_MAX
from .models import (
    COMMENT_STATES,
    PENDING,
    Address,
    Block,
    Comment,
    ModerationEvent,
    Site,
    Thread,
)
from .threads import list_threads, set_closed
from .vault import vault

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(check_query_arguments)
PAGE = 50


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


def _actor() -> str:
    admin = current_admin()
    return f"admin:{admin.email}" if admin else "admin"


def _checked_form() -> None:
    submitted(ConfirmForm())


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


@bp.get("/")
@login_required
def queue() -> str:
    status = request.args.get("status", PENDING)
    if status not in COMMENT_STATES:
        status = PENDING
    query = (
        select(Comment, Thread, Site)
        .join(Thread, Thread.id == Comment.thread_id)
        .join(Site, Site.id == Thread.site_id)
        .where(Comment.status == status)
    )
    site_name, thread_key = request.args.get("site", ""), request.args.get("thread", "")
    if site_name:
        query = query.where(Site.name == site_name)
    if thread_key:
        query = query.where(Thread.key == thread_key)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10_000)
    rows = db.session.execute(
        query.order_by(Comment.created_at.desc()).limit(PAGE).offset((page - 1) * PAGE)
    ).all()
    counts = dict(
        db.session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all()
    )
    sites = db.session.scalars(select(Site.name).order_by(Site.name)).all()
    return render_template(
        "admin/queue.html",
        rows=rows,
        status=status,
        counts=counts,
        sites=sites,
        site=site_name,
        thread=thread_key,
        page=page,
        form=ConfirmForm(),
        states=COMMENT_STATES,
        more=len(rows) == PAGE,
    )


@bp.post("/comments")
@login_required
def act_on_comments() -> BaseResponse:
    """Approve, mark spam, delete or restore one comment or a selection."""
    _checked_form()
    action = request.form.get("action", "")
    ids = [int(i) for i in request.form.getlist("ids") if i.isascii() and i.isdigit()]
    done = moderation.moderate_many(ids, action, actor=_actor())
    flash(f"{action.capitalize()}: {done} comment{'s' if done != 1 else ''}.", "ok")
    return redirect(request.form.get("back") or url_for("admin.queue"))


@bp.post("/comments/<int:comment_id>/block")
@login_required
def block_author(comment_id: int) -> BaseResponse:
    """Block the comment's address or IP range on its site, and mark the comment spam."""
    _checked_form()
    comment = (db.session.get(Comment, comment_id) if comment_id <= MAX_ID else None) or abort(404)
    kind = request.form.get("kind", "")
    moderation.block_author(comment, kind, actor=_actor())
    flash(f"Blocked the author's {'address' if kind == 'email' else 'IP range'}.", "ok")
    return redirect(request.form.get("back") or url_for("admin.queue"))


@bp.route("/blocks", methods=["GET", "POST"])
@login_required
def blocks() -> str | BaseResponse:
    if request.method == "POST":
        _checked_form()
        site = db.session.scalar(select(Site).where(Site.name == request.form.get("site", "")))
        if site is None:
            raise ParleyError("Choose a site, a kind and a value.")
        kind, value = request.form.get("kind", ""), request.form.get("value", "")
        moderation.add_block(site, kind, value, actor=_actor())
        return redirect(url_for("admin.blocks"))
    rows = db.session.execute(select(Block, Site.name).join(Site).order_by(Block.id.desc())).all()
    sites = db.session.scalars(select(Site.name).order_by(Site.name)).all()
    return render_template(
        "admin/blocks.html",
        rows=rows,
        sites=sites,
        kinds=moderation.BLOCK_KINDS,
        form=ConfirmForm(),
    )


@bp.post("/blocks/<int:block_id>/delete")
@login_required
def unblock(block_id: int) -> BaseResponse:
    _checked_form()
    moderation.remove_block(block_id, actor=_actor())
    return redirect(url_for("admin.blocks"))


@bp.get("/threads")
@login_required
def threads() -> str:
    search = request.args.get("q", "").strip()[:THREAD_KEY_MAX]
    everything = request.args.get("show") == "all"
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 10_000)
    rows = list_threads(search, everything, page, PAGE)
    return render_template(
        "admin/threads.html",
        rows=rows[:PAGE],
        more=len(rows) > PAGE,
        page=page,
        search=search,
        everything=everything,
        form=ConfirmForm(),
        key_max=THREAD_KEY_MAX,
    )


@bp.post("/threads/<int:thread_id>/<any(close, reopen):action>")
@login_required
def close_thread(thread_id: int, action: str) -> BaseResponse:
    _checked_form()
    thread = set_closed(thread_id, action == "close", actor=_actor())
    flash(f"Thread {thread.key} {'closed' if thread.closed else 'reopened'}.", "ok")
    return redirect(url_for("admin.threads"))


@bp.post("/threads/<int:thread_id>/move")
@login_required
def move_thread(thread_id: int) -> BaseResponse:
    """Give one thread a new key (its article's URL changed)."""
    from .remap import move_thread as move

    _checked_form()
    thread = (db.session.get(Thread, thread_id) if thread_id <= MAX_ID else None) or abort(404)
    new_key = request.form.get("new_key", "").strip()
    old_key, site_name = thread.key, thread.site.name
    try:
        move(site_name, old_key, new_key, actor=_actor())
    except ParleyError as exc:  # the key is taken or not valid: say so on the page
        flash(f"Thread {old_key} not moved: {exc.message}", "error")
        return redirect(url_for("admin.threads", q=old_key))
    flash(f"Thread {old_key} moved to {new_key}.", "ok")
    return redirect(url_for("admin.threads", q=new_key))


@bp.get("/events")
@login_required
def events() -> str:
    rows = db.session.scalars(
        select(ModerationEvent).order_by(ModerationEvent.id.desc()).limit(200)
    ).all()
    return render_template("admin/events.html", rows=rows)


@bp.route("/suppressions", methods=["GET", "POST"])
@login_required
def suppressions() -> str | BaseResponse:
    """Addresses a mail server refused for good; removing one lets mail flow again."""
    if request.method == "POST":
        _checked_form()
        subscriptions.lift_suppression(request.form.get("address", type=int))
        return redirect(url_for("admin.suppressions"))
    rows = db.session.scalars(
        select(Address).where(Address.suppressed_at.is_not(None)).order_by(Address.id)
    ).all()
    masked = {a.id: mask_email(vault().decrypt(a.email_enc)) for a in rows}
    return render_template("admin/suppressions.html", rows=rows, masked=masked, form=ConfirmForm())


def mask_email(email: str) -> str:
    """ "ada@example.org" -> "a**@example.org": enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"
