"""The sandbox's Sanic app: the Cloud API's routes, the guest API and the guest phone page (the control API
is in `sandbox.control_routes`).

Route handlers stay thin: validation, webhook building, limits and the thread store live in their own
modules; this one wires them to HTTP and runs the background deliveries in a `BackgroundTasks`, which keeps
them referenced until done.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import random
import re
import secrets
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from sanic import Request, Sanic
from sanic.response import HTTPResponse, file, raw
from sanic.response import json as json_response

from background import BackgroundTasks
from sandbox.answers import json_body_or_none, problem
from sandbox.catalog import Catalog, PhoneNumber
from sandbox.clock import Clock
from sandbox.control_routes import add_control_routes
from sandbox.delivery import Deliverer, StatusBatcher
from sandbox.errors import GraphError, invalid, unknown_object
from sandbox.limits import PairLimiter, ThroughputLimiter
from sandbox.settings import SandboxSettings
from sandbox.threads import Entry, Media, Threads
from sandbox.validation import Outbound, ReadReceipt, validate_request
from sandbox.webhooks import (
    guest_message,
    inbound_webhook,
    new_wamid,
    pricing,
    status_item,
    statuses_webhook,
)

log = logging.getLogger("sandbox")
PAGE_DIR = Path(__file__).parent / "page"
VERSION = re.compile(r"^v\d+\.\d+$")
DIGITS = re.compile(r"^\d{6,15}$")
#: A 1x1 PNG, the picture a guest "sends" when a test asks for an image without giving one.
PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


class Sandbox:
    """Everything the routes share: settings, clock, catalog, threads, limits and the deliverer."""

    def __init__(self, settings: SandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.catalog = Catalog.load(settings.catalog_path)
        self.threads = Threads()
        self.throughput = ThroughputLimiter(settings.throughput_limit)
        self.pairs = PairLimiter(settings.pair_burst, settings.pair_interval)
        self.random = random.Random()
        self.client: httpx.AsyncClient | None = None
        self.deliverer: Deliverer | None = None
        self.statuses: StatusBatcher | None = None
        self.background = BackgroundTasks(log, "background delivery")

    def configure(self, settings: SandboxSettings) -> None:
        """Adopt new settings; the limiters start afresh when their limits change."""
        if (settings.throughput_limit, settings.pair_burst, settings.pair_interval) != (
            self.settings.throughput_limit,
            self.settings.pair_burst,
            self.settings.pair_interval,
        ):
            self.throughput = ThroughputLimiter(settings.throughput_limit)
            self.pairs = PairLimiter(settings.pair_burst, settings.pair_interval)
        self.settings = settings

    async def reset(self) -> None:
        """Start afresh: everything is cleared and the work under way cancelled before the first await, so no
        request sees a half-reset sandbox; then wait until that work has unwound. The work is cancelled even
        when the catalog fails to load again."""
        try:
            if self.statuses is not None:
                self.statuses.clear()
            self.threads.clear()
            self.throughput = ThroughputLimiter(self.settings.throughput_limit)
            self.pairs = PairLimiter(self.settings.pair_burst, self.settings.pair_interval)
            self.clock.offset = 0.0
            self.catalog = Catalog.load(self.settings.catalog_path)
        finally:
            await self.background.cancel()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run background work (deliveries, status chains) in the keeper that reset and shutdown cancel."""
        self.background.spawn(coroutine)

    def add_media(self, data: bytes, mime_type: str) -> Media:
        media = Media(id=str(secrets.randbelow(10**15) + 10**15), data=data, mime_type=mime_type)
        self.threads.media[media.id] = media
        return media


def create_app(settings: SandboxSettings, clock: Clock | None = None, name: str = "whatsapp_sandbox") -> Sanic:
    """Build the sandbox app; `clock` is injectable so tests in the same process can move time."""
    app = Sanic(name)
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1.0
    app.config.RESPONSE_TIMEOUT = 3600
    app.config.FALLBACK_ERROR_FORMAT = "json"
    sandbox = Sandbox(settings, clock or Clock())
    app.ctx.sandbox = sandbox

    @app.listener("before_server_start")
    async def open_client(app: Sanic, _: Any) -> None:
        sandbox.client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )
        sandbox.deliverer = Deliverer(sandbox.client, lambda: sandbox.settings)
        sandbox.statuses = StatusBatcher(sandbox.deliverer, lambda: sandbox.settings, statuses_webhook, sandbox.spawn)

    @app.listener("after_server_start")
    async def announce(app: Sanic, _: Any) -> None:
        base = sandbox.settings.base_url
        log.info("WhatsApp Cloud API sandbox ready: guest phone %s/ , Graph API %s/v23.0/", base, base)
        log.info("webhooks go to %s", sandbox.settings.webhook_url)

    @app.listener("before_server_stop")
    async def close_client(app: Sanic, _: Any) -> None:
        await sandbox.background.cancel()
        if sandbox.client is not None:
            await sandbox.client.aclose()

    @app.exception(GraphError)
    async def graph_error(request: Request, error: GraphError) -> HTTPResponse:
        return json_response(error.body(), status=error.http_status)

    _graph_routes(app, sandbox)
    _guest_routes(app, sandbox)
    add_control_routes(app, sandbox)
    app.static("/static", str(PAGE_DIR))

    @app.get("/")
    async def page(request: Request) -> HTTPResponse:
        return await file(PAGE_DIR / "index.html")

    return app


