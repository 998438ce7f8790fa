"""The crash matrix: guests write while the Rasa server is killed with SIGKILL and started again.

Three real processes, as `make run` starts them: the sandbox (WhatsApp, with webhook retries on), the action
server and the Rasa server with the WhatsApp channel. The Rasa server restarts on the same port, so the
sandbox's webhook URL stays valid and its retries reach the new process. Each guest asks two questions with
one known answer each (the Wi-Fi and the parking of their hotel, ../shared/HOTELS.md), a second or more
apart, at random moments; the kills come at random moments too, `gap` seconds after the server is up again,
and each kill's window is when a share of the guests start writing, so that every kill finds work under way.
Every other kill is preceded by a stall of the store (`StoreView.hold_writes`), so that it finds work in
every phase; the sandbox delays each Graph call (`send_delay_ms`) to widen the bot's turn.

Afterwards `measures` compares what each guest received (the sandbox's threads) with what the store kept.
The test and the benchmark run the same `run_matrix`, at different sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.crash.measures import Guest, KillRecord, MatrixResult, Observed, measure, topic_of
from tests.crash.stores import StoreSnapshot, StoreTarget, StoreView
from tests.processes import ServerProcess, start_rasa
from tests.support import ALAMEDA, MIRADOR, SandboxClient, free_port

QUESTIONS = {
    "es": {"wifi": "cuál es la clave del wifi?", "parking": "tenéis parking?"},
    "en": {"wifi": "what's the wifi password?", "parking": "is there parking?"},
}
"""Two questions per language, each answered by one fact of the guest's hotel (`measures.ANSWER_MARKS`)."""


