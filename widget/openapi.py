"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Request bodies are derived from the WTForms classes that validate them, and every limit
from `limits`: the document cannot drift from what the server accepts.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from wtforms import BooleanField, EmailField, Field, IntegerField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .forms import (
    HONEYPOT_FIELD,
    CommentForm,
    EditForm,
    PreviewForm,
    SubscribeForm,
    VoteForm,
)
from .limits import COUNT_KEYS_MAX, RECENT_MAX, SITE_NAME_MAX, THREAD_KEY_MAX

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Bad request (a parameter or the JSON is malformed)",
        401: "No edit token",
        403: "Origin not allowed, token invalid or edit window over",
        404: "Unknown site, thread or comment",
        409: "Comments are closed on this thread, or the comment replied to was just removed",
        413: "Request body too large",
        415: "Not JSON",
        422: "Field errors",
        429: "Rate limited",
        503: "Temporarily unavailable",
    }
    return {str(s): _json(_ERROR, text[s]) for s in statuses}


def _query(name: str, description: str, required: bool = True, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


SITE = _query("site", "Site name", minLength=1, maxLength=SITE_NAME_MAX)
THREAD = _query(
    "thread", "Thread key (usually the article's path)", minLength=1, maxLength=THREAD_KEY_MAX
)


def form_schema(form_class: type, description: str) -> dict[str, Any]:
    """The JSON Schema of a request body that `form_class` validates (see forms.json_form)."""
    unbound = [
        (name, field)
        for name in dir(form_class)
        if isinstance(field := getattr(form_class, name), UnboundField) and name != HONEYPOT_FIELD
    ]
    unbound.sort(key=lambda item: item[1].creation_counter)
    properties = {name: _field_schema(field) for name, field in unbound}
    required = [name for name, field in unbound if _is_required(field)]
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    }


def _field_schema(field: UnboundField) -> dict[str, Any]:
    field_class: type[Field] = field.field_class
    validators = field.kwargs.get("validators", [])
    kind = {BooleanField: "boolean", IntegerField: "integer"}.get(field_class, "string")
    schema: dict[str, Any] = {"type": kind}
    for validator in validators:
        if isinstance(validator, Length):
            if validator.min > 0:
                schema["minLength"] = validator.min
            if validator.max >= 0:
                schema["maxLength"] = validator.max
        elif isinstance(validator, NumberRange):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
    if field_class is EmailField:
        schema["format"] = "email"
    if any(isinstance(v, Optional) for v in validators) or kind == "integer":
        schema["type"] = [kind, "null"]
    label = field.kwargs.get("label") or (field.args[0] if field.args else None)
    if label:
        schema["description"] = str(label)
    return schema


def _is_required(field: UnboundField) -> bool:
    validators = field.kwargs.get("validators", [])
    return any(isinstance(v, DataRequired | InputRequired) for v in validators)


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Thread": {
        "type": "object",
        "required": ["key", "title", "url", "count", "closed"],
        "properties": {
            "key": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "closed": {"type": "boolean"},
            "votes": {"type": "boolean", "description": "Readers may vote on this site"},
        },
    },
    "Comment": {
        "type": "object",
        "required": [
            "id",
            "parent_id",
            "author",
            "website",
            "avatar",
            "html",
            "created_at",
            "edited_at",
            "replies",
        ],
        "properties": {
            "id": {"type": "integer"},
            "parent_id": {"type": ["integer", "null"]},
            "author": {"type": "string"},
            "website": {"type": "string"},
            "avatar": {"type": ["string", "null"], "description": "URL of a local identicon"},
            "html": {"type": "string", "description": "Sanitized HTML, rendered at write time"},
            "created_at": {"type": "string", "format": "date-time"},
            "edited_at": {"type": ["string", "null"], "format": "date-time"},
            "deleted": {"type": "boolean"},
            "score": {"type": "integer", "description": "Up minus down votes (votes on)"},
            "replies": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
        },
    },
    "NewComment": form_schema(CommentForm, "A comment or a reply, and the page it is on"),
    "CommentEdit": form_schema(EditForm, "The new text of one's own comment"),
    "Subscription": form_schema(SubscribeForm, "Follow a thread without commenting"),
    "Vote": form_schema(VoteForm, "+1, -1 or 0 (take back), with the widget's voter key"),
    "Preview": form_schema(PreviewForm, "Markdown to render as a post would be"),
}


COMMENT_REF = {"$ref": "#/components/schemas/Comment"}


