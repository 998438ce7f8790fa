"""`GET /api/v1/events`: server-sent events for the console, new messages, statuses, guests' edits and
deletions (`amendment`), handoff changes and the front desk's notes, assignments and resolves (`desk`) of
the hotels the token may act for.

The stream polls the store for rows newer than its cursors (every `POLL_SECONDS`) instead of listening to
this process only, so it shows what every gateway process on the same database records.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sanic import Blueprint, Request

from connectors.whatsapp.agents.desk_log import DeskLog
from connectors.whatsapp.api.auth import requires, token_of

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

POLL_SECONDS = 0.5
KEEP_ALIVE_SECONDS = 15.0
LOOKBACK_IDS = 100


class Tail:
    """The new rows of one table for one stream. Each poll re-reads the last `LOOKBACK_IDS` ids and skips
    those already sent: on PostgreSQL ids come from a sequence at insert time, so a row may commit after one
    with a larger id, and a plain `id > cursor` would miss it."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.cursor = max((row["id"] for row in rows), default=0)
        self._seen = {row["id"] for row in rows}

    @property
    def since(self) -> int:
        return max(0, self.cursor - LOOKBACK_IDS)

    def fresh(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        new = [row for row in rows if row["id"] not in self._seen]
        self._seen.update(row["id"] for row in new)
        self.cursor = max([self.cursor, *(row["id"] for row in new)])
        self._seen = {seen for seen in self._seen if seen > self.since}
        return new


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    desk_log = DeskLog(gateway.store)

    async def handoff_events(after: int) -> list[dict[str, Any]]:
        return [event.to_json() for event in await gateway.handoffs.store.events_after(after)]

    sources: dict[str, Callable[[int], Awaitable[list[dict[str, Any]]]]] = {
        "message": gateway.queries.messages_after,
        "status": gateway.queries.statuses_after,
        "amendment": gateway.queries.amendments_after,
        "handoff": handoff_events,
        "desk": desk_log.events_after,
    }

    @blueprint.route("/api/v1/events", methods=["GET"])
    @requires(gateway, "agent", query_token=True)
    async def events(request: Request) -> None:
        token = token_of(request)
        newest_message, newest_status, newest_amendment = await gateway.queries.cursors()
        newest = {"message": newest_message, "status": newest_status, "amendment": newest_amendment}
        newest["handoff"] = await gateway.handoffs.store.last_event_id()
        newest["desk"] = await desk_log.last_event_id()
        # Everything up to now counts as sent: the stream tells what happens from here on.
        tails = {kind: Tail(await source(max(0, newest[kind] - LOOKBACK_IDS))) for kind, source in sources.items()}
        response = await request.respond(
            content_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.send("retry: 2000\n: connected\n\n")
        quiet = 0.0
        while not gateway.stopping:
            chunks = [
                _event(kind, row)
                for kind, source in sources.items()
                for row in tails[kind].fresh(await source(tails[kind].since))
                if token.may_act_for(row["business_id"])
            ]
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
