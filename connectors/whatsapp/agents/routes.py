"""The agents' API: list and search conversations, read a thread, take over, reply, send a template or a
file (`attachments`) and give back. Agent tokens only (automation tokens get 403); a thread of a hotel the
token may not act for is answered 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.whatsapp.agents.attachments import Attachments, read_upload
from connectors.whatsapp.agents.desk import AgentDesk, DeskError, GuestContext, Sent
from connectors.whatsapp.agents.desk_log import DeskLog, desk_filters
from connectors.whatsapp.agents.guest_reservations import reservation_json
from connectors.whatsapp.agents.queries import MAX_PAGE, ConversationQuery, ConversationSummary
from connectors.whatsapp.api.auth import requires, token_of
from connectors.whatsapp.api.bodies import json_object
from connectors.whatsapp.api.responses import problem
from connectors.whatsapp.handoff import HandoffChange

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

THREAD = "/api/v1/conversations/<business_id>/<wa_id>"
STATES = ("bot", "queue", "agent", "held")


class AgentRoutes:
    """The agents' API handlers, one method per route, bound to the gateway they serve so tests and tools
    can reach each one; `add_routes` puts the agent-token check in front of them."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.desk_log = DeskLog(gateway.store)

    async def list_conversations(self, request: Request) -> HTTPResponse:
        """GET /api/v1/conversations: a page of the token's hotels' threads; next_cursor is null on the last."""
        try:
            query = _list_query(request)
        except ValueError as error:
            return problem(422, "invalid_query", str(error))
        page = await self.gateway.queries.page(query, self.gateway.clock())
        now = self.gateway.clock()
        next_cursor = str(query.offset + len(page)) if len(page) == query.limit else None
        return json({"conversations": [c.to_json(now) for c in page], "next_cursor": next_cursor})

    async def search(self, request: Request) -> HTTPResponse:
        """GET /api/v1/search: matching messages, and threads found by text, number or reservation name."""
        text = (request.args.get("q") or "").strip()
        if len(text) < 2:
            return problem(422, "invalid_query", "q must have at least 2 characters: words, a phone number or a name")
        hotels = token_of(request).hotels
        named = await _desk(self.gateway).reserved_threads(hotels, text)
        found_messages, threads = await self.gateway.queries.search(text, hotels, named)
        now = self.gateway.clock()
        return json({"messages": found_messages, "conversations": [c.to_json(now) for c in threads]})

    async def read_thread(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """GET a thread with what an agent needs to answer: handoff history, held replies, reservation."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        desk = _desk(self.gateway)
        context = await _context(desk, summary)
        now = self.gateway.clock()
        events = await self.gateway.handoffs.store.events_of(business_id, wa_id)
        return json(
            {
                "conversation": summary.to_json(now),
                "messages": await self.gateway.queries.thread(business_id, wa_id),
                "handoff_events": [e.to_json() for e in events],
                "desk_events": [e.to_json() for e in await self.desk_log.events_of(business_id, wa_id)],
                "held_replies": [r.to_json() for r in await desk.held.waiting(business_id, wa_id)],
                "reservation": reservation_json(context.reservation, context.language) if context.reservation else None,
                "hotel": {"name": context.hotel.name} if context.hotel else None,
                "language": context.language,
            }
        )

    async def templates(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """GET the templates an agent may send to this guest, in the guest's language."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        desk = _desk(self.gateway)
        context = await _context(desk, summary)
        offers = await desk.template_offers(business_id, context)
        return json({"language": context.language, "templates": [o.to_json() for o in offers]})

    async def take_over(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST takeover: the bot stays quiet in this thread until released."""
        if await _visible(self.gateway, request, business_id, wa_id) is None:
            return _not_found()
        return await _acting(lambda: _desk(self.gateway).take_over(business_id, wa_id, token_of(request).name))

    async def release(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST release: give the thread back to the bot."""
        if await _visible(self.gateway, request, business_id, wa_id) is None:
            return _not_found()
        return await _acting(lambda: _desk(self.gateway).release(business_id, wa_id, token_of(request).name))

    async def reply(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST reply: a free-form message from the agent, inside the customer service window."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        body = json_object(request)
        text, reopen = body.get("text"), body.get("reopen", False)
        if not isinstance(text, str) or not text.strip() or not isinstance(reopen, bool):
            return problem(
                422, "invalid_body", 'send {"text": "...", "reopen": false}: text non-empty, reopen a boolean'
            )
        desk = _desk(self.gateway)
        context = await _context(desk, summary)
        try:
            sent = await desk.reply(business_id, wa_id, token_of(request).name, text.strip(), context, reopen)
        except DeskError as error:
            return problem(error.status, error.code, error.message, **error.details)
        return _sent(sent)

    async def send_template(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST template: an approved template, the one way to write once the window has closed."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        body = json_object(request)
        name, language, parameters = body.get("name"), body.get("language"), body.get("parameters", [])
        valid = isinstance(name, str) and isinstance(language, str) and isinstance(parameters, list)
        if not valid or not all(isinstance(p, str) for p in parameters):
            return problem(
                422, "invalid_body", 'send {"name": "...", "language": "es", "parameters": ["...", ...]} (strings)'
            )
        desk = _desk(self.gateway)
        context = await _context(desk, summary)
        try:
            sent = await desk.send_template(
                business_id, wa_id, token_of(request).name, name, language, parameters, context
            )
        except DeskError as error:
            return problem(error.status, error.code, error.message, **error.details)
        return _sent(sent)

    async def send_attachment(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST attachments: a file (multipart `file`, optional `caption`), sent as the kind its bytes are."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        desk, graph, sender = _desk(self.gateway), self.gateway.graph, self.gateway.sender
        if graph is None or sender is None:
            raise RuntimeError("the gateway has not started")
        try:
            upload = await read_upload(request)
            context = await _context(desk, summary)
            sent = await Attachments(desk, graph, sender, self.gateway.media).send(
                business_id, wa_id, token_of(request).name, upload, context
            )
        except DeskError as error:
            return problem(error.status, error.code, error.message, **error.details)
        return _sent(sent.sent, attachment=sent.to_json())


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    """Register each `AgentRoutes` handler behind the agent-token check; Sanic names each route after its
    handler (`requires` keeps the name), so the names stay those `url_for` and the blueprint know."""
    routes = AgentRoutes(gateway)
    agent = requires(gateway, "agent")
    blueprint.add_route(agent(routes.list_conversations), "/api/v1/conversations", methods=["GET"])
    blueprint.add_route(agent(routes.search), "/api/v1/search", methods=["GET"])
    blueprint.add_route(agent(routes.read_thread), THREAD, methods=["GET"])
    blueprint.add_route(agent(routes.templates), f"{THREAD}/templates", methods=["GET"])
    blueprint.add_route(agent(routes.take_over), f"{THREAD}/takeover", methods=["POST"])
    blueprint.add_route(agent(routes.release), f"{THREAD}/release", methods=["POST"])
    blueprint.add_route(agent(routes.reply), f"{THREAD}/reply", methods=["POST"])
    blueprint.add_route(agent(routes.send_template), f"{THREAD}/template", methods=["POST"])
    blueprint.add_route(agent(routes.send_attachment), f"{THREAD}/attachments", methods=["POST"], stream=True)


def _desk(gateway: Gateway) -> AgentDesk:
    if gateway.desk is None:
        raise RuntimeError("the gateway has not started")
    return gateway.desk


async def _visible(gateway: Gateway, request: Request, business_id: str, wa_id: str) -> ConversationSummary | None:
    if not token_of(request).may_act_for(business_id):
        return None
    return await gateway.queries.summary(business_id, wa_id)


async def _context(desk: AgentDesk, summary: ConversationSummary) -> GuestContext:
    return await desk.context(summary.business_id, summary.wa_id, summary.profile_name, summary.last_inbound_at)


def _not_found() -> HTTPResponse:
    return problem(404, "not_found", "no such conversation among the hotels this token may act for")


async def _acting(action: Any) -> HTTPResponse:
    try:
        change: HandoffChange = await action()
    except DeskError as error:
        return problem(error.status, error.code, error.message, **error.details)
    return json({"handoff": change.after.to_json(), "changed": change.changed})


def _sent(sent: Sent, **extra: Any) -> HTTPResponse:
    outcomes = [
        {
            "state": o.state,
            "wamid": o.wamid,
            "error_code": o.error_code,
            "error_title": o.error_title,
            "reason": o.reason,
        }
        for o in sent.outcomes
    ]
    failed = next((o for o in sent.outcomes if o.state == "failed"), None)
    if failed is not None:
        return problem(
            502,
            "send_failed",
            f"WhatsApp refused the message: {failed.error_title}",
            error_code=failed.error_code,
            error_title=failed.error_title,
            messages=outcomes,
            **extra,
        )
    blocked = next((o for o in sent.outcomes if o.state == "blocked"), None)
    if blocked is not None:
        return problem(
            409, "window_closed", blocked.reason or "customer service window closed", messages=outcomes, **extra
        )
    held = sent.held_reply.to_json() if sent.held_reply else None
    return json({"messages": outcomes, "handoff": sent.handoff.after.to_json(), "held_reply": held, **extra})


def _list_query(request: Request) -> ConversationQuery:
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    window = request.args.get("window")
    if window not in (None, "open", "closed"):
        raise ValueError("window must be open or closed")
    try:
        limit = int(request.args.get("limit", "50"))
        offset = int(request.args.get("cursor", "0"))
    except ValueError as error:
        raise ValueError("limit and cursor must be whole numbers") from error
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"limit must be 1-{MAX_PAGE} and cursor a next_cursor from an earlier page")
    return ConversationQuery(
        hotels=token_of(request).hotels,
        hotel=request.args.get("hotel"),
        state=state,
        window_open=None if window is None else window == "open",
        limit=limit,
        offset=offset,
        **desk_filters(request.args.get("status"), request.args.get("assignee"), token_of(request).name),
    )
