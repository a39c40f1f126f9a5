"""The moderation pages' forms: the comment search, a site's settings, a webhook."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from .addresses import AddressRefused, normalize_address
from .admin_queries import check_ip_range
from .errors import ParleyError
from .limits import (
    AUTHOR_MAX,
    BLOCK_VALUE_MAX,
    EMAIL_MAX,
    SITE_NAME_MAX,
    THREAD_KEY_MAX,
    URL_MAX,
)
from .models import (
    ERASE_POLICIES,
    MODERATION_MODES,
    OWNER_DIGEST_MODES,
    OWNER_NOTIFY_MODES,
    SPAM_CHECKS,
    WEBHOOK_EVENTS,
    WEBHOOK_FORMATS,
    Site,
)
from .moderation import BLOCK_KINDS
from .sites import MAX_CLOSE_AFTER_DAYS, normalise_origin
from .text import unsafe_in_line
from .vault import vault

#: The longest text a search looks for.
SEARCH_MAX = 200
#: A site's link limit, at most.
MAX_LINKS_MAX = 100

#: The choices of a site's settings, in words (the stored value first).
MODERATION_WORDS = {
    "none": "Publish every comment at once",
    "first-time": "Hold an address's first comment; publish once one is approved",
    "all": "Hold every comment for review",
}
NOTIFY_OWNER_WORDS = {
    "all": "Every new comment",
    "held": "Comments waiting for review",
    "none": "Nothing",
}
OWNER_DIGEST_WORDS = {
    "off": "A mail per comment",
    "hourly": "One mail an hour",
    "daily": "One mail a day",
}
ERASE_POLICY_WORDS = {
    "placeholder": "Each comment stays as “[deleted]”, without name, website or text",
    "remove": "Each comment is removed; replies by others stay and move up a level",
}
CHECK_WORDS = {
    "honeypot": "Honeypot: a hidden field only robots fill in",
    "form-token": "Form timestamp: hold comments sent without it or too fast",
    "links": "Link limit",
    "blocks": "Block lists (addresses, domains, IP ranges, words)",
    "duplicate": "The same text twice within ten minutes",
    "phrases": "Phrases common in spam",
    "classifier": "Spam score learned from your decisions",
}
WEBHOOK_EVENT_WORDS = {
    "published": "a comment is published",
    "held": "a comment waits for review",
    "spam": "a comment goes to spam",
}


def _single_line(form: FlaskForm, field: Any) -> None:
    value = str(field.data or "")
    if any(ch in value for ch in "\r\n\t") or unsafe_in_line(value):
        raise ValidationError("Must be a single line of ordinary characters.")


def _address(form: FlaskForm, field: Any) -> None:
    """An address typed in full, kept in its canonical spelling (what is hashed)."""
    if not field.data:
        return
    try:
        field.data = normalize_address(str(field.data)).canonical
    except AddressRefused as exc:
        raise ValidationError(f"Type a whole address, such as jane@example.org. {exc}") from exc


def _ip_range(form: FlaskForm, field: Any) -> None:
    if field.data:
        try:
            check_ip_range(str(field.data))
        except ParleyError as exc:
            raise ValidationError(exc.message) from exc


def _choices(words: dict[str, str], values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(value, words[value]) for value in values]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SearchForm(FlaskForm):
    """The queue's search. Sent with POST (an address must never travel in a URL, where
    access logs keep it); the results page's URL carries the address's keyed hash instead."""

    status = HiddenField(filters=[_strip], validators=[Optional(), Length(max=16)])
    site = StringField("Site", filters=[_strip], validators=[Length(max=SITE_NAME_MAX)])
    q = StringField("Text", filters=[_strip], validators=[Length(max=SEARCH_MAX), _single_line])
    author = StringField(
        "Author's name", filters=[_strip], validators=[Length(max=AUTHOR_MAX), _single_line]
    )
    thread = StringField(
        "Thread key", filters=[_strip], validators=[Length(max=THREAD_KEY_MAX), _single_line]
    )
    email = EmailField(
        "Address, typed in full",
        filters=[_strip],
        validators=[Optional(), Length(max=EMAIL_MAX), _address],
    )
    ip = StringField(
        "IP address or range", filters=[_strip], validators=[Length(max=64), _ip_range]
    )
    #: The keyed hash of an address searched for before (from the results page's URL).
    ah = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{64}$", message="Search again.")])

    def query_args(self) -> dict[str, Any]:
        """The results page's query arguments: the address as its keyed hash."""
        address_hash = vault().lookup_hash(self.email.data) if self.email.data else self.ah.data
        found = {
            "status": self.status.data,
            "site": self.site.data,
            "q": self.q.data,
            "author": self.author.data,
            "thread": self.thread.data,
            "ip": self.ip.data,
            "ah": address_hash,
        }
        return {name: str(value) for name, value in found.items() if value}


def _origins(form: FlaskForm, field: Any) -> None:
    try:
        origins = [normalise_origin(o) for o in str(field.data or "").split()]
    except ParleyError as exc:
        raise ValidationError(f"{exc.message} Write each as https://blog.example.") from exc
    if not origins:
        raise ValidationError("Give at least one origin, such as https://blog.example.")


