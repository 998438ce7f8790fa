"""The gateway's HTTP API under `/webhooks/whatsapp/api/v1/`, served from the channel's blueprint so every
replica serves it. Each module adds its routes with an `add_routes(blueprint, gateway)` function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint

import connectors.whatsapp.agents.events as events
import connectors.whatsapp.agents.routes as conversations
import connectors.whatsapp.api.openapi as openapi
import connectors.whatsapp.api.session as session
import connectors.whatsapp.automations.routes as automations

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

PREFIX = "/api/v1"


def add_api_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    session.add_routes(blueprint, gateway)
    conversations.add_routes(blueprint, gateway)
    events.add_routes(blueprint, gateway)
    openapi.add_routes(blueprint)
    automations.add_routes(blueprint, gateway)
