"""The automations API (automation-role tokens): queue one message or a batch, follow them, list and sync
templates, and report costs.

    POST /api/v1/messages           one message: 202 with its id, what will be sent, when, and its price
    GET  /api/v1/messages/{id}      its state (queued ... sent, delivered, read, failed), error and cost
    POST /api/v1/batches            up to 10,000 messages: 202 at once with the batch id
    GET  /api/v1/batches/{id}       progress counts and each message's outcome
    GET  /api/v1/templates          the synced catalog: each template's status, quality score, upcoming category
    POST /api/v1/templates/sync     sync it again from the management API
    GET  /api/v1/reports/costs      a month's costs (JSON, or CSV with Accept: text/csv or ?format=csv)

Bad input gets 422 listing every problem; a message that cannot be sent as asked (closed window, opted-out
guest, no approved template, over budget) gets 409 with the reason; nothing is accepted that is not queued.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text

from connectors.whatsapp.api.auth import requires, token_of
from connectors.whatsapp.api.limits import IDEMPOTENCY_KEY_MAX
from connectors.whatsapp.api.responses import problem
from connectors.whatsapp.automations.outbox_records import NewMessage, OutboxEntry
from connectors.whatsapp.automations.requests import MessageRequest, Problem, Refusal, read_batch, read_message
from connectors.whatsapp.costs import Charge, cost_report, month_bounds, month_messages, reconcile, report_csv

if TYPE_CHECKING:
    from connectors.whatsapp.automations.runtime import AutomationRuntime
    from connectors.whatsapp.gateway import Gateway

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_ID = re.compile(r"[0-9]{1,10}")
ID_MAX = 2**31 - 1
"""The largest id the outbox's integer column holds (PostgreSQL's `integer`): a larger one names no message."""
IDEMPOTENCY_HEADER = "idempotency-key"


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, timezone.utc).isoformat()


def _cost_of(charge: Charge | None) -> dict[str, Any] | None:
    if charge is None:
        return None
    return {
        "category": charge.category,
        "market": charge.market,
        "billable": charge.billable,
        "amount": None if charge.amount is None else str(charge.amount),
        "currency": charge.currency,
        "reason": charge.reason,
    }


def _accepted(message_id: int, message: NewMessage) -> dict[str, Any]:
    body = message.body
    template = body.get("template") if body.get("type") == "template" else None
    return {
        "id": str(message_id),
        "state": message.state,
        "business": message.business_id,
        "to": message.wa_id,
        "kind": body.get("type"),
        "template": (
            {"name": message.template_name, "language": message.template_language, "category": message.category}
            if template
            else None
        ),
        "text": (body.get("text") or {}).get("body") if body.get("type") == "text" else None,
        "language": message.language,
        "window_open": message.in_window,
        "due_at": _iso(message.due_at),
        "urgent": message.urgent,
        "cost": _cost_of(message.charge),
    }


def _error(entry: OutboxEntry) -> dict[str, Any] | None:
    error = entry.error
    return None if error is None else {"code": error.code, "title": error.title, "details": error.details}


def _invalid(problems: list[Problem]) -> tuple[int, dict[str, Any]]:
    return 422, {
        "error": {
            "code": "invalid_request",
            "message": f"{len(problems)} problem(s) with the request; nothing was queued",
            "problems": [p.as_json() for p in problems],
        }
    }


def _refused(refusal: Refusal) -> tuple[int, dict[str, Any]]:
    return refusal.status, {"error": {"code": refusal.code, "message": refusal.message}}


class AutomationRoutes:
    """The automations API's handlers, one method per route, bound to the gateway they serve so tests and
    tools can reach each one; `add_routes` puts the token check in front of them."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def _runtime(self) -> AutomationRuntime:
        """The started automations runtime; a request before the gateway started is a bug, not a 4xx."""
        if self.gateway.automation is None:
            raise RuntimeError("the WhatsApp gateway has not started")
        return self.gateway.automation

    async def send_message(self, request: Request) -> HTTPResponse:
        """POST /api/v1/messages: an Idempotency-Key seen before answers what it answered the first time."""
        parts = self._runtime()
        token = token_of(request)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
            return problem(422, "invalid_request", f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters")
        idempotency = (token.name, key) if key else None
        if idempotency is not None:
            first = await parts.outbox.remembered(idempotency)
            if first is not None:
                return json(first[1], status=first[0], headers={"Idempotent-Replay": "true"})
        raw = _json_body(request)
        read = read_message(raw, parts.hotels) if raw is not _NOT_JSON else [Problem("body", "must be JSON")]
        if isinstance(read, MessageRequest):
            denied = _forbidden(request, read.business_id)
            if denied is not None:
                return denied
        status, body, replay = await _decide_and_queue(
            parts, read, f"automation:{token.name}", idempotency, self.gateway
        )
        headers = {"Idempotent-Replay": "true"} if replay else None
        return json(body, status=status, headers=headers)

    async def get_message(self, request: Request, message_id: str) -> HTTPResponse:
        """GET /api/v1/messages/{id}: another business's message is refused, not hidden. An id that is no
        integer the store could hold (`abc`, `4294967296`) names no message: 404 like any other."""
        number = int(message_id) if _ID.fullmatch(message_id) else 0
        entry = await self._runtime().outbox.message(number) if 0 < number <= ID_MAX else None
        if entry is None:
            return problem(404, "not_found", f"no automation message {message_id}")
        denied = _forbidden(request, entry.business_id)
        if denied is not None:
            return denied
        return json(_message_json(entry))

    async def send_batch(self, request: Request) -> HTTPResponse:
        """POST /api/v1/batches: 202 once every message is decided and queued; the dispatcher sends them."""
        parts = self._runtime()
        raw = _json_body(request)
        read = read_batch(raw, parts.hotels) if raw is not _NOT_JSON else [Problem("body", "must be JSON")]
        if isinstance(read, list):
            status, body = _invalid(read)
            return json(body, status=status)
        business_id, requests = read
        denied = _forbidden(request, business_id)
        if denied is not None:
            return denied
        batch_id, decided = await parts.automations.queue_batch(
            business_id, requests, f"automation:{token_of(request).name}"
        )
        parts.dispatcher.wake()
        counts: dict[str, int] = {}
        for item in decided:
            counts[item.state] = counts.get(item.state, 0) + 1
        return json({"id": batch_id, "business": business_id, "total": len(decided), "counts": counts}, status=202)

    async def get_batch(self, request: Request, batch_id: str) -> HTTPResponse:
        """GET /api/v1/batches/{id}: done once no message is still queued or sending."""
        found = await self._runtime().outbox.batch(batch_id)
        if found is None:
            return problem(404, "not_found", f"no batch {batch_id}")
        batch, entries = found
        denied = _forbidden(request, batch.business_id)
        if denied is not None:
            return denied
        counts: dict[str, int] = {}
        outcomes = []
        for entry in entries:
            state = entry.shown_state
            counts[state] = counts.get(state, 0) + 1
            outcomes.append(
                {"id": str(entry.id), "to": entry.wa_id, "state": state, "wamid": entry.wamid, "error": _error(entry)}
            )
        pending = sum(counts.get(state, 0) for state in ("queued", "sending"))
        return json(
            {
                "id": batch.id,
                "business": batch.business_id,
                "created_at": _iso(batch.created_at),
                "total": batch.total,
                "done": pending == 0,
                "counts": counts,
                "messages": outcomes,
            }
        )

    async def list_templates(self, request: Request) -> HTTPResponse:
        """GET /api/v1/templates: read fresh, so a status changed at Meta shows at once."""
        parts = self._runtime()
        business = request.args.get("business")
        hotels = [h for h in parts.hotels.values() if business in (None, h.phone_number_id)]
        if not hotels:
            return problem(422, "invalid_request", f"unknown business {business!r}")
        wabas = sorted({h.business_account_id for h in hotels})
        result = []
        for waba_id in wabas:
            reviews = await parts.catalog.reviews(waba_id)
            for t in await parts.catalog.templates_of(waba_id, fresh=True):
                review = reviews.get((t.name, t.language))
                result.append(
                    {
                        "waba_id": waba_id,
                        "name": t.name,
                        "language": t.language,
                        "category": t.category,
                        "status": t.status,
                        "parameters": t.parameter_count,
                        "sendable": t.approved,
                        "quality_score": review.quality_score if review else None,
                        "upcoming_category": review.upcoming(self.gateway.clock()) if review else None,
                    }
                )
        return json({"templates": result})

    async def sync_templates(self, request: Request) -> HTTPResponse:
        """POST /api/v1/templates/sync: 502 when any business account could not be synced."""
        results = await self._runtime().sync_templates()
        failed = {waba: result for waba, result in results.items() if isinstance(result, str)}
        status = 502 if failed else 200
        return json(
            {"synced": {w: r for w, r in results.items() if isinstance(r, int)}, "failed": failed}, status=status
        )

    async def costs(self, request: Request) -> HTTPResponse:
        """GET /api/v1/reports/costs: agents may read it too, for the hotels their token may act for."""
        parts = self._runtime()
        business = request.args.get("business")
        month = request.args.get("month")
        problems = []
        if business not in parts.hotels:
            problems.append(Problem("business", f"required: one of {sorted(parts.hotels)}"))
        if not month or not _MONTH.fullmatch(month):
            problems.append(Problem("month", "required, as YYYY-MM"))
        if problems:
            status, body = _invalid(problems)
            return json(body, status=status)
        assert business is not None
        assert month is not None
        denied = _forbidden(request, business)
        if denied is not None:
            return denied
        start = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
        since, until = month_bounds(start)
        hotel = parts.hotels[business]
        templates = await parts.catalog.templates_of(hotel.business_account_id)
        changes = await parts.catalog.category_changes(hotel.business_account_id)
        sent = await month_messages(self.gateway.store, business, since, until, templates, changes)
        report = cost_report(parts.card, business, month, sent)
        wants_csv = request.args.get("format") == "csv" or "text/csv" in request.headers.get("accept", "")
        if wants_csv:
            return text(
                report_csv(report),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="costs-{business}-{month}.csv"'},
            )
        return json(report.as_json())


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    """Register each `AutomationRoutes` handler behind its token check; Sanic names each route after its
    handler (`requires` keeps the name), so the names stay those `url_for` and the blueprint know."""
    routes = AutomationRoutes(gateway)
    automation = requires(gateway, "automation")
    blueprint.add_route(automation(routes.send_message), "/api/v1/messages", methods=["POST"])
    blueprint.add_route(automation(routes.get_message), "/api/v1/messages/<message_id>", methods=["GET"])
    blueprint.add_route(automation(routes.send_batch), "/api/v1/batches", methods=["POST"])
    blueprint.add_route(automation(routes.get_batch), "/api/v1/batches/<batch_id>", methods=["GET"])
    blueprint.add_route(automation(routes.list_templates), "/api/v1/templates", methods=["GET"])
    blueprint.add_route(automation(routes.sync_templates), "/api/v1/templates/sync", methods=["POST"])
    costs = requires(gateway, "automation", "agent")(routes.costs)
    blueprint.add_route(costs, "/api/v1/reports/costs", methods=["GET"])


def _forbidden(request: Request, business_id: str) -> HTTPResponse | None:
    """A 403 when the caller's token may not act for `business_id`, else None."""
    token = token_of(request)
    if token.may_act_for(business_id):
        return None
    return problem(403, "forbidden", f"token {token.name!r} may not act for business {business_id}")


_NOT_JSON = object()


def _json_body(request: Request) -> Any:
    try:
        return request.json
    except Exception:
        return _NOT_JSON


async def _decide_and_queue(
    parts: AutomationRuntime,
    read: MessageRequest | list[Problem],
    origin: str,
    idempotency: tuple[str, str] | None,
    gateway: Gateway,
) -> tuple[int, dict[str, Any], bool]:
    """(status, answer, replayed): queue an accepted message, or refuse it; either answer is kept under the
    idempotency key, so the same key twice answers the same."""
    now = gateway.clock()
    if isinstance(read, list):
        status, body = _invalid(read)
    else:
        [read] = await parts.automations.filed([read])
        facts = (await parts.automations.guest_facts(read.business_id, [read.guest.wa_id]))[read.guest.wa_id]
        decided = await parts.automations.decide(read, origin, facts)
        if isinstance(decided, Refusal):
            status, body = _refused(decided)
        else:
            message: NewMessage = decided
            queued, answer = await parts.outbox.add(message, now, idempotency, lambda i: (202, _accepted(i, message)))
            if queued is None:
                first_status, first_body = answer  # type: ignore[misc]
                return first_status, first_body, True
            parts.dispatcher.wake()
            return 202, answer, False  # type: ignore[return-value]
    if idempotency is not None:
        first_status, first_body = await parts.outbox.remember(idempotency, status, body, now)
        return first_status, first_body, first_body is not body
    return status, body, False


def _message_json(entry: OutboxEntry) -> dict[str, Any]:
    reported = entry.delivery.pricing if entry.delivery is not None else None
    reconciliation = None
    if entry.charge is not None and reported is not None:
        differences = reconcile(entry.charge, reported)
        reconciliation = {"matches": not differences, "differences": list(differences), "reported": reported.as_json()}
    return {
        "id": str(entry.id),
        "batch": entry.batch_id,
        "business": entry.business_id,
        "to": entry.wa_id,
        "state": entry.shown_state,
        "queue_state": entry.state,
        "kind": entry.body.get("type"),
        "template": (
            {"name": entry.template_name, "language": entry.template_language, "category": entry.category}
            if entry.template_name
            else None
        ),
        "purpose": entry.purpose,
        "wamid": entry.wamid,
        "due_at": _iso(entry.due_at),
        "sent_at": _iso(entry.sent_at),
        "attempts": entry.attempts,
        "error": _error(entry),
        "cost": _cost_of(entry.charge),
        "reconciliation": reconciliation,
    }
