"""The guest API: a person or a test plays a guest writing to a hotel, and reads the guest's thread.

`POST /sandbox/guests/{id}/messages` makes the guest write. `{id}` is the guest's phone number (6-15 digits,
country code first) or, for a guest with a WhatsApp username, a business-scoped user id (BSUID, like
`US.13491208655302741918`). The JSON body:

- `to`: the business phone number id (or its display number); `1000000001` by default.
- `text` (a non-empty string), or `message`: a Meta inbound message object, any JSON object with a `type`
  string, so a real webhook's `messages[]` item can be replayed as it is (`revoke`, `edit`, `unsupported`
  with no detail, types WhatsApp adds tomorrow). The sandbox sets its sender fields, `id` and `timestamp`.
  An image, audio, video, document or sticker without an id, or with an id the sandbox did not make, gets
  media of the claimed `mime_type` stored under that id (a fresh one when the id is not numeric), so the
  gateway can download it with `GET /{version}/{media_id}`.
- `name`: the profile name; `reply_to`: the wamid the message quotes.
- Identity, from 2026: with a BSUID `{id}`, `phone` (digits) when the guest shows the phone number too; with
  a phone `{id}`, `user_id` (the guest's BSUID) when the webhook carries both ids; `username` and
  `parent_user_id` (`CC.ENT.…`) with a BSUID. A sample guest of the catalog brings its name and username.

The webhook carries exactly the ids the request names: a BSUID-only guest gets `contacts[].user_id` (and
`profile.username`) with no `wa_id`, and `messages[].from_user_id` with no `from`; a guest with both ids
gets both. The sandbox also remembers the ids that came together (Meta's contact book), so the guest is one
thread, one window and one recipient whichever id a later message or send names; an id that already belongs
to another guest is refused (409). The answer is `{"wamid", "message", "guest"}`, `guest` being the thread's
key. What cannot be a message at all (no JSON object, no `type`) is refused with 422 and the reason.

`POST /sandbox/guests/{id}/preferences` plays the guest tapping WhatsApp's own "stop marketing messages" (or
"resume"): `{"to", "value": "stop" | "resume"}` sends the `user_preferences` webhook Meta sends then, with
the guest's ids as the sandbox knows them.

`GET /sandbox/guests/{id}/messages` (optionally `?business=`) lists the thread of the guest either id leads
to, oldest first, as `{"guest", "messages"}`; `GET /sandbox/events` streams every change (filtered by
`?wa_id=`, which takes either id too, and `?business=`).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from sandbox.answers import json_body_or_none, problem
from sandbox.catalog import Catalog, PhoneNumber
from sandbox.identities import PHONE, Identity, IdentityConflictError, is_bsuid, is_parent_bsuid
from sandbox.placeholders import DEFAULT_MIME, placeholder
from sandbox.threads import Delivery, Entry
from sandbox.webhooks import guest_message, inbound_webhook, new_wamid, preferences_webhook

if TYPE_CHECKING:
    from sandbox.app import Sandbox

MEDIA_KINDS = tuple(DEFAULT_MIME)
_IDENTITY_FIELDS = ("phone", "user_id", "parent_user_id", "username", "name")


def sender_of(guest_id: str, body: dict[str, Any], catalog: Catalog) -> Identity | str:
    """Who writes: the ids the path and the body name, the name and username shown; a string says what is
    wrong. A sample guest of the catalog fills in the name (and the username of a guest with a BSUID)."""
    given = {key: body.get(key) for key in _IDENTITY_FIELDS if body.get(key) is not None}
    wrong = next((key for key, value in given.items() if not isinstance(value, str) or not value), None)
    if wrong is not None:
        return f"{wrong} must be a non-empty string"
    if PHONE.match(guest_id):
        if "phone" in given:
            return "phone is for a guest named by a business-scoped user id; this path already is the phone number"
        wa_id, user_id = guest_id, given.get("user_id")
    elif is_bsuid(guest_id):
        if "user_id" in given:
            return "user_id is for a guest named by phone number; this path already is the business-scoped user id"
        wa_id, user_id = given.get("phone", "").lstrip("+") or None, guest_id
    else:
        return (
            f"{guest_id!r} is neither the guest's number in digits, country code first (6-15 digits), nor a "
            "business-scoped user id such as US.13491208655302741918"
        )
    problems = (
        (wa_id is not None and not PHONE.match(wa_id), "phone must be 6-15 digits, country code first"),
        (user_id is not None and not is_bsuid(user_id), "user_id must be a business-scoped user id (US.1349…)"),
        ("parent_user_id" in given and not is_parent_bsuid(given["parent_user_id"]), "parent_user_id must be CC.ENT.…"),
        (
            user_id is None and ("username" in given or "parent_user_id" in given),
            "a username or parent_user_id comes with a user_id",
        ),
    )
    wrong = next((reason for failed, reason in problems if failed), None)
    if wrong is not None:
        return wrong
    sample = catalog.guest(wa_id) or catalog.guest(user_id)
    return Identity(
        wa_id=wa_id,
        user_id=user_id,
        parent_user_id=given.get("parent_user_id"),
        username=given.get("username") or (sample.username if sample and user_id else None),
        name=given.get("name") or (sample.name if sample else f"Guest {guest_id[-4:]}"),
    )


def message_of(body: dict[str, Any]) -> dict[str, Any] | str:
    """The guest's message object from `text` or `message`; a string says why it cannot be a message."""
    if "reply_to" in body and (not isinstance(body["reply_to"], str) or not body["reply_to"]):
        return "reply_to must be the wamid of the message the guest quotes"
    if isinstance(body.get("text"), str) and body["text"]:
        return {"type": "text", "text": {"body": body["text"]}}
    message = body.get("message")
    if message is None:
        return 'give "text" (a non-empty string) or "message" (a Meta inbound message object with a "type")'
    if not isinstance(message, dict):
        return '"message" must be a JSON object: a Meta inbound message such as {"type": "text", "text": {...}}'
    if not isinstance(message.get("type"), str) or not message["type"]:
        return '"message" needs a "type" string saying what it is ("text", "image", "revoke"...)'
    return message


