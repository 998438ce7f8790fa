"""The Graph API client's cost per send: the gateway's `GraphClient` (aiohttp) beside a plain httpx client, the
library the rest of the project uses, both sending the same message to a bare Sanic handler on loopback.

Every bot answer, read receipt and automation send goes through this client, and at 1,000 sends a second
its CPU per request decides whether one process keeps up; this is the figure behind choosing aiohttp for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from benchmarks.measure import start
from cloudapi.graph import CONNECTIONS, GraphClient, GraphConfig
from tests.support import free_port

SENDS = 4000
IN_FLIGHT = (1, 16, 64)
BODY = {"messaging_product": "whatsapp", "to": "34612345678", "type": "text", "text": {"body": "Hola, Lucía"}}


async def _measure(send: Callable[[], Awaitable[object]], in_flight: int) -> tuple[float, float]:
    """(sends per second, CPU microseconds per send) with `in_flight` sends at a time."""
    remaining = iter(range(SENDS))

    async def worker() -> None:
        for _ in remaining:
            await send()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return SENDS / (time.perf_counter() - started), (time.process_time() - cpu) / SENDS * 1e6


async def _gateway_client(api_url: str, in_flight: int) -> tuple[float, float]:
    client = GraphClient(GraphConfig(api_url=api_url, access_token="benchmark"))
    try:
        await client.send("1000000001", BODY)  # the connection opened outside the measure
        return await _measure(lambda: client.send("1000000001", BODY), in_flight)
    finally:
        await client.close()


async def _httpx_client(api_url: str, in_flight: int) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=f"{api_url}/v23.0", limits=limits) as client:

        async def send() -> object:
            answer = await client.post("/1000000001/messages", json=BODY)
            answer.raise_for_status()
            return answer.json()

        await send()
        return await _measure(send, in_flight)


def main() -> None:
    port = free_port()
    server = start(["benchmarks.bare_sanic", "--port", str(port)], f"http://127.0.0.1:{port}/ready")
    api_url = f"http://127.0.0.1:{port}"
    try:
        print(f"Graph API client: {SENDS} sends to a bare Sanic handler on loopback")
        for in_flight in IN_FLIGHT:
            mine_rate, mine_cpu = asyncio.run(_gateway_client(api_url, in_flight))
            base_rate, base_cpu = asyncio.run(_httpx_client(api_url, in_flight))
            print(
                f"  {in_flight:>2} in flight: GraphClient (aiohttp) {mine_rate:6.0f}/s, {mine_cpu:5.0f} us CPU a send;"
                f" httpx {base_rate:6.0f}/s, {base_cpu:5.0f} us; {base_cpu / mine_cpu:.1f}x less CPU"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
