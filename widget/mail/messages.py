"""Building mail: standard, threaded messages with one-click unsubscribe.

Every header that carries reader- or page-supplied text, an address, a URL or an id is
made by `headers` (our own encoding, one exact wire form); only constant ASCII values
go through the email package's own header handling.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote, urlsplit

import nh3
from flask import current_app, render_template
from sqlalchemy import select

from .. import notices
from ..extensions import db
from ..models import (
    APPROVED,
    PENDING,
    Address,
    Comment,
    Delivery,
    Site,
    Subscription,
    Thread,
)
from ..render import plain_text
from ..threads import reading_url, title_settled
from ..tokens import (
    confirm_token,
    manage_token,
    moderation_token,
    never_token,
    owner_mail_token,
    privacy_token,
    row_stamp,
    unsubscribe_token,
)
from .headers import (
    address_header,
    clean_text,
    ids_header,
    list_id_header,
    sender_header,
    text_header,
    url_header,
)

MAIL_TAGS = {"p", "br", "em", "strong", "a", "code", "pre", "blockquote", "ul", "ol", "li"}


def _public(path: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}{path}"


def mail_domain() -> str:
    """The public host in ASCII (IDNA): the right-hand side of every Message-ID."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


def _subscription_links(subscription: Subscription) -> tuple[str, str]:
    """The one-click unsubscribe and the manage page of a subscriber's mail."""
    address = subscription.address
    manage = manage_token(address.id, address.generation, address.created_at)
    return _unsubscribe_url(subscription), _public(f"/subscriptions/{manage}")


def _unsubscribe_url(subscription: Subscription) -> str:
    return _public(f"/unsubscribe/{unsubscribe_token(subscription.id, subscription.created_at)}")


def _thread_list_headers(
    message: EmailMessage,
    thread: Thread,
    site_name: str,
    unsubscribe_url: str,
    replying_to: list[str] | None = None,
) -> None:
    """What groups a thread's mails together and lets a reader leave in one click:
    In-Reply-To and References (the thread, then the comments `replying_to`), List-Id,
    List-Unsubscribe with its RFC 8058 one-click POST."""
    root = thread_message_id(thread)
    chain = replying_to or []
    message["In-Reply-To"] = ids_header("In-Reply-To", chain[-1] if chain else root)
    message["References"] = ids_header("References", root, *chain)
    label = f"thread-{thread.id}.{_dot_atom(site_name.lower())}.{mail_domain()}"
    title = thread_title(thread)
    message["List-Id"] = list_id_header(f"{clean_text(title, 70)} comments", label)
    message["List-Unsubscribe"] = url_header("List-Unsubscribe", unsubscribe_url)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def comment_message_id(comment: Comment) -> str:
    """The comment's mail's Message-ID: its id and when it was made (SQLite gives a deleted
    row's id again, and a mail client drops a message whose id it has seen)."""
    return f"<comment-{comment.id}.{_stamp(comment.created_at)}@{mail_domain()}>"


def thread_message_id(thread: Thread) -> str:
    return f"<thread-{thread.id}.{_stamp(thread.created_at)}@{mail_domain()}>"


def _stamp(created_at: datetime) -> str:
    """A row's creation time in microseconds, base 36: short, and only letters and digits."""
    number, digits = row_stamp(created_at), ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def comment_link(thread: Thread, comment: Comment) -> str:
    """The article's own page when its URL is on one of the site's origins, else Parley's
    page of the thread: a stranger's URL never reaches a reader's inbox."""
    return reading_url(thread.site, thread, comment.id)


def site_label(site: Site) -> str:
    """How mail names a site: the host of its first origin (the owner's words), else its
    name."""
    origins = site.origin_list
    return urlsplit(origins[0]).hostname or site.name if origins else site.name


def thread_title(thread: Thread, settled_only: bool = False) -> str:
    """What mail calls a thread: its title, else its key when that reads as a page's path
    (a key is anyone's to choose: sentences do not go into a stranger's inbox).

    `settled_only`: the title only once it has settled (threads.title_settled)."""
    if thread.title and (not settled_only or title_settled(thread)):
        return clean_text(thread.title, 200)
    if re.fullmatch(r"/[A-Za-z0-9._~%/-]{0,120}", thread.key):
        return thread.key
    return "a page of this site"


