"""The agents' API under a realistic store: 2,000 and then 20,000 conversations of 6 messages each, a tenth
of them held (the list and one thread should cost the same at both sizes; the text search scans). Each
route's rate and latency is printed beside `GET /me` (the same token check, no store work) on the same server
in the same run, on SQLite and, when `TEST_POSTGRES_URL` is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.measure import Figures, load, ratio
from connectors.whatsapp.handoff import handoffs
from connectors.whatsapp.store import conversations, messages
from connectors.whatsapp.tokens import parse_tokens
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, empty_database, postgres_url, settings_for

SIZES = (2_000, 20_000)
MESSAGES_EACH = 6
REQUESTS = 200
CONCURRENCY = 4
HOTELS = ("1000000001", "1000000002")


async def seed(server: GatewayServer, size: int) -> None:
    now = time.time()
    conversation_rows, message_rows, held_rows = [], [], []
    for n in range(size):
        business, wa_id = HOTELS[n % 2], f"3460{n:07d}"
        conversation_rows.append(
            {"business_id": business, "wa_id": wa_id, "profile_name": f"Guest {n}",
             "last_inbound_at": int(now - n * 60), "last_inbound_wamid": f"wamid.in.{n}.0",
             "updated_at": now - n * 60 + MESSAGES_EACH - 1}
        )  # fmt: skip
        for m in range(MESSAGES_EACH):
            inbound = m % 2 == 0
            message_rows.append(
                {"direction": "inbound" if inbound else "outbound", "business_id": business, "wa_id": wa_id,
                 "wamid": f"wamid.{'in' if inbound else 'out'}.{n}.{m}", "type": "text",
                 "text": "¿Tienen parking?" if m == 0 and n % 50 == 0 else f"mensaje {m} de la conversación {n}",
                 "created_at": now - n * 60 + m, "state": "handled" if inbound else "accepted",
                 "status_rank": 0, "origin": "guest" if inbound else "bot"}
            )  # fmt: skip
        if n % 10 == 0:
            held_rows.append(
                {"business_id": business, "wa_id": wa_id, "holder": "queue", "reason": "guest_asked", "since": now}
            )
    async with server.store.transaction() as connection:
        await connection.execute(conversations.insert(), conversation_rows)
        await connection.execute(messages.insert(), message_rows)
        await connection.execute(handoffs.insert(), held_rows)
        await connection.execute(sa.text("ANALYZE"))


async def run(database: str, size: int) -> list[tuple[Figures, Figures]]:
    settings = settings_for(
        "http://127.0.0.1:9", database, api_tokens=parse_tokens("desk:agent:*:bench-secret"), mark_read=False
    )
    server = GatewayServer(settings, RecordingBot(), MovableClock())
    await server.start()
    try:
        await seed(server, size)
        headers = {"Authorization": "Bearer bench-secret"}
        base = f"{server.url}/webhooks/whatsapp/api/v1"
        routes = [
            ("list, newest 50", "/conversations?limit=50"),
            ("list, held only", "/conversations?state=held&limit=50"),
            ("one thread", "/conversations/1000000001/34600000100"),
            ("search 'parking'", "/search?q=parking"),
        ]
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            await load(client, "warm-up", lambda i: client.build_request("GET", f"{base}/me"), 50, CONCURRENCY)
            results = []
            for label, path in routes:
                baseline = await load(
                    client,
                    "GET /me (baseline)",
                    lambda i: client.build_request("GET", f"{base}/me"),
                    REQUESTS,
                    CONCURRENCY,
                )
                figures = await load(
                    client, label, lambda i, p=path: client.build_request("GET", f"{base}{p}"), REQUESTS, CONCURRENCY
                )
                results.append((figures, baseline))
            return results
    finally:
        await server.stop()


def main() -> None:
    databases = [("SQLite", None)]
    if postgres_url():
        databases.append(("PostgreSQL", postgres_url()))
    print(f"Agents' API: conversations of {MESSAGES_EACH} messages, {CONCURRENCY} requests in flight")
    for label, database in databases:
        for size in SIZES:
            with tempfile.TemporaryDirectory() as folder:
                url = database or f"sqlite+aiosqlite:///{Path(folder) / 'gateway.db'}"
                if database:
                    asyncio.run(empty_database(database))
                print(f" {label}, {size} conversations:")
                for figures, baseline in asyncio.run(run(url, size)):
                    print(figures.line())
                    print(f"    {ratio(figures, baseline)} (GET /me: {baseline.per_second:.0f}/s)")


if __name__ == "__main__":
    main()
