"""The load `benchmarks.cluster` puts on the system, and what it reads back afterwards.

- Guests write known questions through the sandbox, as a phone would; their answers are awaited on the
  sandbox's event stream (`GET /sandbox/events`), which stamps the question and each answer on the sandbox's
  clock and costs nothing while waiting (polling a hundred threads would load the cores the bot runs on).
- The same guests through Rasa's REST channel, the baseline of the turns per second.
- The soak: an open-loop generator of signed status webhooks at a fixed rate (webhook n leaves at
  start + n / rate, whatever became of the ones before it), each unique, for a wamid the gateway never sent;
  then which of them the gateway store's inbox holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import aiohttp
import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.measure import channel_metadata
from sandbox.catalog import Catalog, PhoneNumber
from sandbox.identities import Identity
from sandbox.webhooks import encode, sign, status_item, statuses_webhook
from tests.crash.harness import QUESTIONS
from tests.crash.measures import ANSWER_MARKS
from tests.support import ALAMEDA, APP_SECRET, LUCIA, MIRADOR

TOPICS = tuple(QUESTIONS["es"])
SOAK_CONNECTIONS = 256
"""At most this many soak webhooks in flight; at 300/s only a stalled cluster comes near it."""
SOAK_TICK = 0.01


def say(line: str) -> None:
    """A progress line, at once: the benchmark runs for many minutes."""
    print(f"  .. {line}", flush=True)


@dataclass(frozen=True)
class Guest:
    wa_id: str
    hotel: str
    topic: str

    @property
    def text(self) -> str:
        return QUESTIONS["es"][self.topic]

    @property
    def mark(self) -> str:
        """What any answer to the guest's question carries."""
        return ANSWER_MARKS[self.hotel][self.topic]


def guests(prefix: str, count: int) -> list[Guest]:
    """`count` fresh guests (their ids start with `prefix`), both hotels and both questions in turn."""
    hotels = (MIRADOR, ALAMEDA)
    return [Guest(f"{prefix}{n:05d}", hotels[n % 2], TOPICS[n // 2 % len(TOPICS)]) for n in range(count)]


class AnswerWatch:
    """The sandbox's event stream, read in the background: when each guest asked, on the sandbox's clock,
    and every distinct message to them that carries the fact they asked for."""

    def __init__(self, client: httpx.AsyncClient, watched: Iterable[Guest]) -> None:
        self._client = client
        self._guests = {guest.wa_id: guest for guest in watched}
        self._asked: dict[str, float] = {}
        self._answers: dict[str, dict[str, float]] = {wa_id: {} for wa_id in self._guests}
        self._answered = {wa_id: asyncio.Event() for wa_id in self._guests}
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AnswerWatch:
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._connected.wait(), 30)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._reader is not None
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        async with self._client.stream("GET", "/sandbox/events", timeout=None) as events:
            async for line in events.aiter_lines():
                if line.startswith(":"):
                    self._connected.set()
                elif line.startswith("data: "):
                    self._note(json.loads(line.removeprefix("data: ")))

    def _note(self, event: dict[str, object]) -> None:
        guest = self._guests.get(str(event["wa_id"]))
        if guest is None:
            return
        if event["direction"] == "inbound":
            self._asked.setdefault(guest.wa_id, float(event["timestamp"]))  # type: ignore[arg-type]
        elif guest.mark in str(event.get("text") or event.get("content") or ""):
            self._answers[guest.wa_id].setdefault(str(event["wamid"]), float(event["timestamp"]))  # type: ignore[arg-type]
            self._answered[guest.wa_id].set()

    async def answered(self, guest: Guest, timeout: float) -> float | None:
        """Seconds from the guest's question to their first answer (sandbox clock); None if none came in time."""
        try:
            await asyncio.wait_for(self._answered[guest.wa_id].wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return min(self._answers[guest.wa_id].values()) - self._asked[guest.wa_id]

    def copies(self, guest: Guest) -> int:
        return len(self._answers[guest.wa_id])


async def ask(client: httpx.AsyncClient, guest: Guest) -> None:
    """The guest writes their question on the sandbox's phone; the sandbox signs and delivers the webhook."""
    sent = await client.post(f"/sandbox/guests/{guest.wa_id}/messages", json={"to": guest.hotel, "text": guest.text})
    sent.raise_for_status()


@dataclass(frozen=True)
class AnswerFigures:
    latencies: tuple[float, ...]
    """Seconds from question to answer, of the guests answered in time."""
    lost: int
    doubled: int


async def guest_to_answer(
    sandbox: str, asking: list[Guest], at_once: int, timeout: float, grace: float
) -> AnswerFigures:
    """Each guest asks once, `at_once` of them writing at a time, the next as soon as one is answered (or
    given up on after `timeout`); `grace` seconds more for any second copy of an answer to show."""
    latencies: dict[str, float | None] = {}
    queue = iter(asking)
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as client, AnswerWatch(client, asking) as watch:

        async def writer() -> None:
            for guest in queue:
                await ask(client, guest)
                latencies[guest.wa_id] = await watch.answered(guest, timeout)

        await asyncio.gather(*(writer() for _ in range(at_once)))
        await asyncio.sleep(grace)
        doubled = sum(watch.copies(guest) > 1 for guest in asking)
    answered = tuple(seconds for seconds in latencies.values() if seconds is not None)
    return AnswerFigures(answered, len(asking) - len(answered), doubled)


async def whatsapp_all_at_once(sandbox: str, writing: list[Guest], timeout: float) -> tuple[float, int]:
    """Every guest writes at the same moment through the sandbox: seconds until the last is answered (or
    `timeout`), and how many were."""
    async with (
        httpx.AsyncClient(base_url=sandbox, timeout=30, limits=httpx.Limits(max_connections=len(writing))) as client,
        AnswerWatch(client, writing) as watch,
    ):
        started = time.perf_counter()
        await asyncio.gather(*(ask(client, guest) for guest in writing))
        answers = await asyncio.gather(*(watch.answered(guest, timeout) for guest in writing))
        return time.perf_counter() - started, sum(seconds is not None for seconds in answers)


async def rest_all_at_once(rasa: str, writing: list[Guest], timeout: float) -> tuple[float, int]:
    """Every guest's question at the same moment through Rasa's REST channel, one request each: seconds until
    the last request is answered, and how many answers carried the fact asked for."""
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=len(writing))) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(_rest_turn(client, rasa, guest) for guest in writing))
        return time.perf_counter() - started, sum(answers)


