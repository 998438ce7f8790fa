"""Load generation and figures shared by the benchmarks: one httpx client, a fixed number of requests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: Iterable[float], q: float) -> float:
    """The `q` quantile of `values` (nearest rank); NaN when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def channel_metadata(hotel: str, wa_id: str, message_id: str) -> dict[str, object]:
    """The metadata the WhatsApp channel gives the bot with a guest's text: sent with Rasa's REST channel
    baseline too, so that the actions do the same work on both paths."""
    return {
        "phone_number_id": hotel,
        "wa_id": wa_id,
        "profile_name": "Guest",
        "message_id": message_id,
        "timestamp": int(time.time()),
        "type": "text",
    }


@dataclass(frozen=True)
class Figures:
    label: str
    requests: int
    ok: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def line(self) -> str:
        return (
            f"  {self.label:<34} {self.per_second:>9.0f}/s   p50 {self.percentile(0.50):6.2f} ms"
            f"   p99 {self.percentile(0.99):6.2f} ms   ({self.ok}/{self.requests} ok)"
        )


async def load(
    client: httpx.AsyncClient,
    label: str,
    request: Callable[[int], httpx.Request],
    total: int,
    concurrency: int,
    ok_status: int = 200,
) -> Figures:
    """Send `total` requests with `concurrency` in flight; time each one."""
    latencies: list[float] = []
    ok = 0
    counter = iter(range(total))

    async def worker() -> None:
        nonlocal ok
        for i in counter:
            started = time.perf_counter()
            response = await client.send(request(i))
            latencies.append((time.perf_counter() - started) * 1000)
            ok += response.status_code == ok_status

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Figures(label, total, ok, time.perf_counter() - started, tuple(latencies))


def start(module: list[str], ready_url: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server process from the project root and wait until `ready_url` answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{' '.join(module)} did not start")


def ratio(mine: Figures, baseline: Figures) -> str:
    rate = mine.per_second / baseline.per_second
    p50 = mine.percentile(0.5) / baseline.percentile(0.5)
    return f"{rate:.2f}x the baseline's rate, p50 {p50:.2f}x"
