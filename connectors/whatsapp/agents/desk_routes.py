"""The front desk's routes of the agents' API: internal notes, assignment, resolving, saved replies.

Same rules as `routes`: agent tokens only, and a thread (or a hotel's saved replies) the token may not act
for is 404, exactly like one that does not exist. Each change is a `desk_log` event: in the thread read
(`desk_events`) and in the event stream (`desk`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.whatsapp.agents.desk import DeskError
from connectors.whatsapp.agents.desk_log import DeskLog
from connectors.whatsapp.agents.placeholders import PLACEHOLDERS, fill, thread_values, unknown_placeholders
from connectors.whatsapp.agents.routes import THREAD, _context, _desk, _not_found, _visible
from connectors.whatsapp.agents.saved_replies import MAX_TEXT, SavedReplies, normalized_code
from connectors.whatsapp.api.auth import requires, token_of
from connectors.whatsapp.api.bodies import json_object
from connectors.whatsapp.api.responses import problem

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

MAX_NOTE = 10_000


class DeskRoutes:
    """One method per route, bound to the gateway; `add_routes` puts the agent-token check in front."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.log = DeskLog(gateway.store)
        self.saved = SavedReplies(gateway.store)

    async def note(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST notes: an internal note, for agents only; nothing is sent and the bot never sees it."""
        if await _visible(self.gateway, request, business_id, wa_id) is None:
            return _not_found()
        text = json_object(request).get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
            return problem(422, "invalid_body", f'send {{"text": "..."}}: non-empty, at most {MAX_NOTE} characters')
        event = await self.log.note(business_id, wa_id, token_of(request).name, text.strip(), self.gateway.clock())
        return json({"event": event.to_json()}, status=201)

    async def assign(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST assign: `{"agent": "<token name>"}` names who should answer; `{"agent": null}` unassigns."""
        if await _visible(self.gateway, request, business_id, wa_id) is None:
            return _not_found()
        body = json_object(request)
        agent = body.get("agent", ...)
        agents = self._agents_of(business_id)
        if agent is not None and agent not in agents:
            return problem(
                422,
                "unknown_agent",
                f'send {{"agent": "<name>"}} with the name of an agent token that may act for {business_id}, '
                'or {"agent": null} to unassign',
                agents=agents,
            )
        event = await self.log.assign(business_id, wa_id, token_of(request).name, agent, self.gateway.clock())
        return await self._answer(business_id, wa_id, event)

    async def resolve(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """POST resolve: the thread goes back to the bot and leaves the open list until the guest writes."""
        if await _visible(self.gateway, request, business_id, wa_id) is None:
            return _not_found()
        name = token_of(request).name
        try:
            change = await _desk(self.gateway).release(business_id, wa_id, name)
        except DeskError as error:
            return problem(error.status, error.code, error.message, **error.details)
        event = await self.log.resolve(business_id, wa_id, name, self.gateway.clock())
        return await self._answer(business_id, wa_id, event, handoff=change.after.to_json())

    async def thread_saved_replies(self, request: Request, business_id: str, wa_id: str) -> HTTPResponse:
        """GET the hotel's saved replies filled for this thread (placeholders it cannot fill in `missing`)."""
        summary = await _visible(self.gateway, request, business_id, wa_id)
        if summary is None:
            return _not_found()
        values = thread_values(await _context(_desk(self.gateway), summary))
        replies = []
        for reply in await self.saved.of(business_id):
            filled = fill(reply.text, values)
            replies.append({**reply.to_json(), "filled": filled.text, "missing": list(filled.missing)})
        return json({"saved_replies": replies})

    async def saved_replies(self, request: Request) -> HTTPResponse:
        """GET ?business=: the hotel's saved replies, and the placeholders they may hold."""
        business_id = request.args.get("business")
        if not business_id:
            return _no_business()
        if not token_of(request).may_act_for(business_id):
            return _no_hotel()
        replies = [r.to_json() for r in await self.saved.of(business_id)]
        return json({"saved_replies": replies, "placeholders": dict(PLACEHOLDERS)})

    async def save_reply(self, request: Request) -> HTTPResponse:
        """POST ?business= `{"code", "text"}`: keep a saved reply (a code saved again gets the new text)."""
        business_id = request.args.get("business")
        if not business_id:
            return _no_business()
        if not token_of(request).may_act_for(business_id):
            return _no_hotel()
        body = json_object(request)
        code, text = body.get("code"), body.get("text")
        bare = normalized_code(code) if isinstance(code, str) else None
        if bare is None or not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return problem(
                422,
                "invalid_body",
                f'send {{"code": "/wifi", "text": "..."}}: a code of letters, digits, _ or - (up to 32), '
                f"a non-empty text of at most {MAX_TEXT} characters",
            )
        unknown = unknown_placeholders(text)
        if unknown:
            return problem(
                422,
                "unknown_placeholder",
                f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use one of "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS),
                unknown=unknown,
                placeholders=list(PLACEHOLDERS),
            )
        reply = await self.saved.save(business_id, bare, text.strip(), token_of(request).name, self.gateway.clock())
        return json({"saved_reply": reply.to_json()}, status=201)

    async def delete_reply(self, request: Request) -> HTTPResponse:
        """DELETE ?business=&code=: forget a saved reply."""
        business_id = request.args.get("business")
        if not business_id:
            return _no_business()
        bare = normalized_code(request.args.get("code") or "")
        if not token_of(request).may_act_for(business_id) or bare is None:
            return _no_hotel()
        if not await self.saved.delete(business_id, bare):
            return problem(404, "not_found", f"no saved reply /{bare} at {business_id}")
        return json({"deleted": bare})

    def _agents_of(self, business_id: str) -> list[str]:
        tokens = self.gateway.settings.api_tokens
        return sorted({t.name for t in tokens if t.role == "agent" and t.may_act_for(business_id)})

    async def _answer(self, business_id: str, wa_id: str, event: Any, **extra: Any) -> HTTPResponse:
        summary = await self.gateway.queries.summary(business_id, wa_id)
        assert summary is not None, "a visible thread is never deleted"
        conversation = summary.to_json(self.gateway.clock())
        return json({"conversation": conversation, "event": event.to_json(), **extra})


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    routes = DeskRoutes(gateway)
    agent = requires(gateway, "agent")
    blueprint.add_route(agent(routes.note), f"{THREAD}/notes", methods=["POST"])
    blueprint.add_route(agent(routes.assign), f"{THREAD}/assign", methods=["POST"])
    blueprint.add_route(agent(routes.resolve), f"{THREAD}/resolve", methods=["POST"])
    blueprint.add_route(agent(routes.thread_saved_replies), f"{THREAD}/saved-replies", methods=["GET"])
    blueprint.add_route(agent(routes.saved_replies), "/api/v1/saved-replies", methods=["GET"])
    blueprint.add_route(agent(routes.save_reply), "/api/v1/saved-replies", methods=["POST"])
    blueprint.add_route(agent(routes.delete_reply), "/api/v1/saved-replies", methods=["DELETE"])


def _no_business() -> HTTPResponse:
    return problem(422, "invalid_query", "send ?business=<the hotel's phone number id>")


def _no_hotel() -> HTTPResponse:
    return problem(404, "not_found", "no such saved reply or hotel among the hotels this token may act for")
