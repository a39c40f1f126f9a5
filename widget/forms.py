"""WTForms definitions: one per input shape, shared by the JSON API and the HTML pages."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .addresses import AddressRefused, normalize_address
from .config import is_on
from .errors import FormExpired, ParleyError, UnsupportedMediaType, ValidationFailed
from .limits import (
    AUTHOR_MAX,
    BODY_MAX,
    EMAIL_MAX,
    LOGIN_EMAIL_MAX,
    MAX_ID,
    PASSWORD_MAX,
    SITE_NAME_MAX,
    THREAD_KEY_MAX,
    TITLE_MAX,
    TOKEN_MAX,
    URL_MAX,
    WEBSITE_MAX,
)
from .models import MAIL_MODES
from .text import query_value_ok, unsafe_in_body, unsafe_in_line, without_bidi_controls

HONEYPOT_FIELD = "contact_fax"


def _no_control_characters(form: FlaskForm, field: Any) -> None:
    # Line breaks and tabs are text; other controls and lone surrogates are not.
    if field.data and unsafe_in_body(str(field.data)):
        raise ValidationError("Contains characters that are not allowed.")


def _single_line(form: FlaskForm, field: Any) -> None:
    value = str(field.data or "")
    if any(ch in value for ch in "\r\n\t"):
        raise ValidationError("Must be a single line.")
    if unsafe_in_line(value):
        raise ValidationError("Contains characters that are not allowed.")


def _http_url(form: FlaskForm, field: Any) -> None:
    value = str(field.data or "")
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError("Must be an http:// or https:// address.")
    if any(ch.isspace() or ch in "\"'<>`\\" for ch in value):
        raise ValidationError("A web address cannot contain spaces, quotes or angle brackets.")


def _email(form: FlaskForm, field: Any) -> None:
    """Syntax always, DNS look-ups only with PARLEY_CHECK_DELIVERABILITY=on; the field then
    holds the canonical spelling, which is what is hashed, blocked, counted and mailed."""
    deliverable = is_on(current_app.config.get("CHECK_DELIVERABILITY", False))
    try:
        field.data = normalize_address(str(field.data), check_deliverability=deliverable).canonical
    except AddressRefused as exc:
        raise ValidationError(str(exc)) from exc


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _notify_mode(value: Any) -> str:
    """`notify` as a mode: true (JSON) or a ticked box means "all"; false or nothing, no mail."""
    if value in (True, "y", "true", "on", "1"):
        return "all"
    return str(value or "")


def _drop_bidi_controls(value: Any) -> Any:
    return without_bidi_controls(value) if isinstance(value, str) else value


def _email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[_strip],
        validators=[DataRequired("Enter your email address."), Length(max=EMAIL_MAX), _email],
    )


def _body_field(label: str = "Comment") -> TextAreaField:
    return TextAreaField(
        label,
        filters=[_drop_bidi_controls],
        validators=[DataRequired("Write a comment."), Length(1, BODY_MAX), _no_control_characters],
    )


class CommentFields(FlaskForm):
    """What a reader types; the widget and the no-JavaScript page name fields the same."""

    author = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(1, AUTHOR_MAX), _single_line],
    )
    email = _email_field()
    website = StringField(
        "Website",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=WEBSITE_MAX),
            _single_line,
            _http_url,
            URL(require_tld=False, message="Enter a valid web address."),
        ],
    )
    body = _body_field()
    notify = StringField(
        "Notify me of new comments in this thread",
        filters=[_notify_mode],
        validators=[Optional(), AnyOf(("", *MAIL_MODES), "Choose replies, all or digest.")],
    )
    parent_id = IntegerField("Reply to", validators=[Optional(), NumberRange(1, MAX_ID)])
    form_token = HiddenField(validators=[Optional(), Length(max=TOKEN_MAX), _single_line])
    #: Proof of an earlier comment from this browser (trusted under first-time moderation).
    author_token = HiddenField(validators=[Optional(), Length(max=TOKEN_MAX), _single_line])
    contact_fax = StringField(validators=[Optional(), Length(max=TOKEN_MAX), _single_line])


class PageFields(FlaskForm):
    """The page a JSON request is about: site, thread key, and what the page says of itself."""

    site = StringField(validators=[InputRequired(), Length(1, SITE_NAME_MAX), _single_line])
    thread = StringField(validators=[InputRequired(), Length(1, THREAD_KEY_MAX), _single_line])
    title = StringField(validators=[Optional(), Length(max=TITLE_MAX), _single_line])
    url = StringField(validators=[Optional(), Length(max=URL_MAX), _single_line, _http_url])


class CommentForm(PageFields, CommentFields):
    """A new comment through the API: the page it belongs to travels with it."""


class EditForm(FlaskForm):
    body = _body_field()


class VoteForm(FlaskForm):
    """A reader's vote: +1, -1, or 0 to take it back, with the widget's random voter key."""

    value = IntegerField(validators=[InputRequired(), NumberRange(-1, 1)])
    voter = StringField(validators=[InputRequired(), Length(16, 64), _single_line])


class PreviewForm(FlaskForm):
    """Markdown to show as it will look, through the same renderer as a post."""

    site = StringField(validators=[InputRequired(), Length(1, SITE_NAME_MAX), _single_line])
    body = _body_field()


class SubscribeForm(PageFields):
    email = _email_field()
    #: What to get: "all" (the default when subscribing without commenting), "replies"
    #: or "digest".
    notify = StringField(
        filters=[_notify_mode],
        validators=[Optional(), AnyOf(("", *MAIL_MODES), "Choose replies, all or digest.")],
    )


@dataclass
class NewComment:
    """A reader's comment as it arrives, already validated by CommentFields."""

    thread_key: str
    author: str
    email: str
    body: str
    website: str = ""
    title: str = ""
    url: str = ""
    parent_id: int | None = None
    notify: str = ""
    form_token: str | None = None
    author_token: str | None = None
    honeypot: str = ""
    ip: str = ""


