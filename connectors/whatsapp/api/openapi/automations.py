"""The automations' part of the OpenAPI description: what a hotel's own software integrates against
(`automations.routes`): one message or a batch, their states, the template catalog and its sync, and the
monthly cost report (which agents may read too).

The purposes and their parameters come from `hotel.template_choice`, the table the gateway decides with, so
the description names exactly the purposes the API accepts.
"""

from __future__ import annotations

from typing import Any

from connectors.whatsapp.api.limits import BATCH_MAX, IDEMPOTENCY_KEY_MAX, LANGUAGE_MAX, TEXT_MAX
from connectors.whatsapp.api.openapi.schemas import (
    ANY_ROLE,
    AUTOMATION,
    BOOLEAN,
    INTEGER,
    INVALID,
    NUMBER,
    STRING,
    answers,
    json_body,
    nullable,
    object_of,
)
from hotel.template_choice import PURPOSES

__all__ = ["AUTOMATIONS"]

_MESSAGE_ID = "the message's id, as `POST /messages` answered it"
_STATES = "queued, held, sending, sent, failed, cancelled or refused; once WhatsApp took it, its delivery status"

COST = nullable(
    object_of(
        ["category", "market", "billable", "amount", "currency", "reason"],
        category=STRING,
        market=STRING,
        billable=BOOLEAN,
        amount={**nullable(STRING), "description": "a decimal such as `0.0172`; null when billable but unpriced"},
        currency=STRING,
        reason={**STRING, "description": "why this price: the rate and market, or the free entry point or tier"},
    )
)
TEMPLATE_USED = nullable(
    object_of(["name", "language", "category"], name=STRING, language=STRING, category=nullable(STRING))
)
SEND_ERROR = nullable(
    object_of(["code", "title"], code=nullable(INTEGER), title=nullable(STRING), details=nullable(STRING))
)
PRICING = object_of(
    ["billable", "pricing_model", "type", "category"],
    billable=nullable(BOOLEAN),
    pricing_model=nullable(STRING),
    type=nullable(STRING),
    category=nullable(STRING),
)
"""Meta's pricing object of a status webhook, as the gateway keeps it."""

