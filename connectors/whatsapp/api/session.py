"""`GET /api/v1/me`: who a token is, so the console can log in with it and show the right hotels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from .auth import requires, token_of

if TYPE_CHECKING:
    from ..gateway import Gateway


def add_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    @blueprint.route("/api/v1/me", methods=["GET"])
    @requires(gateway, "agent", "automation")
    async def me(request: Request) -> HTTPResponse:
        token = token_of(request)
        hotels = None if token.hotels is None else sorted(token.hotels)
        return json({"name": token.name, "role": token.role, "hotels": hotels})