@dataclass(frozen=True)
class Plan:
    """How big a run is and how it is timed; `seed` makes the guests, their moments and the kills repeatable."""

    guests: int
    kills: int
    seed: int
    gap: tuple[float, float] = (1.0, 4.0)
    """Seconds between the Rasa server being up and the next kill."""
    stall: tuple[float, float] = (0.3, 1.0)
    """Seconds the store is held before a stalled kill."""
    question_gap: tuple[float, float] = (1.0, 3.0)
    """Seconds between a guest's two questions: at least one, so their WhatsApp timestamps (whole seconds) differ."""
    baseline_rate: float = 4.0
    """Guests arriving per second in a run without kills."""
    send_delay_ms: int = 150
    """The sandbox's delay of every Graph call: a turn long enough for kills to land inside its send."""
    claim_lease_seconds: float = 15.0
    sweep_seconds: float = 2.0
    """Lease and sweep of a gateway that recovers by lease (60 s and 30 s by default), shortened so that its
    recovery fits in a run; one that takes over a stopped process's work at once does not wait for them."""
    settle_seconds: float = 2.0
    """How long nothing new may arrive before the run counts as quiet: a late duplicate would show meanwhile."""
    quiet_timeout: float = 90.0

    def sandbox_settings(self) -> dict[str, Any]:
        """Meta-like retries, timed so that a message refused at a kill comes back soon after the restart: the
        sandbox doubles its wait after each attempt, here from 1 s up to 2 s (a restart takes 20-30 s), so a
        webhook refused during one comes back within 2 s of the new server listening."""
        return {
            "retry_base_ms": 1000,
            "retry_max_backoff_ms": 2000,
            "retry_max_attempts": 40,
            "fault_delay_rate": 1.0 if self.send_delay_ms else 0.0,
            "fault_delay_ms": self.send_delay_ms,
            "fault_error_rate": 0.0,
            "status_delay_ms": 100,
            "auto_read": True,
        }

    def gateway_settings(self) -> dict[str, str]:
        return {
            "GATEWAY_CLAIM_LEASE_SECONDS": str(self.claim_lease_seconds),
            "GATEWAY_SWEEP_SECONDS": str(self.sweep_seconds),
        }

    def make_guests(self, rng: random.Random) -> list[Guest]:
        """Even guests write in Spanish from +34 numbers, odd ones in English from +44; the hotels alternate by
        pairs, so every hotel hears both languages. Each guest's questions come in a random order."""
        guests = []
        for i in range(self.guests):
            language = "es" if i % 2 == 0 else "en"
            wa_id = f"3465{i:07d}" if language == "es" else f"44770{i:07d}"
            topics = ("wifi", "parking") if rng.random() < 0.5 else ("parking", "wifi")
            guests.append(Guest(wa_id, MIRADOR if i // 2 % 2 == 0 else ALAMEDA, language, topics))
        return guests


@dataclass
class SandboxEvents:
    """Every change the sandbox makes to a thread entry (a message added, a webhook attempt, a status),
    stamped with this machine's clock on arrival: the timeline the kills are classified against."""

    url: str
    items: list[Observed] = field(default_factory=list)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read())
        await asyncio.wait_for(self._connected.wait(), 10)

    async def _read(self) -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
            client.stream("GET", f"{self.url}/sandbox/events") as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith(": connected"):
                    self._connected.set()
                elif line.startswith("data: "):
                    self.items.append(Observed(time.time(), json.loads(line.removeprefix("data: "))))

    def answered(self) -> tuple[int, dict[str, set[str | None]]]:
        """How many business messages the guests have received so far, and the topics each guest has had
        an answer to."""
        wamids: set[str] = set()
        topics: dict[str, set[str | None]] = {}
        for item in self.items:
            entry = item.entry
            if entry["direction"] == "outbound":
                wamids.add(entry["wamid"])
                topics.setdefault(entry["wa_id"], set()).add(topic_of(entry["business"], entry["text"]))
        return len(wamids), topics

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class RasaUnderTest:
    """The Rasa server of one run: started (in a thread, so the guests and the event log go on meanwhile),
    killed and started again with the same command and port."""

    def __init__(self, folder: Path, sandbox_url: str, actions_url: str, environment: dict[str, str]) -> None:
        self._arguments = (folder, sandbox_url, actions_url)
        self._environment = environment
        self.port = free_port()
        self.webhook_url = f"http://127.0.0.1:{self.port}/webhooks/whatsapp/webhook"
        self._process: ServerProcess | None = None

    async def start(self) -> float:
        """Seconds until the channel answers."""
        started = time.monotonic()
        self._process, _ = await asyncio.to_thread(start_rasa, *self._arguments, self.port, **self._environment)
        return time.monotonic() - started

    def kill(self) -> float:
        """SIGKILL; the wall-clock moment it was sent."""
        assert self._process is not None
        at = time.time()
        self._process.kill()
        self._process = None
        return at

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


async def run_matrix(plan: Plan, target: StoreTarget, folder: Path, sandbox_url: str, actions_url: str) -> MatrixResult:
    """One run: start the Rasa server, let the guests write, kill it `plan.kills` times, wait until quiet."""
    rng = random.Random(plan.seed)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    sandbox = SandboxClient(sandbox_url)
    events = SandboxEvents(sandbox_url)
    view = StoreView(target)
    rasa = RasaUnderTest(folder, sandbox_url, actions_url, {**target.rasa_environment(), **plan.gateway_settings()})
    began = time.monotonic()
    try:
        await sandbox.reset()
        await sandbox.configure(webhook_url=rasa.webhook_url, **plan.sandbox_settings())
        first_start = await rasa.start()
        await events.start()
        guests = plan.make_guests(rng)
        traffic = Traffic(sandbox, plan, rng)
        try:
            kills = await _kill_loop(plan, rasa, view, rng, traffic, guests)
            await traffic.finish()
        finally:
            await traffic.cancel()
        quiet = await _wait_until_quiet(plan, guests, events, view)
        threads = {g.wa_id: await sandbox.thread(g.wa_id, g.hotel) for g in guests}
        final = await asyncio.to_thread(view.snapshot)
    finally:
        rasa.stop()
        await events.stop()
        view.close()
        await sandbox.http.aclose()
    return measure(
        guests, threads, final, kills, events.items, first_start, time.monotonic() - began, quiet, target.kind
    )


class Traffic:
    """The guests' questions, each guest's on its own task: the first at a random moment of a window, the
    second `question_gap` later (often after the kill that ends the window, so it waits for the restart)."""

    def __init__(self, sandbox: SandboxClient, plan: Plan, rng: random.Random) -> None:
        self._sandbox = sandbox
        self._plan = plan
        self._rng = rng
        self._tasks: list[asyncio.Task[None]] = []

    def spread(self, guests: list[Guest], seconds: float) -> None:
        """The guests start writing at random moments of the next `seconds`."""
        for guest in guests:
            at, gap = self._rng.uniform(0, seconds), self._rng.uniform(*self._plan.question_gap)
            self._tasks.append(asyncio.get_running_loop().create_task(self._one_guest(guest, at, gap)))

    async def _one_guest(self, guest: Guest, at: float, gap: float) -> None:
        await asyncio.sleep(at)
        for number, topic in enumerate(guest.topics):
            if number:
                await asyncio.sleep(gap)
            await self._sandbox.guest_says(guest.wa_id, QUESTIONS[guest.language][topic], to=guest.hotel)

    async def finish(self) -> None:
        await asyncio.gather(*self._tasks)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _kill_loop(
    plan: Plan, rasa: RasaUnderTest, view: StoreView, rng: random.Random, traffic: Traffic, guests: list[Guest]
) -> list[KillRecord]:
    """Each kill ends a window in which a share of the guests start writing; the store is looked at as the
    killed process left it, and the server started again. Every odd kill comes after a stall of the store.
    Without kills, the guests arrive at `baseline_rate`."""
    if plan.kills == 0:
        traffic.spread(guests, plan.guests / plan.baseline_rate)
        return []
    kills = []
    for index in range(plan.kills):
        gap = rng.uniform(*plan.gap)
        traffic.spread(guests[index :: plan.kills], gap)
        await asyncio.sleep(gap)
        stall = rng.uniform(*plan.stall) if index % 2 == 1 else 0.0
        at = await _kill(rasa, view, stall)
        snapshot: StoreSnapshot = await asyncio.to_thread(view.snapshot)
        restart = await rasa.start()
        kills.append(KillRecord(index, at, time.time(), stall, restart, snapshot))
    return kills


async def _kill(rasa: RasaUnderTest, view: StoreView, stall: float) -> float:
    """SIGKILL, after holding the store's writes for `stall` seconds (then let go: the process is dead)."""
    if not stall:
        return rasa.kill()
    held = await asyncio.to_thread(view.hold_writes)
    try:
        await asyncio.sleep(stall)
        return rasa.kill()
    finally:
        await asyncio.to_thread(view.release, held)


async def _wait_until_quiet(plan: Plan, guests: list[Guest], events: SandboxEvents, view: StoreView) -> bool:
    """Until every guest has an answer to both questions, the store has no guest message left to finish, and
    no new answer arrived for `settle_seconds`; False when `quiet_timeout` ran out first."""
    deadline = time.monotonic() + plan.quiet_timeout
    calm_since: float | None = None
    last_count = -1
    while time.monotonic() < deadline:
        count, topics = events.answered()
        snapshot = await asyncio.to_thread(view.snapshot)
        done = all(set(g.topics) <= topics.get(g.wa_id, set()) for g in guests) and not snapshot.unfinished()
        if done and count == last_count:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= plan.settle_seconds:
                return True
        else:
            calm_since = None
        last_count = count
        await asyncio.sleep(0.5)
    return False