async def _rest_turn(client: httpx.AsyncClient, rasa: str, guest: Guest) -> bool:
    metadata = channel_metadata(guest.hotel, guest.wa_id, f"wamid.rest-{guest.wa_id}")
    body = {"sender": f"{guest.hotel}:{guest.wa_id}", "message": guest.text, "metadata": metadata}
    response = await client.post(f"{rasa}/webhooks/rest/webhook", json=body)
    return response.status_code == 200 and any(guest.mark in str(item.get("text")) for item in response.json())


@dataclass
class SoakResult:
    sent: int = 0
    seconds: float = 0.0
    """From the first webhook sent to the last."""
    acknowledged: set[int] = field(default_factory=set)
    """The numbers of the webhooks answered 200."""
    refused: Counter[str] = field(default_factory=Counter)
    """Other answers by status, and failed requests by error."""
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def soak_wamid(n: int) -> str:
    return f"wamid.soak-{n}"


def _status_webhook(number: PhoneNumber, n: int) -> bytes:
    """A `delivered` status for a business message the gateway never sent: unique, and nothing to answer."""
    return encode(
        statuses_webhook(number, [status_item(soak_wamid(n), "delivered", time.time(), Identity(wa_id=LUCIA))])
    )


async def soak(url: str, rate: int, seconds: float) -> SoakResult:
    """`rate` signed status webhooks per second to `url` for `seconds`, open loop."""
    result = SoakResult()
    number = Catalog.load().number(MIRADOR)
    assert number is not None
    total, report_every = int(rate * seconds), max(10.0, seconds / 10)
    in_flight: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=SOAK_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        next_report = started + report_every
        while result.sent < total:
            due = min(total, int((loop.time() - started) * rate) + 1)
            for n in range(result.sent, due):
                task = asyncio.create_task(_post(session, url, n, _status_webhook(number, n), result))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            result.sent = due
            if loop.time() >= next_report:
                acknowledged = len(result.acknowledged)
                say(f"soak at {loop.time() - started:4.0f} s: {result.sent} sent, {acknowledged} acknowledged")
                next_report += report_every
            await asyncio.sleep(SOAK_TICK)
        result.seconds = loop.time() - started
        await asyncio.gather(*in_flight)
    return result


async def _post(session: aiohttp.ClientSession, url: str, n: int, body: bytes, result: SoakResult) -> None:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        result.refused[type(error).__name__] += 1
        return
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status == 200:
        result.acknowledged.add(n)
    else:
        result.refused[str(response.status)] += 1


class InboxView:
    """The gateway store's inbox on PostgreSQL, read with a synchronous engine of the benchmark's own."""

    def __init__(self, gateway_url: str) -> None:
        url = make_url(gateway_url).set(drivername="postgresql+psycopg2")
        self._engine = sa.create_engine(url, poolclass=NullPool)

    def pending(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM inbox WHERE state = 'pending'")).scalar_one())

    def soak_numbers(self) -> set[int]:
        """The numbers of the soak webhooks stored in the inbox."""
        query = sa.text(r"SELECT substring(convert_from(body, 'UTF8') from 'wamid\.soak-([0-9]+)') FROM inbox")
        with self._engine.connect() as connection:
            return {int(found) for found in connection.execute(query).scalars() if found is not None}

    def close(self) -> None:
        self._engine.dispose()