def openapi_document() -> dict[str, Any]:
    """A truthful description of every API route."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Parley comments API",
            "version": "1.0.0",
            "description": "Addresses are accepted, never returned.",
        },
        "servers": [{"url": current_app.config["PUBLIC_URL"]}],
        "paths": {
            "/api/comments": _comments_path(),
            "/api/comments/{id}": _comment_path(),
            "/api/form-token": _form_token_path(),
            "/api/counts": _counts_path(),
            "/api/recent": _recent_path(),
            "/api/subscriptions": _subscriptions_path(),
            "/api/comments/{id}/vote": _vote_path(),
            "/api/preview": _preview_path(),
            "/api/openapi.json": _openapi_path(),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "editToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "edit_token from POST /api/comments",
                }
            },
        },
    }


def _comments_path() -> dict[str, Any]:
    """GET a page of a thread, POST a comment."""
    comment_ref = COMMENT_REF
    return {
        "get": {
            "operationId": "listComments",
            "summary": "A page of a thread: approved comments, replies nested",
            "parameters": [
                SITE,
                THREAD,
                _query("cursor", "next_cursor of the previous page", required=False),
                _query(
                    "sort",
                    "Order of top-level comments; replies stay oldest first",
                    required=False,
                    enum=["oldest", "newest", "top"],
                ),
                _query("title", "The page's title (the widget's first page)", required=False),
                _query("url", "The page's URL (the widget's first page)", required=False),
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": current_app.config["MAX_PAGE_SIZE"],
                    },
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["thread", "comments", "next_cursor"],
                        "properties": {
                            "thread": {"$ref": "#/components/schemas/Thread"},
                            "comments": {"type": "array", "items": comment_ref},
                            "next_cursor": {"type": ["string", "null"]},
                        },
                    },
                    "The page",
                ),
                "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                **_errors(400, 403, 404, 503),
            },
        },
        "post": {
            "operationId": "postComment",
            "summary": "Post a comment or a reply",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/NewComment"}}
                },
            },
            "responses": {
                "201": _json(
                    {
                        "type": "object",
                        "required": ["comment", "status", "edit_token"],
                        "properties": {
                            "comment": comment_ref,
                            "status": {"enum": ["approved", "pending"]},
                            "edit_token": {"type": "string"},
                            "author_token": {"type": "string"},
                        },
                    },
                    "Stored; pending comments wait for a moderator",
                ),
                **_errors(400, 403, 404, 409, 413, 415, 422, 429, 503),
            },
        },
    }


def _comment_path() -> dict[str, Any]:
    """PATCH and DELETE one's own comment."""
    comment_ref = COMMENT_REF
    return {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "patch": {
            "operationId": "editComment",
            "summary": "Edit one's own comment within the edit window",
            "security": [{"editToken": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CommentEdit"}}
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["comment"],
                        "properties": {
                            "comment": comment_ref,
                            "status": {"type": "string"},
                        },
                    },
                    "Edited",
                ),
                **_errors(400, 401, 403, 404, 413, 415, 422, 503),
            },
        },
        "delete": {
            "operationId": "deleteComment",
            "summary": "Delete one's own comment; replies stay under [deleted]",
            "security": [{"editToken": []}],
            "responses": {
                "204": {"description": "Deleted"},
                **_errors(400, 401, 403, 404, 503),
            },
        },
    }


def _form_token_path() -> dict[str, Any]:
    """The form token."""
    return {
        "get": {
            "operationId": "formToken",
            "summary": "A signed timestamp for the comment form",
            "parameters": [SITE],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["form_token"],
                        "properties": {"form_token": {"type": "string"}},
                    },
                    "Token",
                ),
                **_errors(400, 403, 404, 503),
            },
        },
    }


def _counts_path() -> dict[str, Any]:
    """Counts of many threads."""
    return {
        "get": {
            "operationId": "counts",
            "summary": "Published comment counts for many threads",
            "parameters": [
                SITE,
                {
                    "name": "thread",
                    "in": "query",
                    "required": True,
                    "explode": True,
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": COUNT_KEYS_MAX,
                        "items": {"type": "string", "maxLength": THREAD_KEY_MAX},
                    },
                },
            ],
            "responses": {
                "200": _json(
                    {"type": "object", "additionalProperties": {"type": "integer"}},
                    "Counts",
                ),
                **_errors(400, 403, 404, 503),
            },
        },
    }


def _recent_path() -> dict[str, Any]:
    """A site's newest comments."""
    recent = {
        "allOf": [
            COMMENT_REF,
            {
                "type": "object",
                "required": ["thread"],
                "properties": {"thread": {"$ref": "#/components/schemas/Thread"}},
            },
        ]
    }
    return {
        "get": {
            "operationId": "recentComments",
            "summary": "The site's newest published comments, newest first, with their threads",
            "parameters": [
                SITE,
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": f"How many (1 to {RECENT_MAX}, default 10)",
                    "schema": {"type": "integer", "minimum": 1, "maximum": RECENT_MAX},
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["comments"],
                        "properties": {"comments": {"type": "array", "items": recent}},
                    },
                    "Newest comments (Cache-Control: public, max-age=60)",
                ),
                **_errors(400, 403, 404, 503),
            },
        },
    }


def _subscriptions_path() -> dict[str, Any]:
    """Subscribe without commenting."""
    return {
        "post": {
            "operationId": "subscribe",
            "summary": "Follow a thread without commenting (double opt-in)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Subscription"}}
                },
            },
            "responses": {
                "202": _json(
                    {
                        "type": "object",
                        "required": ["status", "message"],
                        "properties": {
                            "status": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                    "Accepted",
                ),
                **_errors(400, 403, 404, 413, 415, 422, 429, 503),
            },
        },
    }


def _openapi_path() -> dict[str, Any]:
    """This document."""
    return {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        },
    }


def _body(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _vote_path() -> dict[str, Any]:
    """One vote per voter key and comment."""
    return {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "post": {
            "operationId": "vote",
            "summary": "Vote on a published comment (one vote per voter key)",
            "requestBody": _body("Vote"),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["score"],
                        "properties": {"score": {"type": "integer"}},
                    },
                    "The comment's new score",
                ),
                **_errors(400, 403, 404, 409, 413, 415, 422, 429, 503),
            },
        },
    }


def _preview_path() -> dict[str, Any]:
    """The post's HTML before it is posted."""
    return {
        "post": {
            "operationId": "preview",
            "summary": "Render Markdown exactly as a post would be (sanitized HTML)",
            "requestBody": _body("Preview"),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["html"],
                        "properties": {"html": {"type": "string"}},
                    },
                    "Sanitized HTML",
                ),
                **_errors(400, 403, 404, 413, 415, 422, 429, 503),
            },
        },
    }