def new_comment_from(
    form: CommentFields, thread_key: str, *, title: str, url: str, ip: str
) -> NewComment:
    """What the comment form (API or no-JS page) carries, as a NewComment."""
    return NewComment(
        thread_key=thread_key,
        author=form.author.data or "",
        email=form.email.data or "",
        body=form.body.data or "",
        website=form.website.data or "",
        title=title,
        url=url,
        parent_id=form.parent_id.data,
        notify=form.notify.data or "",
        form_token=form.form_token.data or None,
        author_token=form.author_token.data or None,
        honeypot=getattr(form, HONEYPOT_FIELD).data or "",
        ip=ip,
    )


class ConfirmForm(FlaskForm):
    """A button and a CSRF token: used by the confirm, unsubscribe and moderation pages."""


def check_query_arguments() -> None:
    """Refuse a request whose query string holds NUL or a lone surrogate (a 400, not a
    database error): registered before every blueprint's views."""
    # Every value of every key: a repeated key (?thread=a&thread=b) is read whole by getlist.
    if not all(query_value_ok(value) for _, value in request.args.items(multi=True)):
        raise ParleyError("A query parameter contains characters that are not allowed.")


def submitted(form: FlaskForm) -> None:
    """A page's POST: its CSRF token (and fields) must check out, else "the form expired"."""
    if not form.validate_on_submit():
        raise FormExpired()


class PrivacyRequestForm(FlaskForm):
    """/privacy: the address whose data a reader wants a link to."""

    email = _email_field()


class EraseForm(FlaskForm):
    """The erase button of a /privacy link's page: checked twice (a box and the button)."""

    sure = BooleanField(
        "Yes, erase my comments and subscriptions for good",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class UnsubscribeForm(FlaskForm):
    everything = BooleanField("Unsubscribe from every thread")


def _encodable(form: FlaskForm, field: Any) -> None:
    if field.data and not query_value_ok(str(field.data)):
        raise ValidationError("Contains characters that are not allowed.")


class LoginForm(FlaskForm):
    email = StringField(
        "Email", validators=[DataRequired(), Length(max=LOGIN_EMAIL_MAX), _encodable]
    )
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=PASSWORD_MAX), _encodable]
    )


#: Types the JSON API accepts for each field: anything else is a field error.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "notify": (bool, str, type(None)),
    "parent_id": (int, type(None)),
    "value": (int,),
}


def json_form(form_class: type[FlaskForm], data: dict[str, Any] | None = None) -> Any:
    """Validate a JSON request body with a form class; raise a clear 4xx on failure."""
    data = read_json_object() if data is None else data
    formdata, type_errors = _json_to_formdata(form_class, data)
    form = _processed_form(form_class, formdata)
    if not form.validate() or type_errors:
        errors = {name: list(msgs) for name, msgs in form.errors.items()}
        errors.update(type_errors)
        raise ValidationFailed("Some fields need attention.", errors)
    return form


_thread_forms = threading.local()


def _processed_form(form_class: type[FlaskForm], formdata: MultiDict[str, str]) -> Any:
    """A form of `form_class` holding `formdata`, ready to validate.

    Building a form binds every field anew (about 0.1 ms for the comment form, a tenth of
    a post). Each thread keeps one form per class and re-processes it, which resets every
    field's data and errors; the caller is done with it before its thread's next request.
    """
    forms: dict[type[FlaskForm], Any] = _thread_forms.__dict__.setdefault("forms", {})
    form = forms.get(form_class)
    if form is None:
        form = forms[form_class] = form_class(formdata=formdata, meta={"csrf": False})
    else:
        form.process(formdata)
    return form


def read_json_object() -> dict[str, Any]:
    """The request's JSON object, or a 415/400 that says what is wrong."""
    if not request.is_json:
        raise UnsupportedMediaType("Send JSON (Content-Type: application/json).")
    try:
        data = request.get_json(silent=False)
    except (ValueError, RecursionError, BadRequest) as exc:
        raise ParleyError("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise ParleyError("The request body must be a JSON object.")
    return data


def _json_to_formdata(
    form_class: type[FlaskForm], data: dict[str, Any]
) -> tuple[MultiDict[str, str], dict[str, list[str]]]:
    formdata: MultiDict[str, str] = MultiDict()
    errors: dict[str, list[str]] = {}
    fields = _field_names(form_class)
    for name, value in data.items():
        if name not in fields or name in ("meta", "data", "errors"):
            continue  # unknown keys are ignored, never stored
        allowed = _JSON_TYPES.get(name, (str, type(None)))
        if isinstance(value, bool) and bool not in allowed:
            allowed_ok = False
        else:
            allowed_ok = isinstance(value, allowed)
        if not allowed_ok:
            errors[name] = [f"Must be {_type_name(allowed)}."]
            continue
        if value is None or value is False:
            continue
        formdata[name] = "y" if value is True else str(value)
    return formdata, errors


_FIELD_NAMES: dict[type[FlaskForm], frozenset[str]] = {}


def _field_names(form_class: type[FlaskForm]) -> frozenset[str]:
    names = _FIELD_NAMES.get(form_class)
    if names is None:
        names = frozenset(name for name in dir(form_class) if not name.startswith("_"))
        _FIELD_NAMES[form_class] = names
    return names


def _type_name(types: tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "a whole number", str: "a string"}
    return " or ".join(names[t] for t in types if t in names)
