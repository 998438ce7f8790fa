"""The security headers on every answer of the gateway's blueprint: the webhook, the API and the console.

The console shows guests' words and runs with an agent's token in the tab, so it must neither run a script
nor load anything from elsewhere (a guest's text is only ever text, but the policy makes sure), nor be framed
by another site (clickjacking a "take over" or "send" button), nor leak its URL in a Referer. nginx passes
these through in `make cluster`; the gateway sets them itself so `make run` and any other front have them too.
"""

from __future__ import annotations

from sanic.request import Request
from sanic.response import HTTPResponse

__all__ = ["SECURITY_HEADERS", "add_security_headers"]

SECURITY_HEADERS = {
    # Scripts, styles, fetches and the event stream from the gateway itself; the console's `data:,` favicon;
    # guests' photos, voice notes and videos as `blob:` URLs of bytes the console fetched with its token.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def add_security_headers(request: Request, response: HTTPResponse) -> None:
    """A response middleware: each header unless the route set its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
