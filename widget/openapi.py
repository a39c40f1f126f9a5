"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import current_app

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Bad request (a parameter or the JSON is malformed)",
        401: "No edit token",
        403: "Origin not allowed, token invalid or edit window over",
        404: "Unknown site, thread or comment",
        409: "Comments are closed on this thread",
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


SITE = _query("site", "Site name", minLength=1, maxLength=64)
THREAD = _query("thread", "Thread key (usually the article's path)", minLength=1, maxLength=512)

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
            "replies": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
        },
    },
    "NewComment": {
        "type": "object",
        "required": ["site", "thread", "author", "email", "body"],
        "properties": {
            "site": {"type": "string", "minLength": 1, "maxLength": 64},
            "thread": {"type": "string", "minLength": 1, "maxLength": 512},
            "title": {"type": ["string", "null"], "maxLength": 300},
            "url": {"type": ["string", "null"], "maxLength": 2048},
            "parent_id": {"type": ["integer", "null"], "minimum": 1},
            "author": {"type": "string", "minLength": 1, "maxLength": 80},
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "website": {"type": ["string", "null"], "maxLength": 500},
            "body": {"type": "string", "minLength": 1, "maxLength": 10000},
            "notify": {"type": "boolean"},
            "form_token": {"type": ["string", "null"]},
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """A truthful description of every API route."""
    comment_ref = {"$ref": "#/components/schemas/Comment"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Parley comments API",
            "version": "1.0.0",
            "description": "Addresses are accepted, never returned.",
        },
        "servers": [{"url": current_app.config["PUBLIC_URL"]}],
        "paths": {
            "/api/comments": {
                "get": {
                    "operationId": "listComments",
                    "summary": "A page of a thread: approved comments, replies nested",
                    "parameters": [
                        SITE,
                        THREAD,
                        _query("cursor", "next_cursor of the previous page", required=False),
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
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
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewComment"}
                            }
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
                                },
                            },
                            "Stored; pending comments wait for a moderator",
                        ),
                        **_errors(400, 403, 404, 409, 413, 415, 422, 429, 503),
                    },
                },
            },
            "/api/comments/{id}": {
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
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["body"],
                                    "properties": {
                                        "body": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": 10000,
                                        }
                                    },
                                }
                            }
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
            },
            "/api/form-token": {
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
            },
            "/api/counts": {
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
                                "maxItems": 200,
                                "items": {"type": "string", "maxLength": 512},
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
            },
            "/api/subscriptions": {
                "post": {
                    "operationId": "subscribe",
                    "summary": "Follow a thread without commenting (double opt-in)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["site", "thread", "email"],
                                    "properties": {
                                        "site": {"type": "string"},
                                        "thread": {"type": "string"},
                                        "email": {"type": "string", "format": "email"},
                                        "title": {"type": "string"},
                                        "url": {"type": "string"},
                                    },
                                }
                            }
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
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                },
            },
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
