"""Bearer-token checks for the API routes: 401 for a missing or unknown token, 403 for the wrong role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from sanic import Request
from sanic.response import HTTPResponse

from connectors.whatsapp.api.responses import problem
from connectors.whatsapp.tokens import ApiToken, Role, authenticate

if TYPE_CHECKING:
    from connectors.whatsapp.gateway import Gateway

Handler = Callable[..., Awaitable[HTTPResponse]]


def requires(gateway: Gateway, *roles: Role, query_token: bool = False) -> Callable[[Handler], Handler]:
    """Route decorator: the caller's token must be configured and hold one of `roles`; the handler finds it
    in `request.ctx.token`. With `query_token`, `?token=` stands in for the header (a browser's EventSource
    cannot set headers); it is checked the same hashed, constant-time way."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            authorization = request.headers.get("authorization")
            if authorization is None and query_token and request.args.get("token"):
                authorization = f"Bearer {request.args.get('token')}"
            token = authenticate(authorization, gateway.settings.api_tokens)
            if token is None:
                return problem(
                    401,
                    "unauthorized",
                    "send Authorization: Bearer <token> with a token listed in GATEWAY_API_TOKENS",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if token.role not in roles:
                needed = " or ".join(roles)
                message = f"this needs a token with role {needed}; {token.name!r} is {token.role}"
                return problem(403, "forbidden", message)
            request.ctx.token = token
            return await handler(request, *args, **kwargs)

        return checked

    return decorate


def token_of(request: Request) -> ApiToken:
    """The token `requires` accepted for this request."""
    return request.ctx.token