def _base_message(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender_header("From", current_app.config["MAIL_FROM"])
    message["To"] = address_header("To", to)
    message["Subject"] = text_header("Subject", subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    return message


def _ancestors(comment: Comment) -> list[Comment]:
    chain: list[Comment] = []
    parent_id = comment.parent_id
    while parent_id is not None and len(chain) < 50:
        parent = db.session.get(Comment, parent_id)
        if parent is None:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return list(reversed(chain))


def _mail_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=MAIL_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="nofollow noopener",
    )


def build_notification(subscription: Subscription, comment: Comment, to: str) -> EmailMessage:
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    site = db.session.get(Site, thread.site_id)
    address = subscription.address
    title = thread_title(thread)
    unsubscribe_url, manage_url = _subscription_links(subscription)
    ancestors = _ancestors(comment)
    theirs = next((c for c in reversed(ancestors) if c.email_hash == address.email_hash), None)
    author = clean_text(comment.author, 80) or "Someone"
    # "to" their comment when it answers it; "below" when it answers a reply further down.
    direct = bool(ancestors) and ancestors[-1] is theirs
    replied = "replied to your comment" if direct else "replied below your comment"
    subject = f"{author} {replied} on {title}" if theirs else f"New comment on {title}"
    message = _base_message(to, subject)
    message["Message-ID"] = ids_header("Message-ID", comment_message_id(comment))
    _thread_list_headers(
        message,
        thread,
        site.name if site else "site",
        unsubscribe_url,
        replying_to=[comment_message_id(c) for c in ancestors],
    )
    message["Precedence"] = "list"
    context = {
        "author": author,
        "title": title,
        "text": plain_text(comment.html),
        "html": _mail_html(comment.html),
        "quote": _quote(theirs),
        "replied": replied,
        "link": comment_link(thread, comment),
        "unsubscribe_url": unsubscribe_url,
        "manage_url": manage_url,
        "mode": MODE_WORDS.get(subscription.mode, MODE_WORDS["all"]),
    }
    message.set_content(render_template("mail/notification.txt", **context))
    message.add_alternative(render_template("mail/notification.html", **context), subtype="html")
    return message


#: How each mail says what it was sent under.
MODE_WORDS = {
    "replies": "replies to your comments on this page",
    "all": "every new comment on this page",
    "digest": "a daily digest of this page",
}


def _quote(comment: Comment | None, limit: int = 200) -> str:
    """The reader's own words, briefly, in a reply notification."""
    if comment is None:
        return ""
    text = " ".join(plain_text(comment.html).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_digest(subscription: Subscription, comments: list[Comment], to: str) -> EmailMessage:
    """One mail for the comments a digest subscriber (or a busy thread's reader past the
    daily cap) has not heard of yet, in order."""
    thread = subscription.thread
    title = thread_title(thread)
    unsubscribe_url, manage_url = _subscription_links(subscription)
    count = len(comments)
    subject = f"{count} new comment{'s' if count != 1 else ''} on {title}"
    message = _base_message(to, subject)
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    _thread_list_headers(message, thread, thread.site.name, unsubscribe_url)
    message["Precedence"] = "list"
    items = [
        {
            "author": clean_text(c.author, 80) or "Someone",
            "when": c.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            "text": plain_text(c.html),
            "html": _mail_html(c.html),
            "link": comment_link(thread, c),
        }
        for c in comments
    ]
    context = {
        "title": title,
        "items": items,
        "busy": subscription.mode != "digest",
        "mode": MODE_WORDS.get(subscription.mode, MODE_WORDS["all"]),
        "unsubscribe_url": unsubscribe_url,
        "manage_url": manage_url,
    }
    message.set_content(render_template("mail/digest.txt", **context))
    message.add_alternative(render_template("mail/digest.html", **context), subtype="html")
    return message


def build_confirmation(delivery: Delivery, address: Address, to: str) -> EmailMessage:
    subscription = db.session.get(Subscription, delivery.subscription_id)
    assert subscription is not None
    confirm = confirm_token(subscription.id, address.generation, subscription.created_at)
    confirm_url = _public(f"/subscriptions/confirm/{confirm}")
    never_url = _never_url(address)
    # A page's title is anyone's to claim first; a mail to an inbox that asked for nothing
    # yet names only the site in its subject, and the page by a title only once it settled.
    title = thread_title(subscription.thread, settled_only=True)
    message = _base_message(
        to, f"Confirm your subscription to comments on {site_label(subscription.thread.site)}"
    )
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    # Unsubscribing from a mail one did not ask for is "never email me again" (one click);
    # for a reader who follows other threads already, it drops this request alone.
    thread = subscription.thread
    leave_url = never_url if address.confirmed_at is None else _unsubscribe_url(subscription)
    _thread_list_headers(message, thread, thread.site.name, leave_url)
    context = {
        "title": title,
        "confirm_url": confirm_url,
        "never_url": never_url,
        "mode": MODE_WORDS.get(subscription.mode, MODE_WORDS["all"]),
    }
    message.set_content(render_template("mail/confirm.txt", **context))
    message.add_alternative(render_template("mail/confirm.html", **context), subtype="html")
    return message


def _never_url(address: Address) -> str:
    """ "Never email me again" for one address: the List-Unsubscribe of the mails that
    belong to no subscription."""
    return _public(f"/subscriptions/never/{never_token(address.id, address.created_at)}")


def build_privacy_mail(address: Address, to: str) -> EmailMessage:
    """The link a reader asked for at /privacy: their data, to download or erase."""
    message = _base_message(to, "Your data: download or erase it")
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    never_url = _never_url(address)
    message["List-Id"] = list_id_header("Your data", f"privacy.{mail_domain()}")
    message["List-Unsubscribe"] = url_header("List-Unsubscribe", never_url)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {"link": _public(f"/privacy/{privacy_token(address.email_hash)}")}
    message.set_content(render_template("mail/privacy.txt", **context))
    message.add_alternative(render_template("mail/privacy.html", **context), subtype="html")
    return message


# --- the owner's mail, and the reader's when their held comment is published -----------

_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S)
_HREF = re.compile(r'\bhref="([^"]*)"')


def show_link_targets(html: str) -> str:
    """Sanitized comment HTML with each link followed by where it really goes, `[url]`,
    unless its text says so already: spammers hide their links behind innocent words."""

    def show(match: re.Match[str]) -> str:
        href = _HREF.search(match.group(1))
        if href is None:
            return match.group(0)
        target = html_lib.unescape(href.group(1))
        if plain_text(match.group(2)).strip() == target:
            return match.group(0)
        return f"{match.group(0)} [{html_lib.escape(target)}]"

    return _ANCHOR.sub(show, html)


def article_link(thread: Thread) -> str:
    """The article's page when its URL is on one of the site's origins, else Parley's
    page of the thread."""
    return reading_url(thread.site, thread)


def moderation_url(comment: Comment, owner_hash: str, action: str = "") -> str:
    """The mail's link to the confirmation page of one comment (a GET changes nothing).
    `owner_hash` is notices.owner_mail_hash(site), worked out once per mail."""
    token = moderation_token(comment.id, comment.created_at, comment.status, owner_hash)
    url = _public(f"/moderate/{token}")
    return f"{url}?action={action}" if action else url


def _owner_item(comment: Comment, thread: Thread, owner_hash: str) -> dict[str, Any]:
    """What the owner's mail and digest say of one comment. Never the reader's address."""
    status = comment.status
    return {
        "author": clean_text(comment.author, 80) or "Someone",
        "website": clean_text(comment.website, 300),
        "when": comment.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "title": thread_title(thread),
        "article": article_link(thread),
        "link": comment_link(thread, comment) if status == APPROVED else "",
        "state": notices.STATE_WORDS.get(status, status),
        "held": status == PENDING,
        "reasons": notices.reason_words(comment),
        "text": plain_text(show_link_targets(comment.html)),
        "html": show_link_targets(_mail_html(comment.html)),
        "actions": [
            (notices.ACTION_LABELS[action], moderation_url(comment, owner_hash, action))
            for action in notices.mail_actions(comment)
        ],
        "reply_url": _public(f"/admin/comments/{comment.id}"),
    }


#: How the owner's mail says what it was sent under (`sites set --notify-owner`).
OWNER_MODE_WORDS = {
    "all": "every new comment",
    "held": "the comments held for moderation",
}
#: ... and how it comes (`--owner-digest`).
OWNER_DIGEST_WORDS = {"off": "", "hourly": ", once an hour", "daily": ", once a day"}


def _owner_footer(site: Site) -> dict[str, str]:
    mode = OWNER_MODE_WORDS.get(site.notify_owner, site.notify_owner)
    return {
        "site": site.name,
        "why": f"{mode}{OWNER_DIGEST_WORDS.get(site.owner_digest, '')}",
        "queue_url": _public(f"/admin/?site={quote(site.name)}"),
    }


def _owner_list_headers(message: EmailMessage, site: Site, owner_hash: str) -> None:
    """The owner's mail of a site is a list of its own: List-Id, and a List-Unsubscribe
    (RFC 8058 one-click) that stops it."""
    label = f"owner.{_dot_atom(site.name.lower())}.{mail_domain()}"
    message["List-Id"] = list_id_header(f"Comments on {clean_text(site.name, 60)}", label)
    token = owner_mail_token(site.id, site.created_at, owner_hash)
    message["List-Unsubscribe"] = url_header("List-Unsubscribe", _public(f"/moderate/mail/{token}"))
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def build_owner_mail(comment: Comment, site: Site, to: str) -> EmailMessage:
    """The owner's mail about one new comment: published or held (and why), its text with
    every link's target shown, and links to act on it."""
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    owner_hash = notices.owner_mail_hash(site)
    item = _owner_item(comment, thread, owner_hash)
    verb = "awaits moderation" if item["held"] else "was published"
    message = _base_message(to, f"A comment on {item['title']} {verb}")
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    root = thread_message_id(thread)
    message["In-Reply-To"] = ids_header("In-Reply-To", root)
    message["References"] = ids_header("References", root)
    _owner_list_headers(message, site, owner_hash)
    context = {"item": item, "verb": verb, **_owner_footer(site)}
    message.set_content(render_template("mail/owner.txt", **context))
    message.add_alternative(render_template("mail/owner.html", **context), subtype="html")
    return message


#: Comments one owner digest lists; past that it says how many more are in the admin.
OWNER_DIGEST_ITEMS = 200


def build_owner_digest(
    site: Site, comments: list[Comment], to: str, spam: int = 0, since: datetime | None = None
) -> EmailMessage:
    """One mail for the comments a site's owner has not heard of yet (in order), and how
    many went to spam meanwhile."""
    threads = {
        t.id: t
        for t in db.session.scalars(
            select(Thread).where(Thread.id.in_({c.thread_id for c in comments}))
        )
    }
    owner_hash = notices.owner_mail_hash(site)
    items = [
        _owner_item(c, threads[c.thread_id], owner_hash) for c in comments[:OWNER_DIGEST_ITEMS]
    ]
    count, held = len(comments), sum(1 for c in comments if c.status == PENDING)
    plural = "s" if count != 1 else ""
    if held == count:
        verb = "awaits" if count == 1 else "await"
        subject = f"{count} comment{plural} {verb} moderation on {site.name}"
    elif held:
        subject = f"{count} new comment{plural} on {site.name}, {held} awaiting moderation"
    else:
        subject = f"{count} new comment{plural} on {site.name}"
    message = _base_message(to, subject)
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    _owner_list_headers(message, site, owner_hash)
    context = {
        "items": items,
        "count": count,
        "held": held,
        "more": count - len(items),
        "spam": spam,
        "since": since.strftime("%Y-%m-%d %H:%M UTC") if since else "",
        "spam_url": _public(f"/admin/?status=spam&site={quote(site.name)}"),
        **_owner_footer(site),
    }
    message.set_content(render_template("mail/owner_digest.txt", **context))
    message.add_alternative(render_template("mail/owner_digest.html", **context), subtype="html")
    return message


def build_approval_notice(comment: Comment, address: Address, to: str) -> EmailMessage:
    """The reader's one mail when a moderator publishes their held comment: it threads
    with the page's other mail, and "never email me again" is its List-Unsubscribe."""
    thread = db.session.get(Thread, comment.thread_id)
    assert thread is not None
    title = thread_title(thread)
    message = _base_message(to, f"Your comment on {title} is published")
    message["Message-ID"] = ids_header("Message-ID", make_msgid(domain=mail_domain()))
    never_url = _never_url(address)
    _thread_list_headers(message, thread, thread.site.name, never_url)
    context = {
        "author": clean_text(comment.author, 80),
        "title": title,
        "quote": _quote(comment),
        "link": comment_link(thread, comment),
        "never_url": never_url,
    }
    message.set_content(render_template("mail/approved.txt", **context))
    message.add_alternative(render_template("mail/approved.html", **context), subtype="html")
    return message


def _dot_atom(label: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-") else "-" for ch in label)
