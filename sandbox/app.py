"""The sandbox's Sanic app: the Cloud API's routes and the guest phone page (the guest API is in
`sandbox.guests`, the control API in `sandbox.control_routes`).

Route handlers stay thin: validation, addressing, webhook building, limits, the template list and the thread
store live in their own modules; this one wires them to HTTP and runs the background deliveries in a
`BackgroundTasks`, which keeps them referenced until done.
"""

from __future__ import annotations

import asyncio
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

import aiohttp
from sanic import Request, Sanic
from sanic.response import HTTPResponse, file, raw
from sanic.response import json as json_response

from background import BackgroundTasks
from sandbox.addressing import status_recipient
from sandbox.catalog import Catalog, PhoneNumber
from sandbox.clock import Clock
from sandbox.control_routes import add_control_routes
from sandbox.delivery import Deliverer, StatusBatcher
from sandbox.errors import GraphError, invalid, unknown_object
from sandbox.guests import add_guest_routes
from sandbox.identities import Identity
from sandbox.limits import PairLimiter, ThroughputLimiter
from sandbox.media_rules import check_upload
from sandbox.settings import SandboxSettings
from sandbox.template_list import template_list, template_query
from sandbox.threads import Entry, Media, Threads
from sandbox.validation import Outbound, ReadReceipt, validate_request
from sandbox.webhooks import new_wamid, pricing, status_contact, status_item, statuses_webhook

log = logging.getLogger("sandbox")
PAGE_DIR = Path(__file__).parent / "page"
VERSION = re.compile(r"^v\d+\.\d+$")


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
        self.client: aiohttp.ClientSession | None = None
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

    def uploaded(self, media_id: str) -> tuple[str, int] | None:
        """A stored media id's type and size, for the send's checks; None for an unknown id."""
        media = self.threads.media.get(media_id)
        return (media.mime_type, len(media.data)) if media is not None else None

    def add_media(self, data: bytes, mime_type: str, media_id: str | None = None) -> Media:
        """Store media under `media_id` (a replayed webhook's), or under a fresh id like Meta's."""
        media = Media(id=media_id or str(secrets.randbelow(10**15) + 10**15), data=data, mime_type=mime_type)
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
        sandbox.client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10.0, connect=2.0), connector=aiohttp.TCPConnector(limit=100)
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
            await sandbox.client.close()

    @app.exception(GraphError)
    async def graph_error(request: Request, error: GraphError) -> HTTPResponse:
        return json_response(error.body(), status=error.http_status)

    _graph_routes(app, sandbox)
    add_guest_routes(app, sandbox)
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
        args = {key: str(request.args.get(key)) for key in request.args}
        listed = template_list(
            sandbox.catalog.templates(waba_id), template_query(args), request.url.split("?")[0], args
        )
        return json_response(listed)

    @app.post("/<version>/<phone_number_id>/media")
    async def upload(request: Request, version: str, phone_number_id: str) -> HTTPResponse:
        _authorise(request, sandbox)
        _business(sandbox, version, phone_number_id)
        upload = request.files.get("file")
        if upload is None or request.form.get("messaging_product") != "whatsapp":
            raise invalid("Upload a multipart 'file' with messaging_product=whatsapp.")
        mime_type = request.form.get("type") or upload.type
        check_upload(mime_type, len(upload.body))
        media = sandbox.add_media(upload.body, mime_type)
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
        if sandbox.threads.media_faults.get(media_id, 0) > 0:
            sandbox.threads.media_faults[media_id] -= 1
            raise GraphError(131000, "Injected fault: this media's download was told to fail.")
        return raw(media.data, content_type=media.mime_type)

    @app.get("/sandbox/phone/media/<media_id>")
    async def phone_media(request: Request, media_id: str) -> HTTPResponse:
        """The guest phone page's copy of a message's media: what the guest's WhatsApp shows, without Meta's
        token (a page's `<img>` cannot send one), never sniffed into a page of the sandbox's origin."""
        media = sandbox.threads.media.get(media_id)
        if media is None:
            raise unknown_object(media_id)
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}
        return raw(media.data, content_type=media.mime_type, headers=headers)


async def _carry_out(sandbox: Sandbox, number: PhoneNumber, body: Any) -> HTTPResponse:
    await _inject_faults(sandbox)
    outcome = validate_request(body, number, sandbox.catalog, sandbox.uploaded)
    if isinstance(outcome, ReadReceipt):
        return _mark_read(sandbox, number, outcome)
    return _accept(sandbox, number, outcome)


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
    for earlier in sandbox.threads.thread(entry.guest, number.id):
        if earlier.direction == "inbound" and earlier.timestamp <= entry.timestamp and not earlier.read_by_business:
            earlier.read_by_business = True
            sandbox.threads.changed(earlier)
    return json_response({"success": True})


