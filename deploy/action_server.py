"""`python -m deploy.action_server`: the hotel's action server, answering only the Rasa server.

An action call carries the guest's whole tracker and its answer is what the bot says, so nobody but the
Rasa server may make one. `rasa run actions` listens on every interface with no check at all; this starts the
same rasa_sdk app on loopback (`ACTION_SERVER_HOST`, default 127.0.0.1) and, when `ACTION_SERVER_TOKEN` is set,
refuses every call to `/webhook` and `/actions` without it (Rasa sends it as the `?token=` that endpoints.yml
gives it). Listening anywhere but loopback without a token is refused at start-up.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

__all__ = ["ActionServerSettings", "is_loopback", "main", "token_guard"]

OPEN_PATHS = frozenset({"/health"})
"""The one route a caller without the token may reach: the liveness check."""


@dataclass(frozen=True)
class ActionServerSettings:
    host: str
    port: int
    token: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> ActionServerSettings:
        port = env.get("ACTION_SERVER_PORT", "5055")
        if not port.isdigit():
            raise ValueError(f"ACTION_SERVER_PORT={port!r} is not a port number")
        settings = cls(env.get("ACTION_SERVER_HOST") or "127.0.0.1", int(port), env.get("ACTION_SERVER_TOKEN", ""))
        if not settings.token and not is_loopback(settings.host):
            raise ValueError(
                f"ACTION_SERVER_HOST={settings.host} would let anyone who reaches it run the bot's actions: "
                "set ACTION_SERVER_TOKEN (and the same value for the Rasa server) or listen on 127.0.0.1"
            )
        return settings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_guard(token: str) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """A Sanic request middleware answering 401 to any call but the liveness check without `?token=<token>`."""

    async def guard(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token", "")
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        return response.json({"error": "the action server answers only the Rasa server: missing or wrong token"}, 401)

    return guard


def main() -> None:
    try:
        settings = ActionServerSettings.from_environment(os.environ)
    except ValueError as error:
        sys.exit(f"deploy.action_server: {error}")
    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_app

    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = create_app("actions", cors_origins=None)
    if settings.token:
        app.register_middleware(token_guard(settings.token), "request")
    logging.getLogger(__name__).info("Action server on http://%s:%s", settings.host, settings.port)
    app.run(settings.host, settings.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
