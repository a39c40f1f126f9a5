"""Webhooks: a site's new comments posted to chat rooms or to any HTTP receiver, through the
same durable outbox as mail (docs/webhooks.md).

`queue_event` adds one `deliveries` row per hook that wants the event, in the poster's own
transaction; the mail worker claims the row like a mail and hands it to `deliver`, which
posts it and says what happened (`Outcome`); the worker records that on the row (retries
with the mail's backoff, a failed state after the last try).

A hook's URL and secret are credentials (a Slack or Telegram URL lets anyone post to the
room): they are stored sealed, and no log line, error or listing shows more than the host.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import re
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from http.client import HTTPException
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import bindparam, delete, select

from .clock import clock
from .errors import Conflict, NotFound, ParleyError
from .extensions import db
from .limits import AUTHOR_MAX, MAX_ID, URL_MAX
from .models import (
    APPROVED,
    DELETED,
    DROPPED,
    FAILED,
    QUEUED,
    SENT,
    WEBHOOK,
    WEBHOOK_EVENTS,
    WEBHOOK_FORMATS,
    Comment,
    Delivery,
    DeliveryStatus,
    ModerationEvent,
    Site,
    Thread,
    Webhook,
    utcnow,
)
from .render import plain_text
from .serializers import iso
from .statements import dialect_insert
from .text import remove_unsafe_in_body, remove_unsafe_in_line
from .threads import reading_url
from .vault import vault

#: The event `webhooks test` sends: never raised by a comment, never retried.
TEST_EVENT = "test"
#: What a new hook hears of when `--events` is not given.
DEFAULT_EVENTS = ("published", "held")
#: A secret given with `--secret` is at least this long (a generated one has 43 characters).
SECRET_MIN = 16
#: Bytes of a receiver's answer read (and thrown away) at most.
ANSWER_MAX = 64 * 1024
#: Same-origin 307/308 redirects followed per delivery; any other redirect fails it.
REDIRECTS_MAX = 3
#: Characters of a comment's text in a chat message (Discord's whole message: 2000).
CHAT_TEXT_MAX = 1000
DISCORD_MAX = 2000
USER_AGENT = "Parley-Webhook/1"

#: A hook sealed under another key (PARLEY_EMAIL_KEY, else PARLEY_SECRET_KEY, changed).
UNREADABLE = "the hook's URL cannot be decrypted (was the key changed?): add the hook again"

_EVENT_TITLES = {
    "published": "New comment",
    "held": "Comment awaiting moderation",
    "spam": "Comment marked as spam",
    TEST_EVENT: "Test from Parley",
}


# --- managing hooks ----------------------------------------------------------------------


@dataclass(frozen=True)
class HookListing:
    """One row of `webhooks list`: nothing in it is a credential."""

    id: int
    site: str
    format: str
    events: str
    #: scheme://host[:port]/… : the path and query may hold a token.
    url: str
    #: The newest delivery: "sent (published, HTTP 204 in 12 ms)", "none yet".
    last: str


def add_webhook(
    site_name: str,
    url: str,
    fmt: str = "generic",
    events: Iterable[str] | None = None,
    secret: str | None = None,
    allow_http: bool = False,
    actor: str = "cli",
    internal: bool = True,
) -> tuple[Webhook, str]:
    """Store a hook for a site's events; returns it and its signing secret (shown once).

    https is required, but for a receiver on this machine (localhost, 127.0.0.0/8, ::1)
    or with `allow_http` (a receiver on a private network). `internal=False` (the web
    admin) refuses any host on this machine or a private network: a browser session must
    not reach what only the server can. Commits.
    """
    site = _site(site_name)
    if fmt not in WEBHOOK_FORMATS:
        raise ParleyError(f"Unknown format {fmt!r}; choose one of {', '.join(WEBHOOK_FORMATS)}.")
    url = check_url(url, fmt, allow_http)
    if not internal and _internal_host(urlsplit(url).hostname or ""):
        raise ParleyError(
            "This host is on this machine or a private network: add such a hook with "
            "`flask --app app webhooks add` on the server."
        )
    wanted = _check_events(events)
    if secret is None:
        secret = secrets.token_urlsafe(32)
    elif len(secret) < SECRET_MIN or remove_unsafe_in_line(secret) != secret or " " in secret:
        raise ParleyError(f"A secret needs at least {SECRET_MIN} characters and no spaces.")
    for other in db.session.scalars(select(Webhook).where(Webhook.site_id == site.id)):
        if vault().unseal(other.url_enc) == url and other.format == fmt:
            raise Conflict(f"Site {site.name} has this webhook already (id {other.id}).")
    hook = Webhook(
        site_id=site.id,
        url_enc=vault().seal(url),
        format=fmt,
        events=" ".join(wanted),
        secret_enc=vault().seal(secret),
        created_at=utcnow(),
    )
    db.session.add(hook)
    db.session.flush()
    _log(hook, actor, "add-webhook")
    db.session.commit()
    return hook, secret


def _log(hook: Webhook, actor: str, action: str) -> None:
    # The host only: the rest of a chat URL is a credential.
    detail = f"{hook.format} to {urlsplit(vault().unseal(hook.url_enc)).hostname or '?'}"
    db.session.add(ModerationEvent(site_id=hook.site_id, actor=actor, action=action, detail=detail))


def check_url(url: str, fmt: str, allow_http: bool = False) -> str:
    """The hook URL as it will be used, or a ParleyError that says what is wrong."""
    url = url.strip()
    if not url or len(url) > URL_MAX or remove_unsafe_in_line(url) != url or " " in url:
        raise ParleyError("Give the receiver's URL: one line, no spaces, at most 2048 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:  # "https://[::1" too
        raise ParleyError("Not a URL, or its port is not a number from 1 to 65535.") from exc
    if port == 0:
        raise ParleyError("Not a URL, or its port is not a number from 1 to 65535.")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ParleyError("A webhook URL starts with https:// and names a host.")
    if parts.username is not None or parts.password is not None:
        raise ParleyError("Put no user name or password before the host (user:pass@host).")
    if parts.fragment:
        raise ParleyError("A webhook URL has no #fragment.")
    if parts.scheme == "http" and not (allow_http or _loopback(parts.hostname)):
        raise ParleyError(
            "Use https:// (the URL and what is posted would cross the network readable); "
            "plain http is for a receiver on this machine, or with --allow-http."
        )
    if fmt == "telegram":
        if not re.fullmatch(r"/bot[^/]+/sendMessage", parts.path):
            raise ParleyError(
                "A Telegram URL is https://api.telegram.org/bot<token>/sendMessage?chat_id=<id>."
            )
        if not parse_qs(parts.query).get("chat_id"):
            raise ParleyError("A Telegram URL needs ?chat_id=<the chat's id>.")
    return url


def _internal_host(host: str) -> bool:
    """Is `host` this machine or on a private, link-local or reserved network, by its
    literal address or by what its name resolves to now?"""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        found = set()  # not resolvable now: delivery will fail and say so
    for address in found | {host}:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            continue
        if not ip.is_global or ip.is_multicast:
            return True
    return False


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_events(events: Iterable[str] | None) -> list[str]:
    chosen = [e.strip() for e in (events if events is not None else DEFAULT_EVENTS)]
    chosen = [e for e in chosen if e]
    unknown = [e for e in chosen if e not in WEBHOOK_EVENTS]
    if unknown or not chosen:
        raise ParleyError(
            f"Events are a comma-separated choice of {', '.join(WEBHOOK_EVENTS)}"
            + (f" (unknown: {', '.join(unknown)})." if unknown else ".")
        )
    return [e for e in WEBHOOK_EVENTS if e in chosen]


def _site(name: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"No site named {name!r} (see `sites list`).")
    return site


def _hook(hook_id: int) -> Webhook:
    hook = db.session.get(Webhook, hook_id) if 0 < hook_id <= MAX_ID else None
    if hook is None:
        raise NotFound(f"No webhook with id {hook_id} (see `webhooks list`).")
    return hook


def list_webhooks(site_name: str | None = None) -> list[HookListing]:
    """Every hook (of one site), with its host and its newest delivery's state."""
    query = select(Webhook, Site.name).join(Site, Site.id == Webhook.site_id)
    if site_name is not None:
        query = query.where(Webhook.site_id == _site(site_name).id)
    listing = []
    for hook, name in db.session.execute(query.order_by(Site.name, Webhook.id)):
        listing.append(
            HookListing(
                id=hook.id,
                site=name,
                format=hook.format,
                events=hook.events.replace(" ", ","),
                url=masked_url(vault().unseal(hook.url_enc)),
                last=_last_state(hook.id),
            )
        )
    return listing