def _accept(sandbox: Sandbox, number: PhoneNumber, outbound: Outbound) -> HTTPResponse:
    """Carry out a valid send as Meta does: the limits, the window, the guest's thread and, in the background,
    the status webhooks. The guest is the one the phone number or BSUID leads to (`sandbox.identities`). A
    BSUID in `to` is answered 200 and goes nowhere: a thread of its digits records it, with no status."""
    now = sandbox.clock.now()
    addressee = outbound.addressee
    if not sandbox.throughput.allow(number.id, now):
        raise GraphError(
            130429, f"Cloud API message throughput ({sandbox.settings.throughput_limit}/s) has been reached."
        )
    if addressee.lost:
        lost = _record(sandbox, number, outbound, addressee.guest_id, Identity(wa_id=addressee.wa_id), now)
        log.warning(
            "send %s named a business-scoped user ID in `to`: accepted, never delivered (use `recipient`)", lost.wamid
        )
        return _answer(outbound, lost.wamid)
    guest = sandbox.threads.guest_key(addressee.guest_id)
    if not sandbox.pairs.allow(number.id, guest, now):
        raise GraphError(
            131056, "Too many messages sent from this phone number to the same phone number in a short time."
        )
    window_open = sandbox.threads.window_open(number.id, guest, now)
    window_closed = outbound.template is None and not window_open
    if window_closed and sandbox.settings.window_errors == "sync":
        raise GraphError(131047, _WINDOW_DETAILS)
    known = sandbox.threads.identities.known(guest)
    recipient = status_recipient(addressee, known)
    entry = _record(sandbox, number, outbound, guest, recipient, now)
    failure = _failure(sandbox.settings.undeliverable, outbound, known is not None, window_closed)
    if failure is None:
        sandbox.threads.replied(number.id, guest, now)
    sandbox.spawn(_status_chain(sandbox, number, entry, outbound, recipient, window_open, failure))
    return _answer(outbound, entry.wamid)


def _record(
    sandbox: Sandbox, number: PhoneNumber, outbound: Outbound, guest: str, recipient: Identity, now: float
) -> Entry:
    """The business message in the guest's thread, with the ids its status webhooks name."""
    template = outbound.template
    entry = Entry(
        wamid=new_wamid(),
        business=number.id,
        guest=guest,
        wa_id=recipient.wa_id,
        user_id=recipient.user_id,
        direction="outbound",
        type=outbound.type,
        content=outbound.content,
        text=outbound.preview,
        timestamp=now,
        context_id=outbound.context_id,
        callback_data=outbound.callback_data,
        template=(
            {
                "name": template.name,
                "language": template.language,
                "category": template.category,
                "parameters": list(outbound.template_parameters),
                "quick_replies": list(template.quick_replies),
            }
            if template
            else None
        ),
    )
    sandbox.threads.add(entry)
    return entry


def _failure(
    undeliverable: tuple[str, ...], outbound: Outbound, guest_known: bool, window_closed: bool
) -> GraphError | None:
    """Why an accepted send fails afterwards (a `failed` status): a number set undeliverable, a BSUID no guest
    of this portfolio has, or the window closed with `window_errors=async`."""
    addressee = outbound.addressee
    if addressee.wa_id in undeliverable or addressee.user_id in undeliverable:
        return GraphError(131026, "Message undeliverable: the recipient is not on WhatsApp or cannot receive it.")
    if addressee.user_id is not None and not guest_known:
        return GraphError(131026, "Message undeliverable: no WhatsApp user has this business-scoped user ID here.")
    if window_closed:
        return GraphError(131047, _WINDOW_DETAILS)
    return None


def _answer(outbound: Outbound, wamid: str) -> HTTPResponse:
    """Meta's answer to an accepted send: the recipient as the request named it, and the new wamid."""
    message: dict[str, Any] = {"id": wamid}
    if outbound.template is not None:
        message["message_status"] = "accepted"
    return json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [outbound.addressee.answer_contact()],
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
    recipient: Identity,
    window_open: bool,
    failure: GraphError | None,
) -> None:
    """Send `sent`, `delivered`, `read` (or `failed`) for one accepted message, each acknowledged in turn."""
    delay = sandbox.settings.status_delay_ms / 1000
    to_phone = outbound.addressee.to_phone
    if failure is not None:
        await asyncio.sleep(delay)
        await _send_status(
            sandbox, number, entry, recipient, "failed", to_phone=to_phone, errors=[failure.webhook_error()]
        )
        return
    month = dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).strftime("%Y-%m")
    service_key = (number.id, month)
    price = pricing(
        outbound.template,
        window_open,
        dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).date(),
        sandbox.threads.service_sent.get(service_key, 0),
        sandbox.threads.in_entry_point(number.id, entry.guest, entry.timestamp),
    )
    if outbound.template is None:
        sandbox.threads.service_sent[service_key] = sandbox.threads.service_sent.get(service_key, 0) + 1
    conversation_id = hashlib.md5(f"{number.id}:{entry.guest}:{price['category']}".encode()).hexdigest()
    expires = sandbox.threads.window_expires(number.id, entry.guest)
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
            recipient,
            status,
            to_phone=to_phone,
            pricing_object=price,
            conversation_id=conversation_id,
            window_expires=expires,
        )


async def _send_status(
    sandbox: Sandbox, number: PhoneNumber, entry: Entry, recipient: Identity, status: str, **extra: Any
) -> None:
    assert sandbox.statuses is not None
    timestamp = sandbox.clock.now()
    record: dict[str, Any] = {"status": status, "timestamp": timestamp}
    if extra.get("errors"):
        record["errors"] = extra["errors"]
    sandbox.threads.add_status(entry, record)
    item = status_item(entry.wamid, status, timestamp, recipient, callback_data=entry.callback_data, **extra)
    await sandbox.statuses.submit(
        number, item, entry.delivery, lambda: sandbox.threads.changed(entry), status_contact(recipient, status)
    )
