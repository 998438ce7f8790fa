"""How the sandbox's own routes (the guest and control APIs) read a request body and refuse one.

They answer a plain `{"error": "..."}` a person can read while testing, unlike the Graph routes, which
answer Meta's error objects (`sandbox.errors.GraphError`).
"""

from __future__ import annotations

import json
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response


def problem(detail: str, status: int = 422) -> HTTPResponse:
    return json_response({"error": detail}, status=status)


def json_body_or_none(request: Request) -> Any:
    """The parsed body, or None when it is not JSON: the caller says what it expected."""
    try:
        return json.loads(request.body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
