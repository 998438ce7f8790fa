"""Reading a request's JSON body the way every API route answers it: a body that is not a JSON object, or
not JSON at all, is an empty object, so the route's own check answers 422 saying what to send (Sanic's own
400 page for unparseable JSON is no `problem`, and no caller can act on it)."""

from __future__ import annotations

from typing import Any

from sanic import Request
from sanic.exceptions import InvalidUsage


def json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:
        return {}
    return body if isinstance(body, dict) else {}
