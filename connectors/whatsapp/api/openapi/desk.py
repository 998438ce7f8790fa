"""The OpenAPI description of the front desk's routes (`agents.desk_routes`): notes, assignment, resolving
and saved replies. The agents' part splices them in, passing its conversation and handoff schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.whatsapp.api.openapi.schemas import STRING, nullable
from connectors.whatsapp.api.openapi.schemas import object_of as _object

NULLABLE_STRING = nullable(STRING)


DESK_EVENT = _object(
    ["id", "business_id", "wa_id", "at", "kind", "actor", "text"],
    id={"type": "integer"},
    business_id=STRING,
    wa_id=STRING,
    at={"type": "number"},
    kind={"enum": ["note", "assigned", "resolved"]},
    actor={**STRING, "description": "the agent token's name"},
    text={**NULLABLE_STRING, "description": "a note's text; the new assignee (null: unassigned); null for resolved"},
)
CONVERSATION_FIELDS = {
    "assignee": {**NULLABLE_STRING, "description": "the agent token assigned to answer, if any"},
    "status": {"enum": ["open", "resolved"], "description": "resolved until the guest's next message"},
}
SAVED_REPLY = _object(
    ["id", "business_id", "code", "text", "author", "updated_at"],
    id={"type": "integer"},
    business_id=STRING,
    code={**STRING, "description": "without its /: wifi for /wifi"},
    text={**STRING, "description": "may hold placeholders such as {guest_name}: GET /saved-replies lists them"},
    author=STRING,
    updated_at={"type": "number"},
)
FILLED_REPLY = {
    **SAVED_REPLY,
    "required": [*SAVED_REPLY["required"], "filled", "missing"],
    "properties": {
        **SAVED_REPLY["properties"],
        "filled": {**STRING, "description": "the text with this thread's values in its placeholders"},
        "missing": {"type": "array", "items": STRING, "description": "placeholders this thread cannot fill"},
    },
}
BUSINESS = {"name": "business", "in": "query", "required": True, "schema": STRING, "description": "the hotel"}


def desk_paths(
    answers: Callable[..., dict[str, Any]],
    path_parameters: list[dict[str, Any]],
    json_body: Callable[[dict[str, Any]], dict[str, Any]],
    conversation: dict[str, Any],
    handoff: dict[str, Any],
) -> dict[str, Any]:
    changed = _object(["conversation", "event"], conversation=conversation, event=DESK_EVENT)
    resolved = {**changed, "required": [*changed["required"], "handoff"]}
    resolved["properties"] = {**changed["properties"], "handoff": handoff}
    thread = "/conversations/{business_id}/{wa_id}"
    return {
        f"{thread}/notes": {
            "parameters": path_parameters,
            "post": {
                "summary": "an internal note for agents: never sent to the guest, never given to the bot",
                "requestBody": json_body(_object(["text"], text={"type": "string", "minLength": 1})),
                "responses": answers(_object(["event"], event=DESK_EVENT), 404, 422, ok_status=201),
            },
        },
        f"{thread}/assign": {
            "parameters": path_parameters,
            "post": {
                "summary": "assign the thread to an agent (a token name), or unassign it with null",
                "requestBody": json_body(_object(["agent"], agent=NULLABLE_STRING)),
                "responses": answers(changed, 404, 422),
            },
        },
        f"{thread}/resolve": {
            "parameters": path_parameters,
            "post": {
                "summary": "resolve: back to the bot, out of the open list until the guest writes again",
                "responses": answers(resolved, 404, 409),
            },
        },
        f"{thread}/saved-replies": {
            "parameters": path_parameters,
            "get": {
                "summary": "the hotel's saved replies, filled for this thread",
                "responses": answers(
                    _object(["saved_replies"], saved_replies={"type": "array", "items": FILLED_REPLY}), 404
                ),
            },
        },
        "/saved-replies": {
            "get": {
                "summary": "a hotel's saved replies and the placeholders they may hold",
                "parameters": [BUSINESS],
                "responses": answers(
                    _object(
                        ["saved_replies", "placeholders"],
                        saved_replies={"type": "array", "items": SAVED_REPLY},
                        placeholders={"type": "object", "additionalProperties": STRING},
                    ),
                    404,
                    422,
                ),
            },
            "post": {
                "summary": "save a reply under a code (saving a code again replaces its text); 422 names an "
                "unknown placeholder",
                "parameters": [BUSINESS],
                "requestBody": json_body(
                    _object(["code", "text"], code=STRING, text={"type": "string", "minLength": 1})
                ),
                "responses": answers(_object(["saved_reply"], saved_reply=SAVED_REPLY), 404, 422, ok_status=201),
            },
            "delete": {
                "summary": "forget a saved reply",
                "parameters": [BUSINESS, {"name": "code", "in": "query", "required": True, "schema": STRING}],
                "responses": answers(_object(["deleted"], deleted=STRING), 404, 422),
            },
        },
    }
