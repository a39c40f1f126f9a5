"""WTForms definitions: one per input shape, shared by the JSON API and the HTML pages."""

from __future__ import annotations

import re
import threading
from typing import Any

import email_validator  # noqa: F401 - WTForms imports it on first use: 26 ms of a reader's first post
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
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .config import is_on
from .errors import ParleyError, UnsupportedMediaType, ValidationFailed

HONEYPOT_FIELD = "contact_fax"


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _no_control_characters(form: FlaskForm, field: Any) -> None:
    # Line breaks and tabs are text; the other C0 controls are not.
    if field.data and _CONTROL_CHARACTERS.search(str(field.data)):
        raise ValidationError("Contains characters that are not allowed.")


def _single_line(form: FlaskForm, field: Any) -> None:
    if field.data and any(ch in str(field.data) for ch in "\r\n\t\x00"):
        raise ValidationError("Must be a single line.")


def _http_url(form: FlaskForm, field: Any) -> None:
    value = str(field.data or "")
    if value and not value.lower().startswith(("http://", "https://")):
        raise ValidationError("Must be an http:// or https:// address.")
    if any(ch.isspace() or ch in "\"'<>`\\" for ch in value):
        raise ValidationError("A web address cannot contain spaces, quotes or angle brackets.")


def _email(form: FlaskForm, field: Any) -> None:
    """Syntax always; DNS look-ups only with PARLEY_CHECK_DELIVERABILITY=on."""
    deliverable = is_on(current_app.config.get("CHECK_DELIVERABILITY", False))
    Email("Enter a valid email address.", check_deliverability=deliverable)(form, field)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CommentFields(FlaskForm):
    """What a reader types; the widget and the no-JavaScript page name fields the same."""

    author = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired("Enter your name."), Length(1, 80), _single_line],
    )
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            _email,
        ],
    )
    website = StringField(
        "Website",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=500),
            _single_line,
            _http_url,
            URL(require_tld=False, message="Enter a valid web address."),
        ],
    )
    body = TextAreaField(
        "Comment",
        validators=[DataRequired("Write a comment."), Length(1, 10_000), _no_control_characters],
    )
    notify = BooleanField("Notify me of new comments in this thread")
    parent_id = IntegerField("Reply to", validators=[Optional(), NumberRange(min=1)])
    form_token = HiddenField(validators=[Optional(), Length(max=500)])
    contact_fax = StringField(validators=[Optional(), Length(max=500)])


class CommentForm(CommentFields):
    """A new comment through the API: the page it belongs to travels with it."""

    site = StringField(validators=[InputRequired(), Length(1, 64), _single_line])
    thread = StringField(validators=[InputRequired(), Length(1, 512), _single_line])
    title = StringField(validators=[Optional(), Length(max=300), _single_line])
    url = StringField(validators=[Optional(), Length(max=2048), _single_line, _http_url])


class EditForm(FlaskForm):
    body = TextAreaField(
        validators=[DataRequired("Write a comment."), Length(1, 10_000), _no_control_characters]
    )


class SubscribeForm(FlaskForm):
    site = StringField(validators=[InputRequired(), Length(1, 64), _single_line])
    thread = StringField(validators=[InputRequired(), Length(1, 512), _single_line])
    title = StringField(validators=[Optional(), Length(max=300), _single_line])
    url = StringField(validators=[Optional(), Length(max=2048), _single_line, _http_url])
    email = EmailField(
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            _email,
        ],
    )


class ConfirmForm(FlaskForm):
    """A button and a CSRF token: used by the confirm, unsubscribe and moderation pages."""


class UnsubscribeForm(FlaskForm):
    everything = BooleanField("Unsubscribe from every thread")


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1000)])


#: Types the JSON API accepts for each field: anything else is a field error.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "notify": (bool,),
    "parent_id": (int, type(None)),
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
