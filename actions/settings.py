"""The action server's settings: every one an environment variable, read once into a typed object.

The hotels' facts and reservations are read from the same variables as the gateway's (`HotelSettings`); the
Graph API (to list the approved templates) from the same `WHATSAPP_*` variables. `ActionSettings.from_env()`
validates them with a message that names the variable, so a typo in a deployment stops the action server at
start-up instead of surfacing as a wrong answer to a guest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cloudapi.graph import GraphConfig
from hotel.settings import HotelSettings

__all__ = ["ActionSettings"]


@dataclass(frozen=True)
class ActionSettings:
    hotel: HotelSettings = field(default_factory=HotelSettings)
    graph: GraphConfig | None = None
    """None without `WHATSAPP_API_URL` and `WHATSAPP_ACCESS_TOKEN`: templates cannot be listed, and an action
    that needs one says so."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ActionSettings:
        env = os.environ if env is None else env
        api_url = env.get("WHATSAPP_API_URL", "").strip().rstrip("/")
        access_token = env.get("WHATSAPP_ACCESS_TOKEN", "").strip()
        graph = (
            GraphConfig(api_url, access_token, env.get("WHATSAPP_API_VERSION", "").strip() or "v23.0")
            if api_url and access_token
            else None
        )
        return cls(HotelSettings.from_env(env), graph)