GUEST = {
    "anyOf": [STRING, INTEGER],
    "description": "the guest's number with its country code in any human format (`+34 612 34 56 78`), or "
    "their business-scoped WhatsApp user id",
}
TEMPLATE = object_of(
    ["name", "language"],
    name={"type": "string", "minLength": 1},
    language={"type": "string", "minLength": 1},
    parameters={"type": "array", "items": {"anyOf": [STRING, NUMBER]}, "description": "body parameters, in order"},
)
MESSAGE_FIELDS: dict[str, Any] = {
    "to": GUEST,
    "purpose": {
        "enum": sorted(PURPOSES),
        "description": "what the message is for: the gateway sends free text inside the guest's 24-hour window "
        "and the approved template outside it, in the guest's language",
    },
    "parameters": {
        "type": "object",
        "description": "with `purpose`: its values by name ("
        + "; ".join(f"{name}: {', '.join(spec.parameters)}" for name, spec in sorted(PURPOSES.items()))
        + ")",
    },
    "template": {**TEMPLATE, "description": "an explicit approved template, sent whatever the window"},
    "text": {
        "type": "string",
        "minLength": 1,
        "maxLength": TEXT_MAX,
        "description": "free text: only inside the guest's window",
    },
    "language": {"type": "string", "minLength": 2, "maxLength": LANGUAGE_MAX, "description": "es or en, say"},
    "send_at": {
        "type": "string",
        "description": "ISO 8601 with its offset (`2026-12-01T09:00:00+01:00`); later than now queues it until "
        "then, quiet hours move it to the morning unless urgent",
    },
    "urgent": {**BOOLEAN, "description": "send even in the hotel's quiet hours"},
}
ONE_CONTENT = {
    "oneOf": [
        {"required": ["purpose"], "properties": {"purpose": {"not": {"type": "null"}}}},
        {"required": ["template"], "properties": {"template": {"not": {"type": "null"}}}},
        {"required": ["text"], "properties": {"text": {"not": {"type": "null"}}}},
    ],
    "description": "exactly one of purpose (with parameters), template or text",
}
NEW_MESSAGE = {
    **object_of(
        ["business", "to"], business={**STRING, "description": "the hotel's phone_number_id"}, **MESSAGE_FIELDS
    ),
    "allOf": [ONE_CONTENT],
}
BATCH_ITEM = {
    **object_of(["to"], business={**STRING, "description": "the batch's, if given"}, **MESSAGE_FIELDS),
    "allOf": [ONE_CONTENT],
}
NEW_BATCH = object_of(
    ["business", "messages"],
    business={**STRING, "description": "the hotel's phone_number_id; every message is sent from it"},
    messages={"type": "array", "minItems": 1, "maxItems": BATCH_MAX, "items": BATCH_ITEM},
    send_at={**MESSAGE_FIELDS["send_at"], "description": "for the messages that give none"},
    urgent={**BOOLEAN, "description": "for the messages that give none"},
)
ACCEPTED = object_of(
    [
        "id",
        "state",
        "business",
        "to",
        "kind",
        "template",
        "text",
        "language",
        "window_open",
        "due_at",
        "urgent",
        "cost",
    ],
    id={**STRING, "description": _MESSAGE_ID},
    state=STRING,
    business=STRING,
    to={**STRING, "description": "the guest as the gateway knows them: wa_id or user id"},
    kind={"enum": ["text", "template"]},
    template=TEMPLATE_USED,
    text=nullable(STRING),
    language=STRING,
    window_open=BOOLEAN,
    due_at={**nullable(STRING), "format": "date-time"},
    urgent=BOOLEAN,
    cost=COST,
)
MESSAGE_STATE = object_of(
    ["id", "batch", "business", "to", "state", "queue_state", "kind", "template", "purpose", "wamid", "due_at",
     "sent_at", "attempts", "error", "cost", "reconciliation"],
    id=STRING,
    batch=nullable(STRING),
    business=STRING,
    to=STRING,
    state={**STRING, "description": _STATES},
    queue_state={"enum": ["queued", "sending", "sent", "failed", "held", "cancelled", "refused"]},
    kind=nullable(STRING),
    template=TEMPLATE_USED,
    purpose=nullable(STRING),
    wamid=nullable(STRING),
    due_at=nullable(STRING),
    sent_at=nullable(STRING),
    attempts=INTEGER,
    error=SEND_ERROR,
    cost=COST,
    reconciliation=nullable(
        object_of(
            ["matches", "differences", "reported"],
            matches=BOOLEAN,
            differences={"type": "array", "items": STRING},
            reported=PRICING,
        )
    ),
)  # fmt: skip
COUNTS = {"type": "object", "additionalProperties": INTEGER, "description": "messages by state"}
BATCH_ACCEPTED = object_of(
    ["id", "business", "total", "counts"], id=STRING, business=STRING, total=INTEGER, counts=COUNTS
)
BATCH_STATE = object_of(
    ["id", "business", "created_at", "total", "done", "counts", "messages"],
    id=STRING,
    business=STRING,
    created_at=nullable(STRING),
    total=INTEGER,
    done={**BOOLEAN, "description": "no message is still queued or sending"},
    counts=COUNTS,
    messages={
        "type": "array",
        "items": object_of(
            ["id", "to", "state", "wamid", "error"],
            id=STRING,
            to=STRING,
            state=STRING,
            wamid=nullable(STRING),
            error=SEND_ERROR,
        ),
    },
)
CATALOG = object_of(
    ["templates"],
    templates={
        "type": "array",
        "items": object_of(
            [
                "waba_id",
                "name",
                "language",
                "category",
                "status",
                "parameters",
                "sendable",
                "quality_score",
                "upcoming_category",
            ],
            waba_id=STRING,
            name=STRING,
            language=STRING,
            category=nullable(STRING),
            status=STRING,
            parameters=INTEGER,
            sendable=BOOLEAN,
            quality_score=nullable(STRING),
            upcoming_category=nullable(object_of(["category", "at"], category=STRING, at=nullable(INTEGER))),
        ),
    },
)
SYNCED = object_of(
    ["synced", "failed"],
    synced={"type": "object", "additionalProperties": INTEGER, "description": "templates read, by account"},
    failed={"type": "object", "additionalProperties": STRING, "description": "why, by account"},
)
COST_LINE = object_of(
    ["category", "country", "market", "messages", "delivered", "free", "billable", "unpriced", "amount"],
    category=STRING,
    country=nullable(STRING),
    market=STRING,
    messages=INTEGER,
    delivered=INTEGER,
    free=INTEGER,
    billable=INTEGER,
    unpriced=INTEGER,
    amount=STRING,
)
COST_REPORT = object_of(
    ["business", "month", "currency", "total", "messages", "billable", "free", "undelivered", "free_reasons", "lines",
     "mismatches"],
    business=STRING,
    month=STRING,
    currency=STRING,
    total={**STRING, "description": "a decimal amount in `currency`"},
    messages=INTEGER,
    billable=INTEGER,
    free=INTEGER,
    undelivered=INTEGER,
    free_reasons={"type": "object", "additionalProperties": INTEGER},
    lines={"type": "array", "items": COST_LINE},
    mismatches={
        "type": "array",
        "items": object_of(
            ["id", "wamid", "expected", "reported", "differences"],
            id=STRING,
            wamid=nullable(STRING),
            expected={"type": "object"},
            reported=PRICING,
            differences={"type": "array", "items": STRING},
        ),
    },
)  # fmt: skip

