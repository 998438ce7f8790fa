"""The pieces every part of the OpenAPI description is built from: JSON Schema shorthands, the `problem`
error body every 4xx and 5xx answer carries, the two roles' security requirements, and `answers`, which
turns an operation's outcomes into its `responses`.

Pure data and pure functions: the parts (`agents`, `automations`) import this, never each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AGENT",
    "ANY_ROLE",
    "AUTOMATION",
    "BOOLEAN",
    "ERROR",
    "INTEGER",
    "INVALID",
    "NUMBER",
    "PUBLIC",
    "SECURITY_SCHEMES",
    "STRING",
    "answers",
    "json_body",
    "nullable",
    "object_of",
]


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def object_of(required: list[str], **properties: Any) -> dict[str, Any]:
    """An object with these properties, `required` of them always present; others may be added later."""
    return {"type": "object", "required": required, "properties": properties}


STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}

ERROR = object_of(["error"], error=object_of(["code", "message"], code=STRING, message=STRING))
"""`api.responses.problem`: a stable `code` to branch on and a `message` saying what to send instead."""
INVALID = object_of(
    ["error"],
    error=object_of(
        ["code", "message"],
        code=STRING,
        message=STRING,
        problems={"type": "array", "items": object_of(["field", "message"], field=STRING, message=STRING)},
    ),
)
"""The automations' 422: a `problem` that, for `invalid_request`, lists every problem of the request at once,
each naming its field (`messages[3].to`)."""

SECURITY_SCHEMES = {
    "agent": {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of role agent from GATEWAY_API_TOKENS (`name:agent:hotels:secret`): the front "
        "desk's console and tools; it acts only for its hotels",
    },
    "automation": {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of role automation from GATEWAY_API_TOKENS (`name:automation:hotels:secret`): "
        "a hotel's own software queueing messages; it acts only for its hotels",
    },
}
AGENT = [{"agent": []}]
AUTOMATION = [{"automation": []}]
ANY_ROLE = [{"agent": []}, {"automation": []}]
PUBLIC: list[dict[str, list[str]]] = []


def answers(
    ok: Mapping[str, Any] | None,
    errors: Mapping[int, str | tuple[str, dict[str, Any]]],
    *,
    ok_status: int = 200,
    ok_description: str = "OK",
    ok_content: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An operation's `responses`: the success answer (its JSON schema `ok`, or `ok_content` for other media
    types), and each error status with what it means, as a `problem` body unless a schema is given with the
    description."""
    described: dict[str, Any] = {}
    if ok is not None or ok_content is not None:
        content = ok_content if ok_content is not None else {"application/json": {"schema": ok}}
        described[str(ok_status)] = {"description": ok_description, "content": dict(content)}
    for status, meaning in errors.items():
        text, schema = (meaning, ERROR) if isinstance(meaning, str) else meaning
        described[str(status)] = {"description": text, "content": {"application/json": {"schema": schema}}}
    return described


def json_body(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """A required JSON request body, with an example where one helps a reader."""
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"required": True, "content": {"application/json": media}}
