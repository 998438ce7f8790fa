"""How fast the sandbox accepts Cloud API sends, beside a bare Sanic handler returning the same JSON.

Both servers are single processes on loopback driven by one httpx client; the sandbox validates each
template, checks limits and the window, records the message and delivers its status webhooks (to the
bare server) while it is being measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from benchmarks.measure import Figures, load, ratio, start
from tests.support import free_port

REQUESTS = 3000
TEMPLATE = {
    "name": "reservation_reminder",
    "language": {"code": "es"},
    "components": [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Lucía"},
                {"type": "text", "text": "18/12/2026"},
                {"type": "text", "text": "Hotel Mirador del Puerto"},
            ],
        }
    ],
}


def send_request(base_url: str) -> Callable[[int], httpx.Request]:
    def build(i: int) -> httpx.Request:
        body = {"messaging_product": "whatsapp", "to": f"34600{i % 2000:06d}", "type": "template", "template": TEMPLATE}
        return httpx.Request(
            "POST",
            f"{base_url}/v23.0/1000000001/messages",
            json=body,
            headers={"Authorization": "Bearer sandbox-access-token"},
        )

    return build


async def settle(client: httpx.AsyncClient, sandbox_url: str) -> None:
    """Wait until the sandbox has delivered every status webhook, so no run pays for the one before."""
    for _ in range(600):
        if not (await client.get(f"{sandbox_url}/sandbox/health")).json()["pending_deliveries"]:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the sandbox still had status webhooks to deliver after 2 minutes")


async def measure(bare_url: str, sandbox_url: str) -> list[Figures]:
    figures = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as client:
        for concurrency in (1, 16):
            for label, url in (("bare Sanic handler", bare_url), ("sandbox", sandbox_url)):
                await load(client, "warm-up", send_request(url), 200, concurrency)
                await settle(client, sandbox_url)
                figures.append(
                    await load(client, f"{label}, {concurrency} in flight", send_request(url), REQUESTS, concurrency)
                )
                await settle(client, sandbox_url)
    return figures


def main() -> None:
    bare_port, sandbox_port = free_port(), free_port()
    bare_url, sandbox_url = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{sandbox_port}"
    bare = start(["benchmarks.bare_sanic", "--port", str(bare_port)], f"{bare_url}/ready")
    sandbox = start(
        [
            "sandbox",
            "--port",
            str(sandbox_port),
            "--webhook-url",
            f"{bare_url}/webhook",
            "--log-level",
            "WARNING",
            "--throughput-limit",
            "1000000",
            "--undeliverable",
            "1",
            "--status-delay-ms",
            "0",
        ],
        f"{sandbox_url}/sandbox/config",
    )
    try:
        figures = asyncio.run(measure(bare_url, sandbox_url))
    finally:
        sandbox.terminate()
        bare.terminate()
    print(f"Sandbox sends: {REQUESTS} template sends per run, one httpx client on loopback")
    for figure in figures:
        print(figure.line())
    for i in range(0, len(figures), 2):
        print(f"  ratio at {figures[i].label.split(', ')[1]}: sandbox = {ratio(figures[i + 1], figures[i])}")


if __name__ == "__main__":
    main()
