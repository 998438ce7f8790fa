"""5,000 templates sent through the automations API to the sandbox, with the number's limit at 80/s and then
at 1,000/s: the rate achieved (target: 95 % of the limit or more), the 130429 answers received (target: 0)
and how many messages per second the API itself accepts.

The sandbox and the gateway each run as their own process on loopback, the gateway on a fresh SQLite store.
The 5,000 go as ten `POST /batches` of 500 (an explicit template to a different guest each, so the pair limit
does not apply; marked urgent, so a run at night is not held for the hotel's quiet hours); once they are
sent, the API's acceptance is also measured one message per request (`POST /messages`, 32 in flight, 1,000
messages scheduled for the next day, so they are queued and not sent). The achieved rate comes from the outbox's
own record of when each message was sent, the 130429 answers from its record of each throttled attempt.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from benchmarks.measure import start
from tests.support import free_port

MESSAGES = 5000
BATCH = 500
SINGLES = 1000
CONCURRENCY = 32
LIMITS = tuple(int(limit) for limit in os.environ.get("BENCH_LIMITS", "80,1000").split(","))
TOKEN = "benchmark-automation-token"
TEMPLATE = {"name": "reservation_reminder", "language": "es", "parameters": ["Lucía", "18/12/2026", "Hotel Mirador"]}


@dataclass(frozen=True)
class Run:
    limit: int
    batch_seconds: float
    singles: int
    singles_seconds: float
    singles_per_second: Counter[int]
    sent: int
    send_seconds: float
    busiest_second: int
    throttled: int

    @property
    def achieved(self) -> float:
        return (self.sent - 1) / self.send_seconds if self.send_seconds else 0.0

    def lines(self) -> list[str]:
        share = self.achieved / self.limit
        verdict = "meets" if share >= 0.95 and self.throttled == 0 else "MISSES"
        per_second = sorted(self.singles_per_second.values())[1:-1] or [0]
        return [
            f"  limit {self.limit:>5}/s: achieved {self.achieved:7.1f}/s ({share:.1%} of the limit), busiest second "
            f"{self.busiest_second}, {self.throttled} answers 130429, {self.sent}/{MESSAGES} sent; "
            f"{verdict} the target",
            f"               API accepted {MESSAGES} in batches of {BATCH} in {self.batch_seconds:.2f} s "
            f"({MESSAGES / self.batch_seconds:.0f} messages/s); one per request: {self.singles}/{SINGLES} in "
            f"{self.singles_seconds:.1f} s ({self.singles / self.singles_seconds:.0f}/s; full seconds "
            f"min {per_second[0]} / median {per_second[len(per_second) // 2]} / max {per_second[-1]})",
        ]


def _client(api_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    )


async def _post_batches(api_url: str) -> float:
    """Queue the 5,000 in batches; the seconds the API took to accept them."""
    async with _client(api_url) as client:
        started = time.monotonic()
        for first in range(0, MESSAGES, BATCH):
            messages = [{"to": f"+34 61{i:07d}", "template": TEMPLATE} for i in range(first, first + BATCH)]
            answer = await client.post(
                "/batches", json={"business": "1000000001", "urgent": True, "messages": messages}
            )
            answer.raise_for_status()
        return time.monotonic() - started


async def _post_singles(api_url: str) -> tuple[int, float, Counter[int]]:
    """One message per request, 32 in flight, scheduled for tomorrow; (accepted, seconds, accepted per second)."""
    counter = iter(range(SINGLES))
    per_second: Counter[int] = Counter()
    accepted = 0
    tomorrow = datetime.fromtimestamp(time.time() + 86400, timezone.utc).isoformat()
    async with _client(api_url) as client:
        started = time.monotonic()

        async def worker() -> None:
            nonlocal accepted
            for i in counter:
                body = {"business": "1000000001", "to": f"+34 62{i:07d}", "template": TEMPLATE, "send_at": tomorrow}
                if (await client.post("/messages", json=body)).status_code == 202:
                    accepted += 1
                    per_second[int(time.monotonic() - started)] += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return accepted, time.monotonic() - started, per_second


def _outbox(database: Path) -> tuple[list[float], int, int]:
    """Send times, messages still queued or sending, and 130429 answers, from the gateway's store."""
    with sqlite3.connect(database, timeout=30) as connection:
        sent = [
            row[0] for row in connection.execute("SELECT sent_at FROM outbox WHERE state = 'sent' ORDER BY sent_at")
        ]
        pending = connection.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()[0]
        throttled = connection.execute(
            "SELECT coalesce(sum(attempts), 0) FROM outbox WHERE error_code = 130429"
        ).fetchone()[0]
    return sent, pending, throttled


def _busiest_second(times: list[float]) -> int:
    """The most sends in any one-second window (what the Cloud API's throughput limit counts)."""
    busiest, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


async def _run(limit: int, folder: Path) -> Run:
    database = folder / f"automation-{limit}.db"
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_url, gateway_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{gateway_port}"
    sandbox = start(
        [
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(sandbox_port),
            "--webhook-url",
            f"{gateway_url}/webhooks/whatsapp/webhook",
            "--log-level",
            "WARNING",
        ],
        f"{sandbox_url}/sandbox/config",
        {"SANDBOX_THROUGHPUT_LIMIT": str(limit), "SANDBOX_UNDELIVERABLE": ""},
    )
    gateway = None
    try:
        gateway = start(
            ["benchmarks.automation_gateway", "--port", str(gateway_port)],
            f"{gateway_url}/webhooks/whatsapp/",
            {
                "WHATSAPP_API_URL": sandbox_url,
                "WHATSAPP_APP_SECRET": "sandbox-app-secret",
                "WHATSAPP_VERIFY_TOKEN": "sandbox-verify-token",
                "WHATSAPP_ACCESS_TOKEN": "sandbox-access-token",
                "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                "GATEWAY_API_TOKENS": f"benchmark:automation:*:{TOKEN}",
                "GATEWAY_THROUGHPUT_PER_SECOND": str(limit),
                "GATEWAY_REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
            },
        )
        api_url = f"{gateway_url}/webhooks/whatsapp/api/v1"
        batch_seconds = await _post_batches(api_url)
        deadline = time.monotonic() + MESSAGES / limit * 2 + 60
        while True:
            sent, pending, throttled = _outbox(database)
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        singles, singles_seconds, per_second = await _post_singles(api_url)
    finally:
        for process in (gateway, sandbox):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    seconds = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    return Run(
        limit, batch_seconds, singles, singles_seconds, per_second, len(sent), seconds, _busiest_second(sent), throttled
    )


def main() -> None:
    runs = []
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        for limit in LIMITS:
            runs.append(asyncio.run(_run(limit, Path(folder))))
    print(
        f"Automation sends: {MESSAGES} templates through the automations API to the sandbox, SQLite store, one gateway"
    )
    for run in runs:
        for line in run.lines():
            print(line)


if __name__ == "__main__":
    main()
