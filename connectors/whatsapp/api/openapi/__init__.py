"""The OpenAPI 3.1 description of the whole gateway API (`/webhooks/whatsapp/api/v1/`), served at
`GET /api/v1/openapi.json`: the agents' part (`agents`), the automations' part (`automations`), built from
the shared pieces in `schemas`.

Written by hand next to the routes; the channel and automations tests validate every answer the running API
gives against it, and tests/channel/test_openapi_fuzz.py fuzzes every operation with schemathesis, so the
description and the API cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from connectors.whatsapp.api.openapi.agents import AGENTS
from connectors.whatsapp.api.openapi.automations import AUTOMATIONS
from connectors.whatsapp.api.openapi.schemas import AGENT, PUBLIC, SECURITY_SCHEMES

__all__ = ["SPEC", "add_routes"]

DESCRIPTION = """\
The gateway's HTTP API. Every call but this description needs `Authorization: Bearer <token>` with a token
of GATEWAY_API_TOKENS; each operation says which role it needs (`agent`: the front desk; `automation`: a
hotel's software). No token or an unknown one is 401; the wrong role, or a business the token may not act
for, 403. Every error answer is a `problem`: `{"error": {"code", "message", ...}}`."""

OWN_DESCRIPTION = {
    "/openapi.json": {
        "get": {
            "summary": "this description",
            "security": PUBLIC,
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}},
                }
            },
        }
    }
}


def _document(*parts: dict[str, Any]) -> dict[str, Any]:
    """One document from the parts' paths; a path described twice is a mistake, not an override."""
    paths: dict[str, Any] = {}
    for part in parts:
        for path, item in part["paths"].items():
            if path in paths:
                raise ValueError(f"{path} is described twice")
            paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "WhatsApp gateway for Rasa", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": "/webhooks/whatsapp/api/v1"}],
        "components": {"securitySchemes": SECURITY_SCHEMES},
        "security": AGENT,
        "paths": paths,
    }


SPEC: dict[str, Any] = _document(AGENTS, AUTOMATIONS, {"paths": OWN_DESCRIPTION})


def add_routes(blueprint: Blueprint) -> None:
    @blueprint.route("/api/v1/openapi.json", methods=["GET"])
    async def openapi(request: Request) -> HTTPResponse:
        return json(SPEC)
