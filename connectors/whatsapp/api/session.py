"""`GET /api/v1/me`: who a token is, so the console can log in with it and show the right hotels.

`hotels` is the token's own list (null: every hotel); `names` gives the name of each configured hotel the
token may act for, so a token for every hotel still sees them all listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.whatsapp.api.auth import requires, token_of

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    @blueprint.route("/api/v1/me", methods=["GET"])
    @requires(gateway, "agent", "automation")
    async def me(request: Request) -> HTTPResponse:
        token = token_of(request)
        hotels = None if token.hotels is None else sorted(token.hotels)
        configured = gateway.automation.hotels if gateway.automation is not None else {}
        names = {number: hotel.name for number, hotel in sorted(configured.items()) if token.may_act_for(number)}
        return json({"name": token.name, "role": token.role, "hotels": hotels, "names": names})