UNAUTHORIZED = "no token, or one not in GATEWAY_API_TOKENS"
WRONG_ROLE = "the token's role may not call this, or it may not act for that business"
INVALID_BODY = (
    "the body or a header is invalid (`problems` lists each field) or the request cannot be sent as asked "
    "(no phone number for an authentication template, wrong template parameters); nothing was queued",
    INVALID,
)
REFUSED = (
    "cannot be sent as asked: the window is closed for free text, the guest opted out, no approved template, "
    "over budget"
)
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
    "description": "the same key again (same token) answers what the first request answered, with "
    "Idempotent-Replay: true, and queues nothing more",
}
EXAMPLE_MESSAGE = {
    "business": "1000000001",
    "to": "+34 612 34 56 78",
    "purpose": "payment_request",
    "parameters": {
        "guest_name": "Lucía",
        "amount_pending": "289.40 EUR",
        "payment_link": "https://pay.example.com/MDP-4F7K2Q",
    },
}
EXAMPLE_BATCH = {
    "business": "1000000001",
    "send_at": "2026-12-17T10:00:00+01:00",
    "messages": [
        {
            "to": "+34 612 34 56 78",
            "purpose": "reservation_reminder",
            "parameters": {
                "guest_name": "Lucía",
                "arrival_date": "18/12/2026",
                "hotel_name": "Hotel Mirador del Puerto",
            },
        },
        {
            "to": "+44 7700 900123",
            "template": {"name": "winter_offer", "language": "en", "parameters": ["Oliver", "15"]},
        },
    ],
}


def _business_query(description: str, required: bool) -> dict[str, Any]:
    return {"name": "business", "in": "query", "required": required, "schema": STRING, "description": description}


AUTOMATIONS: dict[str, Any] = {
    "paths": {
        "/messages": {
            "post": {
                "summary": "queue one message: 202 with what will be sent, when, and its price",
                "security": AUTOMATION,
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": json_body(NEW_MESSAGE, EXAMPLE_MESSAGE),
                "responses": answers(
                    ACCEPTED,
                    {401: UNAUTHORIZED, 403: WRONG_ROLE, 409: REFUSED, 422: INVALID_BODY},
                    ok_status=202,
                    ok_description="queued",
                ),
            }
        },
        "/messages/{message_id}": {
            "parameters": [
                {"name": "message_id", "in": "path", "required": True, "schema": INTEGER, "description": _MESSAGE_ID}
            ],
            "get": {
                "summary": "a message's state, WhatsApp's error, its price and how Meta's billing matched it",
                "security": AUTOMATION,
                "responses": answers(
                    MESSAGE_STATE, {401: UNAUTHORIZED, 403: WRONG_ROLE, 404: "no automation message with that id"}
                ),
            },
        },
        "/batches": {
            "post": {
                "summary": f"queue up to {BATCH_MAX:,} messages from one business: 202 once each is decided",
                "security": AUTOMATION,
                "requestBody": json_body(NEW_BATCH, EXAMPLE_BATCH),
                "responses": answers(
                    BATCH_ACCEPTED,
                    {401: UNAUTHORIZED, 403: WRONG_ROLE, 422: INVALID_BODY},
                    ok_status=202,
                    ok_description="queued; a message that cannot be sent is counted as refused",
                ),
            }
        },
        "/batches/{batch_id}": {
            "parameters": [
                {"name": "batch_id", "in": "path", "required": True, "schema": STRING, "description": "as queued"}
            ],
            "get": {
                "summary": "a batch's progress: counts by state and each message's outcome",
                "security": AUTOMATION,
                "responses": answers(BATCH_STATE, {401: UNAUTHORIZED, 403: WRONG_ROLE, 404: "no batch with that id"}),
            },
        },
        "/templates": {
            "get": {
                "summary": "the template catalog read fresh: status, parameters, quality score, upcoming category",
                "security": AUTOMATION,
                "parameters": [
                    _business_query("only this hotel's account; every hotel's of the token if left out", False)
                ],
                "responses": answers(
                    CATALOG,
                    {401: UNAUTHORIZED, 403: WRONG_ROLE, 422: ("not a hotel of this gateway", INVALID)},
                ),
            }
        },
        "/templates/sync": {
            "post": {
                "summary": "sync the catalog again from WhatsApp's management API",
                "security": AUTOMATION,
                "responses": {
                    **answers(SYNCED, {401: UNAUTHORIZED, 403: WRONG_ROLE}),
                    "502": {
                        "description": "an account could not be synced (`failed` says why); the others were",
                        "content": {"application/json": {"schema": SYNCED}},
                    },
                },
            }
        },
        "/reports/costs": {
            "get": {
                "summary": "a month's costs by category and market, free messages by reason, Meta's mismatches (CSV "
                "with ?format=csv or Accept: text/csv)",
                "security": ANY_ROLE,
                "parameters": [
                    _business_query("the hotel's phone_number_id", True),
                    {
                        "name": "month",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                        "example": "2026-12",
                    },
                    {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}, "description": "or Accept"},
                ],
                "responses": answers(
                    None,
                    {401: UNAUTHORIZED, 403: WRONG_ROLE, 422: ("business or month missing or unknown", INVALID)},
                    ok_content={
                        "application/json": {"schema": COST_REPORT},
                        "text/csv": {"schema": STRING},
                    },
                ),
            }
        },
    },
}
