"""The OpenAPI document says what the API really answers: every error response the middleware and
handlers can give, with the one JSON error shape, and `Allow` on 405 listing every documented method.

Schemathesis (tests/test_openapi_contract.py) holds the two in step.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path

ERROR_SCHEMA = {
    "title": "ErrorBody", "type": "object", "required": ["detail", "code", "request_id"],
    "properties": {"detail": {"title": "Detail"}, "code": {"type": "string"},
                   "request_id": {"type": ["string", "null"]}},
}
_REF = {"$ref": "#/components/schemas/ErrorBody"}
# Answers any operation can give: the rate limiter (429), a dependency or start-up (503), a crash (500).
_ALWAYS = {"429": "Rate limited (Retry-After says when to retry)", "500": "Internal error",
           "503": "Not ready, or a dependency is unavailable"}
# Answers of operations that take a body: malformed or hostile JSON (400), too large (413), wrong type (415).
_WITH_BODY = {"400": "Malformed JSON, or JSON nested too deep / with too many keys",
              "413": "Body too large", "415": "Unsupported content type"}
_METHODS = ("get", "put", "post", "delete", "patch")
# Files refused by their name's extension, which a multipart schema cannot say (tests/schemathesis.toml
# lets positive data get this 415 on these operations only).
_REFUSED_BY_FILE_TYPE = {
    ("/chat/sessions/{session_id}/messages", "post"):
        "A file whose extension is not in ALLOWED_ATTACHMENT_TYPES (`attachment_type_not_allowed`), or a body "
        "neither multipart nor JSON (`unsupported_content_type`)",
    ("/chat/sessions/{session_id}/attachments", "post"):
        "A file whose extension is not in ALLOWED_ATTACHMENT_TYPES (`attachment_type_not_allowed`), or a body "
        "that is not multipart (`unsupported_content_type`)",
    ("/knowledge/documents", "post"):
        "A file whose extension is not an ingestible document type (`document_type_not_supported`), or a body "
        "that is not multipart",
}


def install_error_docs(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = ERROR_SCHEMA
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                responses = operation.setdefault("responses", {})
                extra = {**_ALWAYS, **(_WITH_BODY if "requestBody" in operation else {})}
                if "parameters" in operation or "requestBody" in operation or "{" in path:
                    extra["422"] = "Validation error"
                for status, description in extra.items():
                    responses.setdefault(status, {"description": description})
                for status, response in responses.items():
                    if status[0] in "45":
                        # One shape for every error: the handlers never answer FastAPI's HTTPValidationError.
                        response["content"] = {"application/json": {"schema": _REF}}
        _describe_bodies(schema, app.state.settings.max_attachments_per_message)
        _link_sessions(schema)
        schema["components"]["schemas"].pop("HTTPValidationError", None)
        schema["components"]["schemas"].pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe_bodies(schema: dict[str, Any], max_files: int) -> None:
    """Bodies the routes read by hand (so FastAPI cannot see them), described as the routes check them."""
    paths = schema.get("paths", {})
    upload = paths.get("/chat/sessions/{session_id}/attachments", {}).get("post")
    if upload is not None and "requestBody" not in upload:
        upload["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["attachments"],
            "properties": {"attachments": {"type": "array", "minItems": 1, "maxItems": max_files,
                                           "items": {"type": "string", "format": "binary"}}}}}}}
        for status, text in _WITH_BODY.items():
            upload.setdefault("responses", {}).setdefault(status, {"description": text})
    for (path, method), text in _REFUSED_BY_FILE_TYPE.items():
        refused = paths.get(path, {}).get(method, {}).get("responses", {}).get("415")
        if refused is not None:
            refused["description"] = text
    message = paths.get("/chat/sessions/{session_id}/messages", {}).get("post", {})
    form = message.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {})
    if "attachments" in form.get("properties", {}):
        form["properties"]["attachments"]["maxItems"] = max_files
    json_body = message.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if json_body is not None:
        json_body["additionalProperties"] = False  # SendMessageJSON forbids unknown fields


_TOKEN_HEADER = {"name": "X-Session-Token", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "The session token (or send it as `Authorization: Bearer <token>`)"}


def _link_sessions(schema: dict[str, Any]) -> None:
    """Document the session token header on session routes, and link them from session creation, so a
    client generator (or a stateful fuzzer) knows where `session_id` and the token come from."""
    links: dict[str, Any] = {}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/chat/sessions/{session_id}"):
            continue
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "X-Session-Token" for p in parameters):
                parameters.append(_TOKEN_HEADER)
            if "operationId" in operation:
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {"session_id": "$response.body#/session_id",
                                   "header.X-Session-Token": "$response.body#/session_token"}}
    created = schema.get("paths", {}).get("/chat/sessions", {}).get("post", {}).get("responses", {}).get("201")
    if created is not None and links:
        created["links"] = links


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the OpenAPI document gives the path (for `Allow` on a 405)."""
    for pattern, methods in _patterns(app):
        if pattern.match(path):
            return methods
    return []


def _patterns(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    return _compiled(id(app), tuple(sorted((p, tuple(m for m in item if m in _METHODS))
                                           for p, item in app.openapi().get("paths", {}).items())))


@lru_cache(maxsize=16)
def _compiled(_: int, paths: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[re.Pattern[str], list[str]]]:
    return [(compile_path(p)[0], sorted(m.upper() for m in methods)) for p, methods in paths]
