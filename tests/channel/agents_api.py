"""An httpx client of the agents' API that checks every answer against the served OpenAPI description:
the status must be documented for the route, and the JSON body must match its schema; `conforms` makes the
same check an httpx response hook, for the automations' clients."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import jsonschema

from connectors.whatsapp.api.openapi import SPEC

PREFIX = "/webhooks/whatsapp/api/v1"


def _route_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


ROUTES = [(_route_pattern(path), path) for path in SPEC["paths"]]


def schema_for(method: str, path: str, status: int, media_type: str = "application/json") -> dict[str, Any]:
    """The documented schema of an answer; AssertionError when the route, method, status or media type is
    undocumented."""
    relative = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    template = next((t for pattern, t in ROUTES if pattern.match(relative)), None)
    assert template is not None, f"{path} is not in the OpenAPI description"
    operation = SPEC["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not in the OpenAPI description"
    answer = operation["responses"].get(str(status))
    assert answer is not None, f"{method} {template} answered {status}, which the description does not list"
    assert media_type in answer["content"], f"{method} {template} answered {status} as {media_type}, not described"
    return answer["content"][media_type]["schema"]


async def conforms(response: httpx.Response) -> None:
    """An httpx response hook: the answer's status and media type are described, and a JSON body matches."""
    await response.aread()
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    request = response.request
    schema = schema_for(request.method, request.url.path, response.status_code, media_type)
    if media_type == "application/json":
        jsonschema.Draft202012Validator(schema).validate(response.json())


class AgentsApi:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=f"{base_url}{PREFIX}", headers=headers, timeout=15)
        self.checked = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        schema = schema_for(method, f"{PREFIX}{path.split('?')[0]}", response.status_code)
        jsonschema.Draft202012Validator(schema).validate(response.json())
        self.checked += 1
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def close(self) -> None:
        await self.http.aclose()


async def listen(
    base_url: str, token: str, seen: list[tuple[str, dict[str, Any]]], connected: asyncio.Event | None = None
) -> None:
    """Read the API's event stream into `seen` as (event, data) pairs until cancelled; `connected` is set once
    the stream has begun (what is recorded from then on is streamed, what came before is not)."""
    async with (
        httpx.AsyncClient(base_url=f"{base_url}{PREFIX}", timeout=None) as client,
        client.stream("GET", "/events", params={"token": token}) as stream,
    ):
        kind = ""
        async for line in stream.aiter_lines():
            if line.startswith(": connected") and connected is not None:
                connected.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                seen.append((kind, json.loads(line[6:])))