def inbound_preview(message: dict[str, Any]) -> str:
    """A line of text for the thread list; whatever shape a replayed message has, it never raises."""
    kind = message["type"]
    content = message.get(kind)
    content = content if isinstance(content, dict) else {}
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "interactive":
        reply = content.get(content.get("type"))
        return str(reply.get("title", "")) if isinstance(reply, dict) else "[interactive]"
    if kind in ("button", "reaction"):
        return str(content.get("text" if kind == "button" else "emoji", ""))
    if kind == "location":
        return f"📍 {content.get('name') or ''} {content.get('latitude')},{content.get('longitude')}".strip()
    if kind in MEDIA_KINDS:
        return f"[{kind}] {content.get('caption', '')}".strip()
    return f"[{kind}]"


def context_id_of(message: dict[str, Any]) -> str | None:
    context = message.get("context")
    return context.get("id") if isinstance(context, dict) and isinstance(context.get("id"), str) else None


class GuestRoutes:
    """The guest API's handlers, bound to the sandbox whose guests they play."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def write(self, request: Request, guest_id: str) -> HTTPResponse:
        """POST /sandbox/guests/{id}/messages: the guest writes; the signed webhook follows in the background."""
        sandbox = self.sandbox
        body = json_body_or_none(request)
        if not isinstance(body, dict):
            return problem('send a JSON object: {"to": "<phone_number_id>", "text": "..."} or {"message": {...}}')
        sender = sender_of(guest_id, body, sandbox.catalog)
        if isinstance(sender, str):
            return problem(sender)
        number = self._business(body)
        if number is None:
            known = ", ".join(sandbox.catalog.numbers)
            return problem(f"unknown business number {body.get('to')!r}; the sandbox serves {known}")
        partial = message_of(body)
        if isinstance(partial, str):
            return problem(partial)
        try:
            guest = sandbox.threads.identities.record(sender)
        except IdentityConflictError as conflict:
            return problem(str(conflict), status=409)
        wamid, now = new_wamid(), sandbox.clock.now()
        message = guest_message(self._with_media(partial), sender, wamid, now, body.get("reply_to"))
        entry = Entry(
            wamid=wamid,
            business=number.id,
            guest=guest,
            wa_id=sender.wa_id,
            user_id=sender.user_id,
            direction="inbound",
            type=message["type"],
            content=message,
            text=inbound_preview(message),
            timestamp=now,
            context_id=context_id_of(message),
        )
        sandbox.threads.add(entry)
        sandbox.spawn(self._deliver(entry, inbound_webhook(number, sender, message)))
        return json_response({"wamid": wamid, "message": message, "guest": guest})

    async def preferences(self, request: Request, guest_id: str) -> HTTPResponse:
        """POST /sandbox/guests/{id}/preferences: the guest stops or resumes marketing messages in WhatsApp."""
        sandbox = self.sandbox
        body = json_body_or_none(request)
        value = body.get("value") if isinstance(body, dict) else None
        if value not in ("stop", "resume"):
            return problem('send {"to": "<phone_number_id>", "value": "stop"} or "resume"')
        number = self._business(body)
        if number is None:
            return problem(
                f"unknown business number {body.get('to')!r}; the sandbox serves {', '.join(sandbox.catalog.numbers)}"
            )
        sender = sender_of(guest_id, {key: v for key, v in body.items() if key != "value"}, sandbox.catalog)
        if isinstance(sender, str):
            return problem(sender)
        identities = sandbox.threads.identities
        key = identities.key_of(sender.ids[0])
        guest = (identities.known(key) if key else None) or sender
        payload = preferences_webhook(number, guest, value, int(sandbox.clock.now()))
        assert sandbox.deliverer is not None
        sandbox.spawn(sandbox.deliverer.deliver(payload, "user_preferences", guest_id, Delivery()))
        return json_response({"value": value, "guest": key or guest_id})

    async def thread(self, request: Request, guest_id: str) -> HTTPResponse:
        """GET /sandbox/guests/{id}/messages: the thread of the guest this phone number or BSUID leads to."""
        guest = self.sandbox.threads.guest_key(guest_id)
        entries = self.sandbox.threads.thread(guest, request.args.get("business"))
        return json_response({"guest": guest, "messages": [e.to_json() for e in entries]})

    async def events(self, request: Request) -> None:
        """GET /sandbox/events: every change to a thread entry, as server-sent events, for the guest page."""
        threads = self.sandbox.threads
        wa_id, business = request.args.get("wa_id"), request.args.get("business")
        queue = threads.listen()
        response = await request.respond(
            content_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        try:
            await response.send(": connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except asyncio.TimeoutError:
                    await response.send(": keep-alive\n\n")
                    continue
                if self._wanted(event, wa_id, business):
                    await response.send(f"event: message\ndata: {json.dumps(event, ensure_ascii=False)}\n\n")
        finally:
            threads.unlisten(queue)

    def _wanted(self, event: dict[str, Any], guest_id: str | None, business: str | None) -> bool:
        """Whether a stream filtered on this guest (either of its ids) and business shows `event`."""
        guest_matches = guest_id is None or self.sandbox.threads.guest_key(guest_id) == event["guest"]
        return guest_matches and business in (None, event["business"])

    def _business(self, body: dict[str, Any]) -> PhoneNumber | None:
        catalog = self.sandbox.catalog
        to = str(body.get("to", "1000000001"))
        return catalog.number(to) or catalog.number_by_display(to.lstrip("+"))

    def _with_media(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message with its media stored: an object without a known id gets placeholder bytes of its
        claimed type, under its own id when that is numeric (Meta's ids are), with a `url` of the sandbox's
        when the object had one (a replayed webhook's points at Meta). The new content of an `edit` too."""
        kind = message["type"]
        edit = message.get("edit")
        if kind == "edit" and isinstance(edit, dict) and isinstance(edit.get("message"), dict):
            inner = edit["message"]
            if isinstance(inner.get("type"), str):
                return {**message, "edit": {**edit, "message": self._with_media(inner)}}
        if kind not in MEDIA_KINDS:
            return message
        media = dict(message[kind]) if isinstance(message.get(kind), dict) else {}
        media_id = media.get("id")
        stored = self.sandbox.threads.media.get(media_id) if isinstance(media_id, str) else None
        if stored is None:
            mime = media.get("mime_type") if isinstance(media.get("mime_type"), str) else DEFAULT_MIME[kind]
            numeric = isinstance(media_id, str) and media_id.isdigit()
            stored = self.sandbox.add_media(placeholder(mime), mime, media_id if numeric else None)
        media.update(id=stored.id, mime_type=stored.mime_type, sha256=stored.sha256)
        if "url" in media:
            media["url"] = f"{self.sandbox.settings.base_url}/sandbox/media/{stored.id}"
        return {**message, kind: media}

    async def _deliver(self, entry: Entry, payload: dict[str, Any]) -> None:
        sandbox = self.sandbox
        assert sandbox.deliverer is not None
        await sandbox.deliverer.deliver(
            payload, "message", entry.wamid, entry.delivery, lambda: sandbox.threads.changed(entry)
        )


def add_guest_routes(app: Sanic, sandbox: Sandbox) -> None:
    """Register each `GuestRoutes` handler; Sanic names each route after its handler."""
    routes = GuestRoutes(sandbox)
    app.post("/sandbox/guests/<guest_id>/messages")(routes.write)
    app.get("/sandbox/guests/<guest_id>/messages")(routes.thread)
    app.post("/sandbox/guests/<guest_id>/preferences")(routes.preferences)
    app.get("/sandbox/events")(routes.events)
