"""Every route the channel's blueprint serves besides the webhook: the HTTP API under `/api/v1/` (the
agents', the automations', `me` and the OpenAPI description) and the agents' console page.

Served from the channel's blueprint so every replica serves all of it. Each package registers its own routes
with an `add_routes` function; this is the one place that knows them all, and that puts the security headers
(`api.headers`) on every answer of the blueprint, the webhook's included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint

from connectors.whatsapp.agents import console, desk_routes, events
from connectors.whatsapp.agents import routes as agent_routes
from connectors.whatsapp.api import openapi, session
from connectors.whatsapp.api.headers import add_security_headers
from connectors.whatsapp.automations import routes as automation_routes
from connectors.whatsapp.media import routes as media_routes

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

__all__ = ["add_gateway_routes"]


def add_gateway_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    blueprint.middleware(add_security_headers, "response")
    session.add_routes(blueprint, gateway)
    agent_routes.add_routes(blueprint, gateway)
    events.add_routes(blueprint, gateway)
    desk_routes.add_routes(blueprint, gateway)
    media_routes.add_routes(blueprint, gateway)
    openapi.add_routes(blueprint)
    automation_routes.add_routes(blueprint, gateway)
    console.add_console_routes(blueprint)
