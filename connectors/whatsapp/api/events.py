"""`GET /api/v1/events`: server-sent events for the console, new messages, statuses and handoff changes of
the hotels the token may act for.

The stream polls the store for rows newer than its cursors (every `POLL_SECONDS`) instead of listening to
this process only, so it shows what every gateway process on the same database records.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request

from .auth import requires, token_of

if TYPE_CHECKING:
    from ..gateway import Gateway

POLL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    @blueprint.route("/api/v1/events", methods=["GET"])
    @requires(gateway, "agent", query_token=True)
    async def events(request: Request) -> None:
        token = token_of(request)
        message_cursor, status_cursor = await gateway.queries.cursors()
        handoff_cursor = await gateway.handoffs.store.last_event_id()
        response = await request.respond(
            content_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.send("retry: 2000\n: connected\n\n")
        quiet = 0.0
        while not gateway.stopping:
            chunks: list[str] = []
            for message in await gateway.queries.messages_after(message_cursor):
                message_cursor = message["id"]
                if token.may_act_for(message["business_id"]):
                    chunks.append(_event("message", message))
            for status in await gateway.queries.statuses_after(status_cursor):
                status_cursor = status["id"]
                if token.may_act_for(status["business_id"]):
                    chunks.append(_event("status", status))
            for change in await gateway.handoffs.store.events_after(handoff_cursor):
                handoff_cursor = change.id
                if token.may_act_for(change.business_id):
                    chunks.append(_event("handoff", change.to_json()))
            if chunks:
                await response.send("".join(chunks))
                quiet = 0.0
            elif quiet >= KEEP_ALIVE_SECONDS:
                await response.send(": keep-alive\n\n")
                quiet = 0.0
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS


def _event(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
