"""The JSON API used by the widget: parse, call one service function, serialize."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from . import comments, spam, subscriptions, threads, votes
from .clock import no_sooner_than
from .compression import send_body
from .cors import add_cors_headers, allow_origin, preflight
from .errors import ParleyError
from .extensions import rate_limited
from .fastpath import MADE_FROM_KEY
from .forms import (
    CommentForm,
    EditForm,
    PreviewForm,
    SubscribeForm,
    VoteForm,
    check_query_arguments,
    json_form,
    new_comment_from,
)
from .limits import COUNT_KEYS_MAX, THREAD_KEY_MAX
from .models import Site
from .openapi import openapi_document
from .render import markdown_to_html
from .serializers import comment_json, json_response, thread_json
from .tokens import author_token

bp = Blueprint("api", __name__, url_prefix="/api")
#: Browsers revalidate a thread's page every time (a cheap 304); shared caches keep it 10 s.
PAGE_CACHE_CONTROL = "public, max-age=0, s-maxage=10, must-revalidate"
bp.after_request(add_cors_headers)


def _post_limit() -> str:
    return str(current_app.config["RATE_LIMIT_POST"])


def _vote_limit() -> str:
    return str(current_app.config["RATE_LIMIT_VOTE"])


@bp.before_request
def answer_preflight() -> Response | None:
    # Flask would answer OPTIONS itself; CORS preflights need our own answer.
    if request.method == "OPTIONS":
        return preflight()
    check_query_arguments()
    return None


@bp.get("/comments")
def list_comments() -> Response:
    key = threads.check_thread_key(request.args.get("thread"))
    page = threads.find_page_thread(request.args.get("site"), key)
    allow_origin(page.site)
    limit = threads.page_limit(request.args.get("limit"))
    sort = threads.sort_arg(request.args.get("sort"))
    cursor = request.args.get("cursor") or None
    if cursor:
        threads.decode_cursor(cursor, sort)  # a 400 for a cursor no page could have made
    thread = page.thread
    if thread is None:  # a new article: an empty page, not an error in the reader's console
        return _empty_thread_page(page.site, key)
    if g.get("cors_origin") and "title" in request.args:
        # A page on one of the site's own origins, as a browser loads it: what it says of
        # itself fills in what the thread lacks (see fill_page_details for when it may
        # replace a title).
        thread = threads.fill_page_details(
            page.site, thread, request.args["title"], request.args.get("url", "")
        )
    response = Response(mimetype="application/json")
    response.vary.add("Accept-Encoding")
    closed = threads.is_closed(thread, page.site)
    # What the answer is made from: fastpath keeps it until that changes.
    request.environ[MADE_FROM_KEY] = (
        "thread",
        (page.site.name, key),
        threads.page_state(thread, page.site),
    )
    etag = threads.thread_page_etag(thread, cursor, limit, sort, page.site.votes, closed)
    if _browser_has(response, etag):
        response.status_code = 304
        return response
    cached = threads.thread_page(thread, cursor, limit, sort, page.site.votes, closed)
    return send_body(response, cached.body, cached.gzipped)


def _empty_thread_page(site: Site, key: str) -> Response:
    """The page of a thread nobody has commented on, revalidated like any other: its first
    comment creates the thread, whose pages have validators of their own."""
    response = json_response(threads.empty_page(site, key))
    if _browser_has(response, f"empty-{int(site.votes)}"):
        return Response(status=304, headers={"ETag": response.headers["ETag"]})
    return response


def _browser_has(response: Response, etag: str) -> bool:
    """Give a thread's page its validator and caching rule; True when the browser's copy
    (If-None-Match) is this one, so a 304 answers."""
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return request.if_none_match.contains_weak(etag)


@bp.get("/form-token")
def form_token() -> Response:
    allow_origin(threads.find_site(request.args.get("site")))
    response = json_response({"form_token": spam.issue_form_token()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/comments")
@rate_limited(_post_limit)
def create_comment() -> Response:
    form = json_form(CommentForm)
    page = threads.find_page_thread(form.site.data, form.thread.data)
    allow_origin(page.site)
    new = new_comment_from(
        form,
        form.thread.data,
        title=form.title.data or "",
        url=form.url.data or "",
        ip=request.remote_addr or "",
    )
    comment, edit_token = comments.post_comment(page, new)
    body = {
        "comment": comment_json(comment, votes=page.site.votes),
        "status": comments.pending_status_label(comment),
        "edit_token": edit_token,
        "author_token": author_token(comment.id, comment.created_at),
        "edit_window": int(current_app.config["EDIT_WINDOW"]),
    }
    return json_response(body, 201)


@bp.patch("/comments/<int:comment_id>")
def edit_comment(comment_id: int) -> Response:
    comment = comments.comment_for_author(comment_id, request.headers.get("Authorization"))
    allow_origin(comment.thread.site)
    form = json_form(EditForm)
    comment = comments.edit_comment(comment, form.body.data)
    votes = comment.thread.site.votes
    return json_response(
        {
            "comment": comment_json(comment, votes=votes),
            "status": comments.pending_status_label(comment),
        }
    )


@bp.delete("/comments/<int:comment_id>")
def delete_comment(comment_id: int) -> tuple[str, int]:
    comment = comments.comment_for_author(comment_id, request.headers.get("Authorization"))
    allow_origin(comment.thread.site)
    comments.delete_comment(comment)
    return "", 204


@bp.get("/counts")
def counts() -> Response:
    site = threads.find_site(request.args.get("site"))
    allow_origin(site)
    keys = list(dict.fromkeys(request.args.getlist("thread")))
    if not keys:
        raise ParleyError("Name at least one thread: ?thread=KEY&thread=KEY2.")
    if len(keys) > COUNT_KEYS_MAX or any(len(k) > THREAD_KEY_MAX for k in keys):
        raise ParleyError(
            f"At most {COUNT_KEYS_MAX} threads of up to {THREAD_KEY_MAX} characters each."
        )
    cached = threads.counts_answer(site, keys)
    # What the answer was made from: fastpath keeps it until the site's counts move.
    request.environ[MADE_FROM_KEY] = (
        "counts",
        (site.name,),
        (site.id, site.created_at, site.counts_version, site.origins),
    )
    response = send_body(Response(mimetype="application/json"), cached.body, cached.gzipped)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/recent")
def recent() -> Response:
    """The site's newest published comments, each with its thread: a sidebar's block."""
    site = threads.find_site(request.args.get("site"))
    allow_origin(site)
    limit = threads.recent_limit(request.args.get("limit"))
    comments = [
        {**comment_json(comment), "thread": thread_json(thread)}
        for comment, thread in threads.recent_comments(site, limit)
    ]
    response = json_response({"comments": comments})
    # Shared by every page of the site: a minute old at most, in browsers and CDNs.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.post("/subscriptions")
@rate_limited(_post_limit)
def subscribe() -> Response:
    form = json_form(SubscribeForm)
    site = threads.find_site(form.site.data)
    allow_origin(site)
    # Title and URL are the page's to say (when it loads the thread), not a subscriber's.
    mode = form.notify.data or "all"
    with no_sooner_than():  # the same answer in the same time, whatever the address's state
        subscriptions.subscribe_to_page(site, form.thread.data, form.email.data, mode)
    message = "Check your inbox: confirm once, then you will hear of new comments."
    return json_response({"status": "accepted", "message": message}, 202)


@bp.post("/comments/<int:comment_id>/vote")
@rate_limited(_vote_limit)
def vote(comment_id: int) -> Response:
    form = json_form(VoteForm)
    site = votes.site_of(comment_id)
    allow_origin(site)
    ip = request.remote_addr or ""
    score = votes.cast_vote(site, comment_id, form.voter.data, form.value.data, ip)
    return json_response({"score": score})


@bp.post("/preview")
@rate_limited(_post_limit)
def preview() -> Response:
    form = json_form(PreviewForm)
    allow_origin(threads.find_site(form.site.data))
    return json_response({"html": markdown_to_html(form.body.data)})


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document())
