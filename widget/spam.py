"""Spam defences: honeypot, form timestamp, links, block lists, duplicates, a learned score."""

from __future__ import annotations

import ipaddress
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, bindparam, case, select, update

from .config import is_on
from .errors import ValidationFailed
from .extensions import db
from .forms import NewComment
from .models import (
    SPAM_CHECKS,
    Block,
    Comment,
    Site,
    SpamToken,
    UsedFormToken,
    author_comment_on_site,
    utcnow,
)
from .render import count_links, plain_text
from .statements import dialect_insert
from .tokens import TokenError, make_token, token_age
from .vault import vault

#: Phrases of the generic spam that floods comment forms (flattery, theme
#: questions, link offers). Two of them in one comment hold it for review.
SPAM_PHRASES = (
    "great post",
    "nice post",
    "great article",
    "nice blog",
    "great blog",
    "awesome post",
    "informative post",
    "keep up the good work",
    "keep it up",
    "thanks for sharing",
    "what theme",
    "which theme",
    "wordpress theme",
    "blog theme",
    "your theme",
    "check out my",
    "visit my",
    "my website",
    "my site",
    "my blog",
    "link back",
    "backlink",
    "link exchange",
    "guest post",
    "write for us",
    "seo",
    "rank your",
    "bookmarked",
    "buy now",
    "cheap",
    "discount",
    "casino",
    "viagra",
    "crypto",
    "loan",
)
DUPLICATE_WINDOW = timedelta(minutes=10)
MIN_TRAINING_DOCS = 5
_WORD = re.compile(r"[a-z0-9$€£'-]{3,30}")


@dataclass
class Verdict:
    """What the checks concluded: spam (straight to the spam folder) or held (the queue)."""

    spam: bool = False
    held: bool = False
    reasons: list[str] = field(default_factory=list)
    score: float | None = None

    def hold(self, reason: str, as_spam: bool = False) -> None:
        self.reasons.append(reason)
        if as_spam:
            self.spam = True
        else:
            self.held = True


def checks_enabled() -> bool:
    return is_on(current_app.config["SPAM_CHECKS"])


def issue_form_token() -> str:
    """A signed timestamp with a nonce: the widget fetches one when it shows the form."""
    return make_token("form", {"n": secrets.token_urlsafe(12)})


def check(site: Site, new: NewComment, email_hash: str, html: str) -> Verdict:
    """Run every defence; raise ValidationFailed for a forged or replayed form token.

    `email_hash` is the vault's look-up hash of `new.email` and `html` its rendered body,
    both of which the caller has made.
    """
    verdict = Verdict()
    if not checks_enabled():
        return verdict
    on = _enabled(site)
    if "honeypot" in on and new.honeypot:
        verdict.hold("honeypot", as_spam=True)
    if "form-token" in on:
        _check_form_token(new.form_token, verdict)
    if "duplicate" in on and _is_duplicate(site, new, email_hash):
        verdict.hold("duplicate")
    _check_content(site, new, email_hash, html, on, verdict)
    return verdict


def check_edit(site: Site, comment: Comment) -> Verdict:
    """The checks that look at what a comment says, run again on its edited text."""
    verdict = Verdict()
    if not checks_enabled():
        return verdict
    new = NewComment(
        thread_key="",
        author=comment.author,
        email=vault().decrypt(comment.email_enc),
        body=comment.body,
        website=comment.website,
        ip=comment.ip,
    )
    _check_content(site, new, comment.email_hash, comment.html, _enabled(site), verdict)
    return verdict


def _enabled(site: Site) -> set[str]:
    return set(SPAM_CHECKS) - set(site.disabled_checks.split())


def _check_content(
    site: Site, new: NewComment, email_hash: str, html: str, on: set[str], verdict: Verdict
) -> None:
    """The checks on what a comment says, run on what readers will see: the rendered links
    and text (entities and escapes decoded), as well as the source."""
    shown = plain_text(html)
    links = max(count_links(new.body), html.count("<a "))
    if "links" in on and links > site.max_links:
        verdict.hold("too-many-links")
    if "blocks" in on:
        _check_blocks(site, new, email_hash, verdict, f"{shown} {_hrefs(html)}")
    text = f"{new.body} {shown} {new.author}".lower()
    if "phrases" in on and sum(phrase in text for phrase in SPAM_PHRASES) >= 2:
        verdict.hold("spam-phrases")
    if "classifier" in on:
        verdict.score = spam_score(site, tokens_of(new.body, new.author, new.website))
        if verdict.score is not None and verdict.score >= site.spam_threshold:
            verdict.hold("classifier", as_spam=True)


def _check_form_token(token: str | None, verdict: Verdict) -> None:
    if not token:
        verdict.hold("no-form-token")
        return
    try:
        payload, age = token_age("form", token)
    except TokenError as exc:
        raise _token_refused("The form token is not valid. Reload the page.") from exc
    nonce = payload.get("n") if isinstance(payload, dict) else None
    if not isinstance(nonce, str):
        raise _token_refused("The form token is not valid. Reload the page.")
    # Too soon or too old: the reader is told and nothing is held or spent (a person is
    # never held silently for being quick; the widget waits and sends again by itself).
    wait = float(current_app.config["FORM_TOKEN_MIN_AGE"]) - age
    if wait > 0:
        seconds = math.ceil(wait)
        refused = _token_refused(
            f"Sent too soon after the form appeared: wait {seconds} s and send it again."
        )
        refused.retry_after = seconds
        raise refused
    if age > current_app.config["FORM_TOKEN_MAX_AGE"]:
        raise _token_refused("This form is too old. Send it again.")
    if not _spend_nonce(nonce):
        raise _token_refused("This form was sent already. Reload the page to post again.")


