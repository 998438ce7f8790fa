"""The agents' part of the OpenAPI description: the console's routes (conversations, search, the thread,
takeover, release, reply, templates, the event stream) and `GET /me`, which either role may call.

Written by hand next to the routes; tests/channel/test_agents_api.py validates every answer the running API
gives against it, so the two cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

from connectors.whatsapp.api.openapi.desk import CONVERSATION_FIELDS, DESK_EVENT, desk_paths
from connectors.whatsapp.api.openapi.schemas import ANY_ROLE, BOOLEAN, ERROR, INTEGER, NUMBER, STRING, answers
from connectors.whatsapp.api.openapi.schemas import json_body as _json_body
from connectors.whatsapp.api.openapi.schemas import nullable as _nullable
from connectors.whatsapp.api.openapi.schemas import object_of as _object

HANDOFF = _object(
    ["holder", "state", "agent", "reason", "since", "last_agent_at"],
    holder=STRING,
    state={"enum": ["bot", "queue", "agent"]},
    agent=_nullable(STRING),
    reason=_nullable(STRING),
    since=_nullable(NUMBER),
    last_agent_at=_nullable(NUMBER),
)
WINDOW = _object(["open", "closes_at"], open=BOOLEAN, closes_at=_nullable(NUMBER))
CONVERSATION = _object(
    [
        "business_id",
        "wa_id",
        "profile_name",
        "phone",
        "username",
        "handoff",
        "window",
        "last_activity",
        "last_text",
        "unread",
    ],
    business_id=STRING,
    wa_id={**STRING, "description": "the guest's key: their phone number, or a business-scoped user id"},
    profile_name=_nullable(STRING),
    phone=_nullable(STRING),
    username=_nullable(STRING),
    handoff=_object(
        ["holder", "state", "reason", "since"],
        holder=STRING,
        state={"enum": ["bot", "queue", "agent"]},
        reason=_nullable(STRING),
        since=_nullable(NUMBER),
    ),
    window=WINDOW,
    last_activity=_nullable(NUMBER),
    last_text=_nullable(STRING),
    last_origin=_nullable(STRING),
    unread=INTEGER,
    **CONVERSATION_FIELDS,
)
STATUS = _object(
    ["status", "at"], status=STRING, at=_nullable(INTEGER), error_code=_nullable(INTEGER), error_title=_nullable(STRING)
)
MEDIA = _object(
    ["id", "kind", "mime_type", "size", "sha256", "filename", "url", "state"],
    id=STRING,
    kind={"enum": ["image", "audio", "video", "document", "sticker"]},
    mime_type=_nullable(STRING),
    size=_nullable(INTEGER),
    sha256=_nullable(STRING),
    filename=_nullable(STRING),
    caption=_nullable(STRING),
    url={**STRING, "description": "GET it with the agent token: /webhooks/whatsapp/api/v1/media/{id}"},
    state={
        "enum": ["pending", "kept", "refused", "failed", "expired"],
        "description": "pending: being downloaded from WhatsApp; refused: past WhatsApp's size limit; failed: "
        "could not be fetched while WhatsApp kept it; expired: deleted after GATEWAY_MEDIA_RETENTION_DAYS",
    },
    reason=_nullable(STRING),
)
MESSAGE = _object(
    [
        "id",
        "business_id",
        "wa_id",
        "direction",
        "origin",
        "type",
        "text",
        "created_at",
        "state",
        "status",
        "error",
        "pricing",
        "edited",
        "deleted",
        "deleted_at",
    ],
    id=INTEGER,
    business_id=STRING,
    wa_id=STRING,
    direction={"enum": ["inbound", "outbound"]},
    origin=_nullable(STRING),
    wamid=_nullable(STRING),
    type=STRING,
    text={**_nullable(STRING), "description": "as the guest first wrote it; null once they deleted the message"},
    created_at=NUMBER,
    wa_timestamp=_nullable(INTEGER),
    state=STRING,
    status=_nullable(STRING),
    status_at=_nullable(INTEGER),
    error=_nullable(
        _object(["code", "title"], code=_nullable(INTEGER), title=_nullable(STRING), details=_nullable(STRING))
    ),
    blocked_reason=_nullable(STRING),
    pricing=_nullable({"type": "object"}),
    statuses={"type": "array", "items": STATUS},
    edited={
        **_nullable(_object(["text", "at"], text=_nullable(STRING), at=INTEGER)),
        "description": "the guest's newest edit of their message: its text and WhatsApp's time; null if never edited",
    },
    deleted={**BOOLEAN, "description": "the guest deleted the message for everyone: its text is no longer served"},
    deleted_at=_nullable(INTEGER),
    media={**_nullable(MEDIA), "description": "the message's file (a guest's photo, voice note, PDF...); null if none"},
    attachment={
        **_nullable(
            _object(
                ["kind", "id", "link", "caption", "filename"],
                kind={"enum": ["image", "video", "audio", "document", "sticker"]},
                id=_nullable(STRING),
                link=_nullable(STRING),
                caption=_nullable(STRING),
                filename=_nullable(STRING),
            )
        ),
        "description": "the file a business message sends (by uploaded media id or link); null for other messages",
    },
)
HANDOFF_EVENT = _object(
    ["id", "at", "from", "to", "reason", "actor"],
    id=INTEGER,
    business_id=STRING,
    wa_id=STRING,
    at=NUMBER,
    to=STRING,
    reason=STRING,
    actor=STRING,
    **{"from": STRING},
)
TEMPLATE_OFFER = _object(
    ["name", "language", "category", "body", "parameter_names", "parameters"],
    name=STRING,
    language=STRING,
    category=STRING,
    body=STRING,
    parameter_names={"type": "array", "items": STRING},
    parameters={"type": "array", "items": _nullable(STRING)},
)
RESERVATION = _object(
    ["booking_code", "business_id", "guest_name", "wa_id", "arrival", "departure", "room", "total", "paid",
     "pending", "payment_link"],
    booking_code=STRING,
    business_id=STRING,
    guest_name=STRING,
    wa_id=_nullable(STRING),
    arrival={"type": "string", "format": "date"},
    departure={"type": "string", "format": "date"},
    room=STRING,
    total=STRING,
    paid=STRING,
    pending=STRING,
    payment_link=_nullable(STRING),
)  # fmt: skip
"""From the reservations the action server reads too; the room in the guest's language, amounts `289.40 EUR`."""
HELD_REPLY = _object(
    ["id", "origin", "text", "created_at", "state"],
    id=INTEGER,
    origin=STRING,
    text=STRING,
    created_at=NUMBER,
    state=STRING,
)
SEND_OUTCOME = _object(
    ["state", "wamid"],
    state={"enum": ["accepted", "failed", "blocked", "unknown"]},
    wamid=_nullable(STRING),
    error_code=_nullable(INTEGER),
    error_title=_nullable(STRING),
    reason=_nullable(STRING),
)


