"""The API's error answers, one shape for all: `{"error": {"code", "message", ...details}}`."""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse, json


def problem(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any
) -> HTTPResponse:
    """An error answer a caller can act on: a stable `code` to branch on and a `message` saying what to do."""
    return json({"error": {"code": code, "message": message, **details}}, status=status, headers=headers)
