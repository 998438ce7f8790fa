"""The gateway's HTTP API under `/webhooks/whatsapp/api/v1/`, served from the channel's blueprint so every
replica serves it. Each module adds its routes with an `add_routes(blueprint, gateway)` function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sanic import Blueprint

from . import automations, session

if TYPE_CHECKING:
    from ..gateway import Gateway

PREFIX = "/api/v1"


def add_api_routes(blueprint: Blueprint, gateway: Gateway) -> None:
    session.add_routes(blueprint, gateway)
    automations.add_routes(blueprint, gateway)