def _authorise(request: Request, sandbox: Sandbox) -> None:
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    if not secrets.compare_digest(token.encode(), sandbox.settings.access_token.encode()):
        raise GraphError(190, "Invalid OAuth access token")


def _business(sandbox: Sandbox, version: str, phone_number_id: str) -> PhoneNumber:
    if not VERSION.match(version):
        raise invalid(f"Unknown API version {version!r}; use the form v23.0.")
    number = sandbox.catalog.number(phone_number_id)
    if number is None:
        raise unknown_object(phone_number_id)
    return number


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"The request body is not valid JSON: {error}") from error


def _graph_routes(app: Sanic, sandbox: Sandbox) -> None:
    @app.post("/<version>/<phone_number_id>/messages")
    async def send(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        number = _business(sandbox, version, phone_number_id)
        body = _json_body(request)
        # Like Meta, a request that arrived is carried out even when its client stops waiting (a timeout):
        # Sanic cancels the handler of a closed connection, so the work is shielded from it.
        return await asyncio.shield(_carry_out(sandbox, number, body))

    @app.get("/<version>/<waba_id>/message_templates")
    async def templates(request: Request, version: str, waba_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        if waba_id not in sandbox.catalog.waba_names:
            raise unknown_object(waba_id)
        filters = {k: request.args.get(k) for k in ("name", "status", "category", "language")}
        matching = [
            t.management_view()
            for t in sandbox.catalog.templates(waba_id)
            if all(v is None or str(t.management_view()[k]).upper() == v.upper() for k, v in filters.items())
        ]
        return json_response(_page(matching, request))

    @app.post("/<version>/<phone_number_id>/media")
    async def upload(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        _business(sandbox, version, phone_number_id)
        upload = request.files.get("file")
        if upload is None or request.form.get("messaging_product") != "whatsapp":
            raise invalid("Upload a multipart 'file' with messaging_product=whatsapp.")
        media = sandbox.add_media(upload.body, request.form.get("type") or upload.type)
        return json_response({"id": media.id})

    @app.get(r"/<version>/<media_id:\d+>")
    async def media_info(request: Request, version: str, media_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        media = sandbox.threads.media.get(media_id)
        if media is None:
            raise unknown_object(media_id)
        return json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{sandbox.settings.base_url}/sandbox/media/{media.id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
            }
        )

    @app.get("/sandbox/media/<media_id>")
    async def media_download(request: Request, media_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        media = sandbox.threads.media.get(media_id)
        if media is None:
            raise unknown_object(media_id)
        return raw(media.data, content_type=media.mime_type)


def _page(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """A cursor-paged `data[]` answer, as the management API gives."""
    try:
        limit = max(1, min(int(request.args.get("limit", "25")), 100))
        after = request.args.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
    except ValueError as error:
        raise invalid(f"Invalid paging parameter: {error}") from error
    data = items[start : start + limit]
    cursors = {
        "before": base64.b64encode(str(start).encode()).decode(),
        "after": base64.b64encode(str(start + len(data)).encode()).decode(),
    }
    paging: dict[str, Any] = {"cursors": cursors}
    if start + limit < len(items):
        paging["next"] = f"{request.url.split('?')[0]}?limit={limit}&after={cursors['after']}"
    return {"data": data, "paging": paging}


async def _carry_out(sandbox: Sandbox, number: PhoneNumber, body: Any) -> HTTPResponse:
    await _inject_faults(sandbox)
    outcome = validate_request(body, number, sandbox.catalog, lambda media_id: media_id in sandbox.threads.media)
    if isinstance(outcome, ReadReceipt):
        return _mark_read(sandbox, number, outcome)
    return _accept(sandbox, number, outcome, body.get("to"))


async def _inject_faults(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    if settings.fault_delay_ms and sandbox.random.random() < settings.fault_delay_rate:
        await asyncio.sleep(settings.fault_delay_ms / 1000)
    if sandbox.random.random() < settings.fault_error_rate:
        raise GraphError(131000, "Injected fault: the sandbox was told to fail this share of requests.")


def _mark_read(sandbox: Sandbox, number: PhoneNumber, receipt: ReadReceipt) -> HTTPResponse:
    entry = sandbox.threads.by_wamid.get(receipt.message_id)
    if entry is None or entry.direction != "inbound" or entry.business != number.id:
        raise invalid(f"Invalid message_id {receipt.message_id!r}: no message from a guest to this number.")
    for earlier in sandbox.threads.thread(entry.wa_id, number.id):
        if earlier.direction == "inbound" and earlier.timestamp <= entry.timestamp and not earlier.read_by_business:
            earlier.read_by_business = True
            sandbox.threads.changed(earlier)
    return json_response({"success": True})


def _accept(sandbox: Sandbox, number: PhoneNumber, outbound: Outbound, to_input: str) -> HTTPResponse:
    now = sandbox.clock.now()
    if not sandbox.throughput.allow(number.id, now):
        raise GraphError(
            130429, f"Cloud API message throughput ({sandbox.settings.throughput_limit}/s) has been reached."
        )
    if not sandbox.pairs.allow(number.id, outbound.to, now):
        raise GraphError(
            131056, "Too many messages sent from this phone number to the same phone number in a short time."
        )
    window_open = sandbox.threads.window_open(number.id, outbound.to, now)
    window_closed = outbound.template is None and not window_open
    if window_closed and sandbox.settings.window_errors == "sync":
        raise GraphError(131047, _WINDOW_DETAILS)
    wamid = new_wamid()
    entry = Entry(
        wamid=wamid,
        business=number.id,
        wa_id=outbound.to,
        direction="outbound",
        type=outbound.type,
        content=outbound.content,
        text=outbound.preview,
        timestamp=now,
        context_id=outbound.context_id,
        callback_data=outbound.callback_data,
        template=(
            {
                "name": outbound.template.name,
                "language": outbound.template.language,
                "category": outbound.template.category,
                "parameters": list(outbound.template_parameters),
                "quick_replies": list(outbound.template.quick_replies),
            }
            if outbound.template
            else None
        ),
    )
    sandbox.threads.add(entry)
    if outbound.to in sandbox.settings.undeliverable:
        failure = GraphError(131026, "Message undeliverable: the recipient is not on WhatsApp or cannot receive it.")
    elif window_closed:
        failure = GraphError(131047, _WINDOW_DETAILS)
    else:
        failure = None
        sandbox.threads.replied(number.id, outbound.to, now)
    sandbox.spawn(_status_chain(sandbox, number, entry, outbound, window_open, failure))
    message: dict[str, Any] = {"id": wamid}
    if outbound.template is not None:
        message["message_status"] = "accepted"
    return json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to_input, "wa_id": outbound.to}],
            "messages": [message],
        }
    )


_WINDOW_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
)


async def _status_chain(
    sandbox: Sandbox,
    number: PhoneNumber,
    entry: Entry,
    outbound: Outbound,
    window_open: bool,
    failure: GraphError | None,
) -> None:
    """Send `sent`, `delivered`, `read` (or `failed`) for one accepted message, each acknowledged in turn."""
    delay = sandbox.settings.status_delay_ms / 1000
    if failure is not None:
        await asyncio.sleep(delay)
        await _send_status(sandbox, number, entry, "failed", errors=[failure.webhook_error()])
        return
    month = dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).strftime("%Y-%m")
    service_key = (number.id, month)
    price = pricing(
        outbound.template,
        window_open,
        dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).date(),
        sandbox.threads.service_sent.get(service_key, 0),
        sandbox.threads.in_entry_point(number.id, entry.wa_id, entry.timestamp),
    )
    if outbound.template is None:
        sandbox.threads.service_sent[service_key] = sandbox.threads.service_sent.get(service_key, 0) + 1
    conversation_id = hashlib.md5(f"{number.id}:{entry.wa_id}:{price['category']}".encode()).hexdigest()
    expires = sandbox.threads.window_expires(number.id, entry.wa_id)
    if expires is None or not window_open:
        expires = entry.timestamp + 24 * 3600
    steps = ("sent", "delivered", "read") if sandbox.settings.auto_read else ("sent", "delivered")
    if outbound.type == "reaction":
        steps = ("sent",)
    for status in steps:
        await asyncio.sleep(delay)
        await _send_status(
            sandbox,
            number,
            entry,
            status,
            pricing_object=price,
            conversation_id=conversation_id,
            window_expires=expires,
        )