def _spend_nonce(nonce: str) -> bool:
    """Record a form token as used; False when it was used before (a replay)."""
    connection = db.session.connection()
    spent = connection.execute(
        _spend_statement(connection.dialect.name), {"nonce": nonce, "used_at": utcnow()}
    )
    return spent.first() is not None  # RETURNING: a row only when it was inserted


@cache
def _spend_statement(dialect_name: str) -> Any:
    # ON CONFLICT DO NOTHING: a replay inserts nothing, without a savepoint to roll back.
    insert = dialect_insert(dialect_name, UsedFormToken).on_conflict_do_nothing()
    return insert.returning(UsedFormToken.nonce)


def _token_refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"form_token": [message]})


# The checks below run for every comment: each statement is built once, run on the connection.
_BLOCKS_OF_SITE = select(Block.kind, Block.value).where(Block.site_id == bindparam("site_id"))


def _hrefs(html: str) -> str:
    return " ".join(re.findall(r'href="([^"]*)"', html))


def _check_blocks(
    site: Site, new: NewComment, email_hash: str, verdict: Verdict, shown: str = ""
) -> None:
    blocks = db.session.connection().execute(_BLOCKS_OF_SITE, {"site_id": site.id}).all()
    if not blocks:
        return
    domain = new.email.rsplit("@", 1)[-1].lower()
    text = f"{new.body} {shown} {new.author} {new.website}".lower()
    for kind, value in blocks:
        if kind == "email" and value == email_hash:
            verdict.hold("blocked-address", as_spam=True)
        elif kind == "domain" and (domain == value or domain.endswith("." + value)):
            verdict.hold("blocked-domain", as_spam=True)
        elif kind == "ip" and _ip_in(new.ip, value):
            verdict.hold("blocked-ip", as_spam=True)
        elif kind == "word" and value.lower() in text:
            verdict.hold("blocked-word", as_spam=True)


def _ip_in(ip: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _is_duplicate(site: Site, new: NewComment, email_hash: str) -> bool:
    found = db.session.connection().execute(
        _SAME_TEXT_BY_AUTHOR,
        {
            "site_id": site.id,
            "email_hash": email_hash,
            "body": new.body,
            "since": utcnow() - DUPLICATE_WINDOW,
        },
    )
    return found.first() is not None


_SAME_TEXT_BY_AUTHOR = author_comment_on_site(
    Comment.body == bindparam("body"), Comment.created_at >= bindparam("since")
)


# --- the learning score (naive Bayes over words, per site) -----------------------


def tokens_of(*texts: str) -> set[str]:
    return set(_WORD.findall(" ".join(texts).lower()))


def spam_score(site: Site, tokens: set[str]) -> float | None:
    """Probability that a text is spam, once the site has enough labelled examples."""
    if site.spam_docs < MIN_TRAINING_DOCS or site.ham_docs < MIN_TRAINING_DOCS or not tokens:
        return None
    rows = db.session.connection().execute(
        _TOKEN_COUNTS, {"site_id": site.id, "tokens": list(tokens)[:500]}
    )
    probabilities = []
    for _token, spam_count, ham_count in rows:
        spam_freq = spam_count / site.spam_docs
        ham_freq = ham_count / site.ham_docs
        raw = spam_freq / (spam_freq + ham_freq) if spam_freq + ham_freq else 0.5
        seen = spam_count + ham_count
        probabilities.append((0.5 + seen * raw) / (1 + seen))  # Robinson's smoothing
    if not probabilities:
        return None
    probabilities.sort(key=lambda p: abs(p - 0.5), reverse=True)
    strongest = [min(max(p, 0.01), 0.99) for p in probabilities[:15]]
    log_spam = sum(math.log(p) for p in strongest)
    log_ham = sum(math.log(1 - p) for p in strongest)
    return 1 / (1 + math.exp(log_ham - log_spam))


_TOKEN_COUNTS = select(SpamToken.token, SpamToken.spam, SpamToken.ham).where(
    SpamToken.site_id == bindparam("site_id"),
    SpamToken.token.in_(bindparam("tokens", expanding=True)),
)


_SITES = cast(Table, Site.__table__)


def learn(site: Site, comment: Comment, is_spam: bool, weight: int = 1) -> None:
    """Count a moderator's decision (weight -1 forgets an earlier one)."""
    tokens = sorted(tokens_of(comment.body, comment.author, comment.website))
    if not tokens:
        return
    column = "spam" if is_spam else "ham"
    # The site's row first, then its words (the order of locks.py): two
    # decisions on one site count one after the other.
    docs = _SITES.c.spam_docs if is_spam else _SITES.c.ham_docs
    db.session.execute(
        update(_SITES)
        .where(_SITES.c.id == site.id)
        .values({docs.key: case((docs + weight < 0, 0), else_=docs + weight)})
    )
    if site in db.session:
        db.session.expire(site, [docs.key])
    # Words another decision is adding at this moment are there already: nothing to add.
    db.session.execute(
        dialect_insert(db.session.get_bind().dialect.name, SpamToken)
        .values([{"site_id": site.id, "token": t, "spam": 0, "ham": 0} for t in tokens])
        .on_conflict_do_nothing()
    )
    db.session.execute(
        update(SpamToken)
        .where(SpamToken.site_id == site.id, SpamToken.token.in_(tokens))
        .values({column: getattr(SpamToken, column) + weight})
        .execution_options(synchronize_session=False)
    )