class SiteForm(FlaskForm):
    """A site's settings, as `flask sites set` changes them."""

    origins = TextAreaField(
        "Origins allowed to show the comments",
        description="One per line, such as https://blog.example",
        validators=[Length(max=URL_MAX * 4), _origins],
    )
    moderation = RadioField(
        "Which comments wait for review", choices=_choices(MODERATION_WORDS, MODERATION_MODES)
    )
    owner_email = EmailField(
        "New owner address",
        description="Leave empty to keep the current one.",
        filters=[_strip],
        validators=[Optional(), Length(max=EMAIL_MAX), _address],
    )
    remove_owner = BooleanField("No owner address: the owner gets no mail")
    notify_owner = RadioField(
        "The owner hears of", choices=_choices(NOTIFY_OWNER_WORDS, OWNER_NOTIFY_MODES)
    )
    owner_digest = RadioField(
        "The owner's mail comes as",
        choices=_choices(OWNER_DIGEST_WORDS, OWNER_DIGEST_MODES),
    )
    approval_mail = BooleanField("Tell a reader by mail when their held comment is approved")
    max_links = IntegerField(
        "Most links in a comment before it is held",
        validators=[
            InputRequired("Give a number of links."),
            NumberRange(0, MAX_LINKS_MAX, f"From 0 to {MAX_LINKS_MAX}."),
        ],
    )
    checks = CheckboxesField("Spam checks", choices=_choices(CHECK_WORDS, SPAM_CHECKS))
    votes = BooleanField("Readers may vote on comments")
    close_after_days = IntegerField(
        "Close threads to new comments after this many days",
        description="Empty or 0: never.",
        validators=[
            Optional(),
            NumberRange(0, MAX_CLOSE_AFTER_DAYS, f"From 0 (never) to {MAX_CLOSE_AFTER_DAYS}."),
        ],
    )
    erase_policy = RadioField(
        "When a reader has their data erased",
        choices=_choices(ERASE_POLICY_WORDS, ERASE_POLICIES),
    )

    @classmethod
    def of(cls, site: Site) -> SiteForm:
        """The form filled in with the site's settings (a POST's own data wins)."""
        off = set(site.disabled_checks.split())
        return cls(
            formdata=None,
            data={
                "origins": "\n".join(site.origin_list),
                "moderation": site.moderation,
                "notify_owner": site.notify_owner,
                "owner_digest": site.owner_digest,
                "approval_mail": site.approval_mail,
                "max_links": site.max_links,
                "checks": [c for c in SPAM_CHECKS if c not in off],
                "votes": site.votes,
                "close_after_days": site.close_after_days,
                "erase_policy": site.erase_policy,
            },
        )

    def settings(self) -> dict[str, Any]:
        """The keyword arguments of `sites.save_site` that this form sets."""
        on = set(self.checks.data or ())
        owner: str | None = None
        if self.remove_owner.data:
            owner = ""
        elif self.owner_email.data:
            owner = str(self.owner_email.data)
        return {
            "origins": str(self.origins.data or "").split(),
            "moderation": self.moderation.data,
            "owner_email": owner,
            "notify_owner": self.notify_owner.data,
            "owner_digest": self.owner_digest.data,
            "approval_mail": bool(self.approval_mail.data),
            "max_links": self.max_links.data,
            "enable": tuple(c for c in SPAM_CHECKS if c in on),
            "disable": tuple(c for c in SPAM_CHECKS if c not in on),
            "votes": bool(self.votes.data),
            "close_after_days": self.close_after_days.data or 0,
            "erase_policy": self.erase_policy.data,
        }


def _http_url(form: FlaskForm, field: Any) -> None:
    value = str(field.data or "")
    if not value.lower().startswith(("https://", "http://")) or any(
        ch.isspace() or ch in "\"'<>`\\" for ch in value
    ):
        raise ValidationError("Give the receiver's https:// address.")


class WebhookForm(FlaskForm):
    url = StringField(
        "Receiver's URL",
        filters=[_strip],
        validators=[DataRequired("Give the receiver's URL."), Length(max=URL_MAX), _http_url],
    )
    format = SelectField(
        "Format", choices=[SelectChoice(f) for f in WEBHOOK_FORMATS], default="generic"
    )
    events = CheckboxesField(
        "Post when",
        choices=_choices(WEBHOOK_EVENT_WORDS, WEBHOOK_EVENTS),
        default=["published", "held"],
        validators=[DataRequired("Choose at least one event.")],
    )


#: What the blocks page can block, in words.
BLOCK_KIND_WORDS = {
    "email": "Address (typed in full)",
    "domain": "Mail domain",
    "ip": "IP address or range",
    "word": "Word or phrase",
}


class BlockForm(FlaskForm):
    """A block-list entry from the blocks page."""

    site = SelectField("Site")
    kind = SelectField("Kind", choices=_choices(BLOCK_KIND_WORDS, BLOCK_KINDS))
    value = StringField(
        "Value",
        filters=[_strip],
        validators=[
            DataRequired("Give what to block."),
            Length(max=BLOCK_VALUE_MAX),
            _single_line,
        ],
    )

    @classmethod
    def for_sites(cls, names: list[str]) -> BlockForm:
        form = cls()
        form.site.choices = [SelectChoice(name) for name in names]
        return form

    def validate_value(self, field: Any) -> None:
        value = str(field.data or "")
        if self.kind.data == "email":
            _address(self, field)
        elif self.kind.data == "ip":
            try:
                field.data = str(ipaddress.ip_network(value, strict=False))
            except ValueError as exc:
                raise ValidationError(
                    "Type an IP address or a range such as 203.0.113.0/24."
                ) from exc
        elif self.kind.data == "domain":
            domain = value.lower().lstrip("@")
            if "@" in domain or "." not in domain or any(ch.isspace() for ch in domain):
                raise ValidationError("Type a mail domain, such as spam.example.")
            field.data = domain

    def stored_value(self) -> str:
        return str(self.value.data or "")