async def _send_status(sandbox: Sandbox, number: PhoneNumber, entry: Entry, status: str, **extra: Any) -> None:
    assert sandbox.statuses is not None
    timestamp = sandbox.clock.now()
    record: dict[str, Any] = {"status": status, "timestamp": timestamp}
    if extra.get("errors"):
        record["errors"] = extra["errors"]
    sandbox.threads.add_status(entry, record)
    item = status_item(entry.wamid, status, timestamp, entry.wa_id, callback_data=entry.callback_data, **extra)
    await sandbox.statuses.submit(number, item, entry.delivery, lambda: sandbox.threads.changed(entry))


def _guest_routes(app: Sanic, sandbox: Sandbox) -> None:
    @app.post("/sandbox/guests/<wa_id>/messages")
    async def guest_writes(request: Request, wa_id: str) -> HTTPResponse:
        if not DIGITS.match(wa_id):
            return problem(f"wa_id {wa_id!r} must be the guest's number in digits, country code first (6-15 digits)")
        body = json_body_or_none(request)
        if not isinstance(body, dict):
            return problem('send a JSON object: {"to": "<phone_number_id>", "text": "..."} or {"message": {...}}')
        number = sandbox.catalog.number(str(body.get("to", "1000000001"))) or sandbox.catalog.number_by_display(
            str(body.get("to", "")).lstrip("+")
        )
        if number is None:
            known = ", ".join(sandbox.catalog.numbers)
            return problem(f"unknown business number {body.get('to')!r}; the sandbox serves {known}")
        partial = _guest_partial(sandbox, body)
        if isinstance(partial, str):
            return problem(partial)
        wamid = new_wamid()
        now = sandbox.clock.now()
        try:
            message = guest_message(partial, wa_id, wamid, now, body.get("reply_to"))
        except ValueError as error:
            return problem(str(error))
        name = str(body.get("name") or sandbox.catalog.guest_name(wa_id))
        entry = Entry(
            wamid=wamid,
            business=number.id,
            wa_id=wa_id,
            direction="inbound",
            type=message["type"],
            content=message,
            text=_inbound_preview(message),
            timestamp=now,
            context_id=(message.get("context") or {}).get("id"),
        )
        sandbox.threads.add(entry)
        payload = inbound_webhook(number, wa_id, name, message)
        sandbox.spawn(_deliver_inbound(sandbox, entry, payload))
        return json_response({"wamid": wamid, "message": message}, status=200)

    @app.get("/sandbox/guests/<wa_id>/messages")
    async def guest_thread(request: Request, wa_id: str) -> HTTPResponse:
        entries = sandbox.threads.thread(wa_id, request.args.get("business"))
        return json_response({"messages": [e.to_json() for e in entries]})

    @app.get("/sandbox/events")
    async def events(request: Request) -> None:
        wa_id, business = request.args.get("wa_id"), request.args.get("business")
        queue = sandbox.threads.listen()
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
                if wa_id in (None, event["wa_id"]) and business in (None, event["business"]):
                    await response.send(f"event: message\ndata: {json.dumps(event, ensure_ascii=False)}\n\n")
        finally:
            sandbox.threads.unlisten(queue)