def _answers(ok: dict[str, Any] | None, *errors: int, ok_status: int = 200) -> dict[str, Any]:
    described = {
        401: "no known bearer token",
        403: "a token of the wrong role",
        404: "no such conversation among the token's hotels",
        409: "the window is closed (with the templates that may be sent) or another agent holds the thread",
        422: "invalid query or body",
        502: "WhatsApp refused the send",
    }
    return answers(ok, {status: described[status] for status in (401, 403, *errors)}, ok_status=ok_status)


PATH_PARAMETERS = [
    {
        "name": "business_id",
        "in": "path",
        "required": True,
        "schema": STRING,
        "description": "the hotel's phone number id",
    },
    {"name": "wa_id", "in": "path", "required": True, "schema": STRING, "description": "the guest's WhatsApp number"},
]
HANDOFF_ANSWER = _object(["handoff", "changed"], handoff=HANDOFF, changed=BOOLEAN)
SENT_ANSWER = _object(
    ["messages", "handoff", "held_reply"],
    messages={"type": "array", "items": SEND_OUTCOME},
    handoff=HANDOFF,
    held_reply=_nullable(HELD_REPLY),
)

ATTACHMENT = _object(
    ["kind", "mime_type", "size", "sha256", "filename", "caption", "media_id"],
    kind={"enum": ["image", "video", "audio", "document", "sticker"]},
    mime_type={**STRING, "description": "as the bytes show, whatever the browser claimed"},
    size=INTEGER,
    sha256=STRING,
    filename=_nullable(STRING),
    caption=_nullable(STRING),
    media_id={**_nullable(STRING), "description": "the Cloud API's id of the upload; null if it was refused"},
)
SENT_ATTACHMENT_ANSWER = _object(
    ["messages", "handoff", "held_reply", "attachment"],
    messages={"type": "array", "items": SEND_OUTCOME},
    handoff=HANDOFF,
    held_reply={"type": "null"},
    attachment=ATTACHMENT,
)


