"""Waiting for the gateway and the sandbox in the automations tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.gateway_support import GatewayServer

FINAL = ("delivered", "read", "failed", "cancelled", "refused")


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, every: float = 0.05) -> Any:
    """The first truthy answer of `check`, polling until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last answer {answer!r}")
        await asyncio.sleep(every)


async def message_in(
    api: httpx.AsyncClient, message_id: str, states: tuple[str, ...], timeout: float = 20.0
) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        answer = (await api.get(f"/messages/{message_id}")).json()
        return answer if answer["state"] in states else None

    return await eventually(check, timeout)


async def guest_wrote(gateway: GatewayServer, business: str, wa_id: str) -> None:
    """Wait until the gateway recorded the guest's message (the window is open from then on)."""

    async def check() -> bool:
        return await gateway.store.last_inbound(business, wa_id) is not None

    await eventually(check)