def masked_url(url: str) -> str:
    """scheme://host[:port]/… : enough to tell hooks apart, no token."""
    if not url:
        return "(cannot be decrypted)"
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    rest = "/…" if parts.path.strip("/") or parts.query else "/"
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, as in a URL
    return f"{parts.scheme}://{host}{port}{rest}"


def _last_state(hook_id: int) -> str:
    row = db.session.execute(
        select(Delivery.status, Delivery.last_error, Delivery.event)
        .where(Delivery.webhook_id == hook_id)
        .order_by(Delivery.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return "none yet"
    status, answer, event = row
    return f"{status} ({event}{', ' + answer if answer else ''})"


def remove_webhook(hook_id: int, actor: str = "cli") -> Webhook:
    """Remove a hook and what it still had queued; logged. Commits."""
    hook = _hook(hook_id)
    _log(hook, actor, "remove-webhook")
    db.session.execute(delete(Delivery).where(Delivery.webhook_id == hook.id))
    db.session.delete(hook)
    db.session.commit()
    return hook


def send_test(hook_id: int) -> Delivery:
    """Queue a "test" delivery for a hook, leased to the caller (no worker takes it while
    `mail.worker.deliver_now` sends it at once). Commits."""
    hook = _hook(hook_id)
    now = utcnow()
    lease = int(current_app.config["MAIL_LEASE_SECONDS"])
    delivery = Delivery(
        kind=WEBHOOK,
        webhook_id=hook.id,
        site_id=hook.site_id,
        event=TEST_EVENT,
        status=QUEUED,
        attempts=0,
        next_attempt_at=now,
        lease_until=now + timedelta(seconds=lease),
        created_at=now,
        last_error="",
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


# --- queueing ----------------------------------------------------------------------------


# Asked on every post: built once (the statement's construction cost as much as its run).
_HOOKS_OF_SITE = select(Webhook.id, Webhook.events).where(Webhook.site_id == bindparam("site_id"))


def queue_event(comment: Comment, site: Site, event: str) -> None:
    """Queue one delivery per hook of `site` that wants `event`. Never commits.

    The (webhook, comment, event) unique constraint plus ON CONFLICT DO NOTHING keep it to
    one row per hook, however often the event is raised (approved, unapproved, approved).
    """
    hooks = db.session.connection().execute(_HOOKS_OF_SITE, {"site_id": site.id})
    wanted = [hook_id for hook_id, events in hooks if event in events.split()]
    if not wanted:
        return
    now = utcnow()
    rows = [
        {
            "kind": WEBHOOK,
            "webhook_id": hook_id,
            "comment_id": comment.id,
            "site_id": site.id,
            "event": event,
            "status": QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "last_error": "",
        }
        for hook_id in wanted
    ]
    connection = db.session.connection()
    connection.execute(_insert_deliveries(connection.dialect.name), rows)


@cache
def _insert_deliveries(dialect_name: str) -> Any:
    return dialect_insert(dialect_name, Delivery).on_conflict_do_nothing()


# --- delivering --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; the worker records it on the row."""

    #: SENT, FAILED, DROPPED, or QUEUED: try again later (the mail's backoff).
    status: DeliveryStatus
    #: What the row keeps as its last answer ("HTTP 204 in 35 ms", "timed out after 10 s").
    note: str
    #: The receiver's HTTP status, if it answered.
    code: int | None = None
    #: Milliseconds from sending to the answer (or the failure).
    ms: float = 0.0
    #: Seconds the receiver asked us to wait (Retry-After), if it did.
    retry_after: int | None = None


@dataclass(frozen=True)
class HookRequest:
    """What goes on the wire for one delivery (built again for each attempt)."""

    method: str
    url: str
    body: bytes
    headers: dict[str, str]


def deliver(delivery: Delivery) -> Outcome:
    """Post one claimed webhook delivery and say what came of it; changes nothing itself.

    2xx: sent. 408, 425, 429, 5xx, a refused or dropped connection, a timeout: try again
    later. Any other answer (a 4xx, a redirect elsewhere): failed at once. A test event is
    tried once.
    """
    hook = db.session.get(Webhook, delivery.webhook_id) if delivery.webhook_id else None
    if hook is not None and not vault().unseal(hook.url_enc):
        return Outcome(FAILED, UNREADABLE)
    request = build_request(delivery)
    if request is None:
        return Outcome(DROPPED, "nothing to send any more")
    outcome = _post(request)
    if outcome.status == QUEUED and delivery.event == TEST_EVENT:
        return Outcome(FAILED, outcome.note, outcome.code, outcome.ms)
    return outcome


def build_request(delivery: Delivery) -> HookRequest | None:
    """The HTTP request for a delivery, or None when it should no longer be sent (its hook
    or comment is gone, the comment was deleted, or unpublished before a "published")."""
    hook = db.session.get(Webhook, delivery.webhook_id) if delivery.webhook_id else None
    site = db.session.get(Site, hook.site_id) if hook else None
    if hook is None or site is None:
        return None
    event = delivery.event or ""
    comment = db.session.get(Comment, delivery.comment_id) if delivery.comment_id else None
    if event != TEST_EVENT:
        if comment is None or comment.status == DELETED:
            return None
        if event == "published" and comment.status != APPROVED:
            return None
    thread = db.session.get(Thread, comment.thread_id) if comment else None
    message = Message(event, site, thread, comment, delivery.id)
    url = vault().unseal(hook.url_enc)
    body, method = _FORMATS[hook.format](message, url), "POST"
    if hook.format == "matrix" and _matrix_client_api(url):
        url, method, headers = _matrix_send_url(url, _transaction_id(delivery))
    else:
        headers = {}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers.update(_signed_headers(vault().unseal(hook.secret_enc), raw, event, delivery.id))
    return HookRequest(method, url, raw, headers)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Parley-Signature value: HMAC-SHA256 of `timestamp + "." + body`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _signed_headers(secret: str, body: bytes, event: str, delivery_id: int) -> dict[str, str]:
    timestamp = str(int(clock().time()))
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Parley-Event": event,
        # The same on every retry of one delivery: a receiver can drop what it has seen.
        "X-Parley-Delivery": str(delivery_id),
        "X-Parley-Timestamp": timestamp,
        "X-Parley-Signature": sign(secret, timestamp, body),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect comes back as the 3xx answer it is: `_post` decides (same origin only)."""

    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


# Environment proxies (HTTPS_PROXY, NO_PROXY) apply; certificates are verified.
_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(request: HookRequest) -> Outcome:
    timeout = float(current_app.config["WEBHOOK_TIMEOUT"])
    url, started = request.url, time.perf_counter()
    for _hop in range(REDIRECTS_MAX + 1):
        code, retry_after, location = _send(request, url, timeout)
        ms = (time.perf_counter() - started) * 1000
        if isinstance(code, str):  # no answer: the connection failed or timed out
            return Outcome(QUEUED, f"{code} after {ms:.0f} ms", None, ms)
        note = f"HTTP {code} in {ms:.0f} ms"
        if 200 <= code < 300:
            return Outcome(SENT, note, code, ms)
        location = urljoin(url, location) if location else ""
        if code in (307, 308) and location and _same_origin(url, location):
            url = location  # the method and body go along (that is what 307/308 mean)
            continue
        if 300 <= code < 400:
            return Outcome(FAILED, f"{note}: redirect not followed (fix the URL)", code, ms)
        if code in (408, 425, 429) or code >= 500:
            return Outcome(QUEUED, note, code, ms, retry_after)
        return Outcome(FAILED, note, code, ms)
    return Outcome(FAILED, "too many redirects", None, (time.perf_counter() - started) * 1000)


def _send(request: HookRequest, url: str, timeout: float) -> tuple[int | str, int | None, str]:
    """(status, Retry-After, Location) of one exchange, or (what failed, None, "")."""
    req = urllib.request.Request(
        url, data=request.body, headers=request.headers, method=request.method
    )
    try:
        with _OPENER.open(req, timeout=timeout) as answer:
            answer.read(ANSWER_MAX)
            return int(answer.status), None, ""
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                exc.read(ANSWER_MAX)
            except (OSError, HTTPException):
                pass
            headers = exc.headers
            return exc.code, _retry_after(headers.get("Retry-After")), headers.get("Location", "")
    except TimeoutError:
        return f"timed out ({timeout:g} s)", None, ""
    except urllib.error.URLError as exc:
        # Only the kind of failure: the reason may repeat the host's name, never more.
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return f"timed out ({timeout:g} s)", None, ""
        return f"connection failed ({type(reason).__name__})", None, ""
    except (OSError, HTTPException) as exc:
        return f"connection failed ({type(exc).__name__})", None, ""


def _retry_after(value: str | None) -> int | None:
    try:
        return max(0, min(int(value or ""), 86400))
    except ValueError:
        return None


def _same_origin(url: str, location: str) -> bool:
    a, b = urlsplit(url), urlsplit(location)
    try:
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:
        return False


# --- what is said, per format ------------------------------------------------------------


@dataclass
class Message:
    """One event about one comment, with every reader-supplied piece cleaned of controls."""

    event: str
    site: Site
    thread: Thread | None
    comment: Comment | None
    delivery_id: int

    @property
    def headline(self) -> str:
        return _EVENT_TITLES.get(self.event, self.event)

    @property
    def author(self) -> str:
        if self.comment is None:
            return ""
        return " ".join(remove_unsafe_in_line(self.comment.author).split())[:AUTHOR_MAX]

    @property
    def title(self) -> str:
        if self.thread is None:
            return ""
        title = " ".join(remove_unsafe_in_line(self.thread.title).split())[:200]
        return title or " ".join(remove_unsafe_in_line(self.thread.key).split())[:200]

    @property
    def text(self) -> str:
        """The comment as plain text (what the reader typed, rendered then stripped)."""
        if self.comment is None:
            return "If you read this, the webhook works."
        # A link keeps its address in the text: a moderator judges where it really goes.
        html_with_links = _LINK.sub(_spelled_out, self.comment.html)
        return remove_unsafe_in_body(plain_text(html_with_links)).strip()

    @property
    def link(self) -> str:
        """The comment on the article's page when that URL is on the site's origins, else
        on Parley's own page of the thread."""
        if self.comment is None or self.thread is None:
            return f"{current_app.config['PUBLIC_URL']}/admin/"
        return reading_url(self.site, self.thread, self.comment.id)

    @property
    def admin_url(self) -> str:
        """The comment's page in the admin (its actions need a moderator's login: no link
        here acts on its own)."""
        public = current_app.config["PUBLIC_URL"]
        if self.comment is None:
            return f"{public}/admin/"
        return f"{public}/admin/comments/{self.comment.id}"


#: A link in sanitized comment HTML (nh3 writes every attribute double-quoted).
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def _spelled_out(match: re.Match[str]) -> str:
    href, label = match.group(1), match.group(2)
    return label if html.unescape(href) == html.unescape(label) else f"{label} ({href})"


def _generic(message: Message, _url: str) -> dict[str, Any]:
    """Signed JSON: the comment as the API shows it, plus its state and links. Never an
    address or an IP."""
    body: dict[str, Any] = {
        "event": message.event,
        "delivery": message.delivery_id,
        "site": message.site.name,
        "thread": None,
        "comment": None,
        "admin_url": message.admin_url,
    }
    if message.thread is not None:
        body["thread"] = {
            "key": message.thread.key,
            "title": message.thread.title,
            "url": message.thread.url,
        }
    comment = message.comment
    if comment is not None:
        body["comment"] = {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "author": comment.author,
            "website": comment.website,
            "html": comment.html,
            "text": message.text,
            "created_at": iso(comment.created_at),
            "status": comment.status,
            "role": comment.role,
            "url": message.link,
        }
    return body


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads these three as control characters (<!channel>, <@U1>, links);
    # Mattermost and Rocket.Chat, which take the same payload, ping on a bare @channel or
    # @name and read markdown emphasis: a word joiner keeps both from a reader's text.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _neutral_mentions(_SLACK_EMPHASIS.sub("\u2060\\1", text))


_SLACK_EMPHASIS = re.compile(r"([*_~`])")


def _slack_link(url: str, label: str) -> str:
    safe = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe}|{_slack_escape(label)}>"


def _slack(message: Message, _url: str) -> dict[str, Any]:
    """Slack incoming webhook (also Mattermost's and Rocket.Chat's): mrkdwn text."""
    lines = [f"*{_slack_escape(message.headline)}*"]
    if message.comment is not None:
        lines[0] += f" by {_slack_escape(message.author)} on " + _slack_link(
            message.link, message.title or "the thread"
        )
    quoted = _slack_escape(_clip(message.text, CHAT_TEXT_MAX))
    lines += ["&gt; " + line for line in quoted.splitlines() or [""]]
    lines.append(_slack_link(message.admin_url, "Moderate"))
    # No previews of a reader's links; mentions are already inert (escaped "<").
    return {"text": "\n".join(lines), "unfurl_links": False, "unfurl_media": False}


_DISCORD_SPECIAL = re.compile(r"([\\*_~`|>#\-\[\]()<@:])")


def _discord_escape(text: str) -> str:
    """Every character Discord's markdown reads (and ":", so a reader's URL stays text)."""
    return _DISCORD_SPECIAL.sub(r"\\\1", text)


def _discord(message: Message, _url: str) -> dict[str, Any]:
    """Discord webhook: markdown content of at most 2000 characters, pinging nobody."""
    head = f"**{message.headline}**"
    if message.comment is not None:
        author, title = _discord_escape(message.author), _discord_escape(message.title)
        head += f" by {author} on {title} <{message.link}>"
    tail = f"Moderate: <{message.admin_url}>"
    room = DISCORD_MAX - len(head) - len(tail) - 4
    quoted = "\n".join("> " + line for line in _fit_escaped(message.text, room).splitlines())
    content = f"{head}\n{quoted or '>'}\n{tail}"[:DISCORD_MAX]
    # allowed_mentions: no @everyone, @here, role or user ping whatever the text says;
    # flags 4 (SUPPRESS_EMBEDS): no previews of a reader's links.
    return {"content": content, "allowed_mentions": {"parse": []}, "flags": 4}


def _fit_escaped(text: str, room: int) -> str:
    """Discord-escaped text (with "> " before each line) in at most `room` characters."""
    out, used = [], 0
    for line in text.splitlines():
        escaped = _discord_escape(line)
        cost = len(escaped) + 3
        if used + cost > room:
            left = room - used - 4
            while left > 0 and escaped[:left].endswith("\\"):
                left -= 1  # never end on half an escape
            if left > 0:
                out.append(escaped[:left] + "…")
            break
        out.append(escaped)
        used += cost
    return "\n".join(out)


def _neutral_mentions(text: str) -> str:
    # "@room", "@channel" or "@name" in a body notifies people in clients that read it: a
    # word joiner after the "@" keeps it readable and inert.
    return re.sub(r"@(?=\w)", "@\u2060", text)


def _matrix_parts(message: Message) -> tuple[str, str]:
    """(plain body, HTML body) of a Matrix message: the reader's text escaped."""
    text = _neutral_mentions(_clip(message.text, CHAT_TEXT_MAX))
    head = message.headline
    if message.comment is not None:
        head += f" by {_neutral_mentions(message.author)} on {_neutral_mentions(message.title)}"
    plain = f"{head}\n{text}\n{message.link}\nModerate: {message.admin_url}"
    esc = html.escape
    formatted = (
        f"<strong>{esc(message.headline)}</strong>"
        + (
            f" by {esc(_neutral_mentions(message.author))} on "
            f'<a href="{esc(message.link)}">{esc(message.title)}</a>'
            if message.comment is not None
            else ""
        )
        + f"<blockquote>{esc(text).replace(chr(10), '<br>')}</blockquote>"
        + f'<a href="{esc(message.admin_url)}">Moderate</a>'
    )
    return plain, formatted


def _matrix(message: Message, url: str) -> dict[str, Any]:
    """Matrix: an m.room.message's content for the client-server API's send URL (PUT, with
    a transaction id: the server keeps one event however often it is retried), or the
    same content plus `text`/`html` for a matrix-hookshot (or similar) webhook URL."""
    plain, formatted = _matrix_parts(message)
    content: dict[str, Any] = {
        "msgtype": "m.notice",  # a bot's message: clients do not answer it
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
        "m.mentions": {},  # intentional mentions: this message mentions nobody
    }
    if not _matrix_client_api(url):
        content.update({"text": plain, "html": formatted, "username": "Parley"})
    return content


_MATRIX_SEND = re.compile(r"/_matrix/client/[^/]+/rooms/[^/]+/send/m\.room\.message/?$")


def _matrix_client_api(url: str) -> bool:
    return _MATRIX_SEND.search(urlsplit(url).path) is not None


def _transaction_id(delivery: Delivery) -> str:
    """The same for every retry of one delivery (the homeserver then keeps one event), and
    not reused by another database whose ids start again at 1."""
    return f"parley-{delivery.id}-{delivery.created_at:%Y%m%d%H%M%S}"


def _matrix_send_url(url: str, txn_id: str) -> tuple[str, str, dict[str, str]]:
    """PUT …/send/m.room.message/<txn>, the access token as a header (not in the URL)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    token = (query.pop("access_token", [""]) or [""])[0]
    path = parts.path.rstrip("/") + "/" + quote(txn_id)
    rest = urlencode(query, doseq=True)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return urlunsplit((parts.scheme, parts.netloc, path, rest, "")), "PUT", headers


def _telegram(message: Message, url: str) -> dict[str, Any]:
    """Telegram Bot API sendMessage: HTML parse mode, the reader's text escaped."""
    esc = html.escape
    text = f"<b>{esc(message.headline)}</b>"
    if message.comment is not None:
        title = _neutral_mentions(message.title or "the thread")
        text += (
            f" by {esc(_neutral_mentions(message.author))} on "
            f'<a href="{esc(message.link)}">{esc(title)}</a>'
        )
    text += f"\n\n{esc(_neutral_mentions(_clip(message.text, CHAT_TEXT_MAX)))}\n\n"
    text += f'<a href="{esc(message.admin_url)}">Moderate</a>'
    chat_id = (parse_qs(urlsplit(url).query).get("chat_id") or [""])[0]
    return {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
        "disable_web_page_preview": True,  # the same, for Bot API servers before 7.0
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_FORMATS = {
    "generic": _generic,
    "slack": _slack,
    "discord": _discord,
    "matrix": _matrix,
    "telegram": _telegram,
}