def _guest_partial(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any] | str:
    """The guest's message object from `text` or `message`; a string says what is wrong."""
    if isinstance(body.get("text"), str) and body["text"]:
        return {"type": "text", "text": {"body": body["text"]}}
    message = body.get("message")
    if not isinstance(message, dict):
        return 'give "text" (a non-empty string) or "message" (a Meta inbound message object)'
    kind = message.get("type")
    if kind in MEDIA_KINDS:
        media = dict(message.get(kind) or {})
        if "id" not in media:
            mime = media.get("mime_type", "image/png" if kind in ("image", "sticker") else "application/octet-stream")
            stored = sandbox.add_media(PLACEHOLDER_PNG, mime)
            media.update(id=stored.id, mime_type=mime, sha256=stored.sha256)
        elif media["id"] not in sandbox.threads.media:
            return f"media id {media['id']!r} is unknown; omit the id and the sandbox makes one"
        else:
            stored = sandbox.threads.media[media["id"]]
            media.setdefault("mime_type", stored.mime_type)
            media.setdefault("sha256", stored.sha256)
        message = {**message, kind: media}
    return message


def _inbound_preview(message: dict[str, Any]) -> str:
    kind = message["type"]
    content = message.get(kind)
    if kind == "text":
        return content["body"]
    if kind == "interactive":
        reply = content.get(content.get("type"), {})
        return reply.get("title", "")
    if kind == "button":
        return content.get("text", "")
    if kind == "reaction":
        return content.get("emoji", "")
    if kind == "location":
        return f"📍 {content.get('name') or ''} {content.get('latitude')},{content.get('longitude')}".strip()
    if kind in MEDIA_KINDS:
        return f"[{kind}] {content.get('caption', '')}".strip()
    return f"[{kind}]"


async def _deliver_inbound(sandbox: Sandbox, entry: Entry, payload: dict[str, Any]) -> None:
    assert sandbox.deliverer is not None
    await sandbox.deliverer.deliver(
        payload, "message", entry.wamid, entry.delivery, lambda: sandbox.threads.changed(entry)
    )