AGENTS: dict[str, Any] = {
    "paths": {
        "/me": {
            "get": {
                "summary": "who the token is",
                "security": ANY_ROLE,
                "responses": _answers(
                    _object(
                        ["name", "role", "hotels", "names"],
                        name=STRING,
                        role={"enum": ["agent", "automation"]},
                        hotels=_nullable({"type": "array", "items": STRING}),
                        names={"type": "object", "additionalProperties": STRING},
                    )
                ),
            }
        },
        "/conversations": {
            "get": {
                "summary": "conversations, newest activity first",
                "parameters": [
                    {"name": "hotel", "in": "query", "schema": STRING},
                    {"name": "state", "in": "query", "schema": {"enum": ["bot", "queue", "agent", "held"]}},
                    {"name": "window", "in": "query", "schema": {"enum": ["open", "closed"]}},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"enum": ["open", "resolved", "all"], "default": "open"},
                    },
                    {"name": "assignee", "in": "query", "schema": STRING, "description": "me, none or a token name"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "cursor", "in": "query", "schema": STRING},
                ],
                "responses": _answers(
                    _object(
                        ["conversations", "next_cursor"],
                        conversations={"type": "array", "items": CONVERSATION},
                        next_cursor=_nullable(STRING),
                    ),
                    422,
                ),
            }
        },
        "/search": {
            "get": {
                "summary": "messages by text; conversations by number, profile name, reservation name or booking code",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 2}}
                ],
                "responses": _answers(
                    _object(
                        ["messages", "conversations"],
                        messages={"type": "array", "items": MESSAGE},
                        conversations={"type": "array", "items": CONVERSATION},
                    ),
                    422,
                ),
            }
        },
        "/conversations/{business_id}/{wa_id}": {
            "parameters": PATH_PARAMETERS,
            "get": {
                "summary": "one thread: messages with statuses and pricing, handoff, window, reservation",
                "responses": _answers(
                    _object(
                        [
                            "conversation",
                            "messages",
                            "handoff_events",
                            "desk_events",
                            "held_replies",
                            "reservation",
                            "hotel",
                            "language",
                        ],
                        conversation=CONVERSATION,
                        messages={"type": "array", "items": MESSAGE},
                        handoff_events={"type": "array", "items": HANDOFF_EVENT},
                        desk_events={"type": "array", "items": DESK_EVENT},
                        held_replies={"type": "array", "items": HELD_REPLY},
                        reservation=_nullable(RESERVATION),
                        hotel=_nullable(_object(["name"], name=STRING)),
                        language={"enum": ["es", "en"]},
                    ),
                    404,
                ),
            },
        },
        "/conversations/{business_id}/{wa_id}/templates": {
            "parameters": PATH_PARAMETERS,
            "get": {
                "summary": "approved templates, the guest's language first, parameters pre-filled",
                "responses": _answers(
                    _object(
                        ["language", "templates"], language=STRING, templates={"type": "array", "items": TEMPLATE_OFFER}
                    ),
                    404,
                ),
            },
        },
        "/conversations/{business_id}/{wa_id}/takeover": {
            "parameters": PATH_PARAMETERS,
            "post": {
                "summary": "an agent takes the thread from the bot",
                "responses": _answers(HANDOFF_ANSWER, 404, 409),
            },
        },
        "/conversations/{business_id}/{wa_id}/release": {
            "parameters": PATH_PARAMETERS,
            "post": {"summary": "give the thread back to the bot", "responses": _answers(HANDOFF_ANSWER, 404, 409)},
        },
        "/conversations/{business_id}/{wa_id}/reply": {
            "parameters": PATH_PARAMETERS,
            "post": {
                "summary": "free text (takes the thread over); outside the window 409, or reopen",
                "requestBody": _json_body(_object(["text"], text={"type": "string", "minLength": 1}, reopen=BOOLEAN)),
                "responses": _answers(SENT_ANSWER, 404, 409, 422, 502),
            },
        },
        "/conversations/{business_id}/{wa_id}/template": {
            "parameters": PATH_PARAMETERS,
            "post": {
                "summary": "send an approved template (takes the thread over)",
                "requestBody": _json_body(
                    _object(
                        ["name", "language", "parameters"],
                        name=STRING,
                        language=STRING,
                        parameters={"type": "array", "items": STRING},
                    )
                ),
                "responses": _answers(SENT_ANSWER, 404, 409, 422, 502),
            },
        },
        "/media/{media_id}": {
            "parameters": [{"name": "media_id", "in": "path", "required": True, "schema": STRING}],
            "get": {
                "summary": "a message's file: its bytes with their type and Content-Disposition (a type the bytes do "
                "not bear out, or one a browser could run, is served as application/octet-stream, attachment)",
                "responses": {
                    "200": {"description": "the file's bytes", "content": {"*/*": {"schema": STRING}}},
                    **{
                        status: {"description": text, "content": {"application/json": {"schema": ERROR}}}
                        for status, text in (
                            ("401", "no known bearer token"),
                            ("403", "not an agent token"),
                            ("404", "no such file among the token's hotels"),
                            ("409", "not kept: still downloading, refused, failed or expired (state and reason)"),
                        )
                    },
                },
            },
        },
        "/conversations/{business_id}/{wa_id}/attachments": {
            "parameters": PATH_PARAMETERS,
            "post": {
                "summary": "send a file (takes the thread over): image, video, audio, document or sticker by what its "
                "bytes are, within WhatsApp's types and sizes; outside the window 409",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _object(
                                ["file"],
                                file={"type": "string", "contentMediaType": "application/octet-stream"},
                                caption={**STRING, "description": "not on audio or stickers: sent as text after it"},
                            )
                        }
                    },
                },
                "responses": {
                    **_answers(SENT_ATTACHMENT_ANSWER, 404, 409, 422, 502),
                    "413": {
                        "description": "the file is larger than WhatsApp takes for its kind (image 5 MB, video and "
                        "audio 16 MB, document 100 MB, sticker 100 KB or 500 KB animated)",
                        "content": {"application/json": {"schema": ERROR}},
                    },
                },
            },
        },
        "/events": {
            "get": {
                "summary": "server-sent events: message, status, amendment (a guest's edit or deletion), handoff, "
                "desk (a note, an assignment, a resolve) "
                "(token in the header or ?token=)",
                "parameters": [{"name": "token", "in": "query", "schema": STRING}],
                "responses": {
                    "200": {"description": "an event stream", "content": {"text/event-stream": {"schema": STRING}}},
                    "401": {"description": "no known token", "content": {"application/json": {"schema": ERROR}}},
                    "403": {"description": "not an agent token", "content": {"application/json": {"schema": ERROR}}},
                },
            }
        },
        **desk_paths(_answers, PATH_PARAMETERS, _json_body, CONVERSATION, HANDOFF),
    },
}
