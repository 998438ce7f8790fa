"""The sandbox's control API under `/sandbox/`: what it serves, its health, its settings and clock, a
reset, the webhook handshake and log, and a template's review status changed as Meta would change it.

Tests and the guest page drive the sandbox through these; none of them exists at Meta.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sanic import Request, Sanic
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from sandbox.answers import json_body_or_none, problem
from sandbox.catalog import TEMPLATE_STATUSES
from sandbox.settings import SettingsError
from sandbox.threads import Delivery
from sandbox.webhooks import template_status_webhook

if TYPE_CHECKING:
    from sandbox.app import Sandbox


class ControlRoutes:
    """The control API's handlers, one method per route, bound to the sandbox they control so tests and
    tools can reach each one."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def config(self, request: Request) -> HTTPResponse:
        """GET /sandbox/config: the numbers and guests the guest page offers (a guest by phone number has
        `wa_id`, one with a username `user_id` and `username`), and the settings in force."""
        sandbox = self.sandbox
        return json_response(
            {
                "business_numbers": [
                    {"id": n.id, "display_phone_number": n.display_phone_number, "name": n.verified_name}
                    for n in sandbox.catalog.numbers.values()
                ],
                "guests": [g.to_json() for g in sandbox.catalog.guests],
                "settings": sandbox.settings.public(),
            }
        )

    async def health(self, request: Request) -> HTTPResponse:
        """GET /sandbox/health: benchmarks wait until no delivery is pending."""
        pending = len(self.sandbox.background.running)
        return json_response({"ok": True, "pending_deliveries": pending, "now": self.sandbox.clock.now()})

    async def get_settings(self, request: Request) -> HTTPResponse:
        return json_response(self.sandbox.settings.public())

    async def patch_settings(self, request: Request) -> HTTPResponse:
        """PATCH /sandbox/settings: a test changes limits or faults without restarting the sandbox."""
        changes = json_body_or_none(request)
        if not isinstance(changes, dict):
            return problem("send a JSON object of settings to change")
        try:
            self.sandbox.configure(self.sandbox.settings.updated(changes))
        except SettingsError as error:
            return problem(str(error))
        return json_response(self.sandbox.settings.public())

    async def get_clock(self, request: Request) -> HTTPResponse:
        return json_response({"now": self.sandbox.clock.now(), "offset": self.sandbox.clock.offset})

    async def move_clock(self, request: Request) -> HTTPResponse:
        """POST /sandbox/clock: move time, so a test sees a customer service window close without waiting."""
        clock = self.sandbox.clock
        body = json_body_or_none(request)
        if isinstance(body, dict) and isinstance(body.get("advance"), (int, float)):
            clock.advance(float(body["advance"]))
        elif isinstance(body, dict) and isinstance(body.get("now"), (int, float)):
            clock.set(float(body["now"]))
        else:
            return problem('send {"advance": seconds} or {"now": unix_time}')
        return json_response({"now": clock.now(), "offset": clock.offset})

    async def reset(self, request: Request) -> HTTPResponse:
        """POST /sandbox/reset: each test starts from a fresh sandbox, with no delivery of the last one left."""
        await self.sandbox.reset()
        return empty()

    async def verify(self, request: Request) -> HTTPResponse:
        """POST /sandbox/verify: Meta's subscription handshake against the gateway, on demand."""
        sandbox = self.sandbox
        assert sandbox.deliverer is not None
        body = json_body_or_none(request) or {}
        token = body.get("verify_token", sandbox.settings.verify_token) if isinstance(body, dict) else None
        challenge = str(secrets.randbelow(10**10))
        return json_response(await sandbox.deliverer.verify(str(token), challenge))

    async def webhook_log(self, request: Request) -> HTTPResponse:
        """GET /sandbox/webhooks: the latest delivery attempts, to see what the gateway answered."""
        attempts = list(self.sandbox.deliverer.log) if self.sandbox.deliverer else []
        return json_response({"attempts": [a.__dict__ for a in attempts[-int(request.args.get("limit", "200")) :]]})

    async def template_status(self, request: Request, name: str, language: str) -> HTTPResponse:
        """POST /sandbox/templates/{name}/{language}/status: a review outcome, announced by webhook as Meta does."""
        sandbox = self.sandbox
        assert sandbox.deliverer is not None
        body = json_body_or_none(request)
        status = body.get("status") if isinstance(body, dict) else None
        if status not in TEMPLATE_STATUSES:
            return problem(f"status must be one of {', '.join(TEMPLATE_STATUSES)}")
        waba_id = next(iter(sandbox.catalog.waba_names))
        try:
            template = sandbox.catalog.set_status(waba_id, name, language, status)
        except KeyError:
            return problem(f"no template {name} in {language}", status=404)
        payload = template_status_webhook(template, status, sandbox.clock.now(), str(body.get("reason", "NONE")))
        sandbox.spawn(sandbox.deliverer.deliver(payload, "template_status", template.id, Delivery()))
        return json_response(template.management_view())

    async def media_faults(self, request: Request, media_id: str) -> HTTPResponse:
        """POST /sandbox/media/{id}/faults {"fail": n}: the media's next n downloads answer 500 (131000)."""
        body = json_body_or_none(request)
        fail = body.get("fail") if isinstance(body, dict) else None
        if not isinstance(fail, int) or isinstance(fail, bool) or fail < 0:
            return problem('send {"fail": n}: how many of the next downloads fail, 0 or more')
        if media_id not in self.sandbox.threads.media:
            return problem(f"no media {media_id}", status=404)
        self.sandbox.threads.media_faults[media_id] = fail
        return json_response({"id": media_id, "fail": fail})

    async def guest_upload(self, request: Request) -> HTTPResponse:
        """POST /sandbox/guests/media (multipart `file`): a file the guest page attaches to a message. It is kept
        like an upload to `POST /{phone-number-id}/media`, with no token (the page plays the guest's phone, which
        sends its files through WhatsApp, not the business's API); the page then writes the message with its id."""
        upload = request.files.get("file") if request.files else None
        if upload is None or not upload.body:
            return problem("send a multipart form with a non-empty 'file'")
        media = self.sandbox.add_media(upload.body, upload.type or "application/octet-stream")
        return json_response(
            {"id": media.id, "mime_type": media.mime_type, "sha256": media.sha256, "file_size": len(media.data)}
        )


def add_control_routes(app: Sanic, sandbox: Sandbox) -> None:
    """Register each `ControlRoutes` handler; Sanic names each route after its handler, as before."""
    routes = ControlRoutes(sandbox)
    app.get("/sandbox/config")(routes.config)
    app.get("/sandbox/health")(routes.health)
    app.get("/sandbox/settings")(routes.get_settings)
    app.patch("/sandbox/settings")(routes.patch_settings)
    app.get("/sandbox/clock")(routes.get_clock)
    app.post("/sandbox/clock")(routes.move_clock)
    app.post("/sandbox/reset")(routes.reset)
    app.post("/sandbox/verify")(routes.verify)
    app.get("/sandbox/webhooks")(routes.webhook_log)
    app.post("/sandbox/templates/<name>/<language>/status")(routes.template_status)
    app.post("/sandbox/media/<media_id>/faults")(routes.media_faults)
    app.post("/sandbox/guests/media")(routes.guest_upload)
