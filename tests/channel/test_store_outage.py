"""The store goes away and comes back while guests keep writing: the real blueprint on a real Sanic server.

What must hold through an outage: a webhook the store did not take gets a 503 with a clear text (Meta then
delivers it again), never a 200; nothing acknowledged is lost; each guest message reaches the bot exactly
once (a 503 whose commit did land is delivered again and deduplicated); and the gateway recovers by itself,
without a restart: its pump and its sweep resume once the store is back.

PostgreSQL goes away through `TcpProxy` (open connections dropped, new ones refused), on a database of its
own. SQLite "goes away" the way it does in production: another writer holds the file's lock for longer than
the gateway's busy timeout.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from connectors.whatsapp.store import GatewayStore, inbox, messages
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, postgres_url, settings_for
from tests.support import APP_SECRET, MIRADOR, SandboxClient
from tests.tcp_proxy import TcpProxy

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
UNAVAILABLE = "the gateway store is unavailable; deliver again"
GUESTS = ("34611000001", "34611000002", "34611000003")
REDELIVERY_SECONDS = 0.1
"""How soon a guest's webhook is delivered again after a 503 (Meta backs off; the sandbox starts at 50 ms)."""
SWEEP_SECONDS = 1.0
QUIET = {"sweep_seconds": SWEEP_SECONDS, "mark_read": False}
"""A short sweep, so the test sees it resume; no read receipts: the sandbox never saw these guest messages."""
SQLITE_BUSY_SECONDS = 1.0
"""The gateway's SQLite busy timeout here (`?timeout=`; 5 s by default): a lock held longer fails its writes."""
SQLITE_LOCK_MAX_SECONDS = 10.0
"""The other writer holds the lock until a webhook was refused: each write that waits for it holds the event
loop for the busy timeout, and background writes queued before the webhook was even read take their turn
first, so the first refusal comes one, two or three busy timeouts in."""


def webhook(wa_id: str, text: str) -> tuple[str, bytes]:
    """A new guest message (its wamid) in the golden Meta-shaped text webhook, as the bytes Meta signs."""
    payload = json.loads((FIXTURES / "text.json").read_text())
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = MIRADOR
    value["contacts"][0]["wa_id"] = wa_id
    wamid = f"wamid.outage-{uuid.uuid4().hex}"
    message = copy.deepcopy(value["messages"][0])
    message.update({"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "text": {"body": text}})
    value["messages"] = [message]
    return wamid, json.dumps(payload, ensure_ascii=False).encode()


def signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


DROPPED = 0
"""The `status` of an attempt the gateway closed the connection on without an answer (Meta delivers again)."""


@dataclass(frozen=True)
class Answer:
    """One delivery attempt as Meta sees it: when, in which phase of the outage, and what came back."""

    at: float
    phase: str
    status: int
    text: str


@dataclass
class Guests:
    """Guests writing one message after another, each delivered like Meta does: again until a 200."""

    url: str
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, list[str]] = field(default_factory=lambda: {guest: [] for guest in GUESTS})
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def write(self) -> None:
        """Until `stop`: every guest writes, waits for its 200, writes again. The timeout is long because a
        SQLite write waiting for a lock holds the event loop (and with it this client) for the busy timeout."""
        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(self._guest(client, guest) for guest in GUESTS))

    async def _guest(self, client: httpx.AsyncClient, wa_id: str) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            wamid, body = webhook(wa_id, f"message {number} from {wa_id}")
            await self.deliver(client, wamid, body)
            self.acknowledged[wa_id].append(wamid)
            await asyncio.sleep(0.02)

    async def deliver(self, client: httpx.AsyncClient, wamid: str, body: bytes) -> None:
        """Post until the gateway answers 200, recording every answer; anything but 200 or 503 ends it."""
        while True:
            try:
                response = await client.post(self.url, content=body, headers=signed(body))
            except httpx.TransportError as error:
                self.answers.append(Answer(time.monotonic(), self.phase, DROPPED, type(error).__name__))
            else:
                self.answers.append(Answer(time.monotonic(), self.phase, response.status_code, response.text))
                if response.status_code == 200:
                    return
                if response.status_code != 503:
                    raise AssertionError(f"webhook {wamid} answered {response.status_code}: {response.text}")
            await asyncio.sleep(REDELIVERY_SECONDS)

    def stop(self) -> None:
        self._stop.set()

    def all_acknowledged(self) -> list[str]:
        return [wamid for wamids in self.acknowledged.values() for wamid in wamids]

    async def each_acknowledges(self, count: int, timeout: float = 10.0) -> None:
        """Wait until every guest had `count` more messages acknowledged."""
        targets = {guest: len(wamids) + count for guest, wamids in self.acknowledged.items()}
        deadline = time.monotonic() + timeout
        while any(len(self.acknowledged[guest]) < target for guest, target in targets.items()):
            assert time.monotonic() < deadline, f"guests not acknowledged in {timeout}s: {self.answers[-5:]}"
            await asyncio.sleep(0.05)

    async def refused(self, timeout: float) -> None:
        """Wait for the first 503 of the outage."""
        deadline = time.monotonic() + timeout
        while not any(a.status == 503 and a.phase == "down" for a in self.answers):
            assert time.monotonic() < deadline, f"no webhook refused in {timeout}s of outage"
            await asyncio.sleep(0.05)


@dataclass
class RasaStandIn:
    """What the channel reads of the Rasa agent (`app.ctx.agent`): real Rasa tracker and lock stores, in
    memory. Each turn logs its guest message there, as Rasa saves a tracker at the end of a turn, so a turn the
    gateway gives again because the store went away before it could note the turn's end is found in the tracker
    and not run twice: that check is the channel's, and these tests count on it."""

    tracker_store: InMemoryTrackerStore = field(default_factory=lambda: InMemoryTrackerStore(Domain.empty()))
    lock_store: InMemoryLockStore = field(default_factory=InMemoryLockStore)

    def is_ready(self) -> bool:
        """No model loaded: the channel gives each message to the bot whole."""
        return False

    async def log_turn(self, message: UserMessage) -> None:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
            tracker.update(UserUttered(message.text, message_id=message.message_id))
            await self.tracker_store.save(tracker)


def gateway_on(sandbox: SandboxClient, url: str) -> GatewayServer:
    """The gateway on `url`, its bot a recorder whose turns Rasa's tracker keeps."""
    rasa = RasaStandIn()
    settings = settings_for(sandbox.base_url, url, **QUIET)
    return GatewayServer(settings, RecordingBot(answer=rasa.log_turn), MovableClock(), agent=rasa)


Outage = Callable[[Guests], Awaitable[None]]
"""Takes the store away while the guests write (setting `guests.phase` to "down"), then brings it back."""


async def guests_write_through(gateway: GatewayServer, outage: Outage) -> Guests:
    """Guests write before, during and after `outage`; returns once every acknowledged message was given to
    the bot, so the caller checks what the gateway made of it."""
    guests = Guests(gateway.webhook_url)
    writing = asyncio.get_running_loop().create_task(guests.write())
    try:
        await guests.each_acknowledges(2)
        await outage(guests)
        guests.phase = "after"
        await guests.each_acknowledges(3)
    finally:
        guests.stop()
        await writing
    await given_to_bot(gateway.bot, guests.all_acknowledged(), timeout=10)
    return guests


async def given_to_bot(bot: RecordingBot, wamids: list[str], timeout: float) -> None:
    """Wait until the bot was given every one of `wamids` (whatever else it was given, duplicates too)."""
    deadline = time.monotonic() + timeout
    while missing := set(wamids) - {message.message_id for message in bot.received}:
        assert time.monotonic() < deadline, f"{len(missing)} acknowledged messages never reached the bot"
        await asyncio.sleep(0.02)


async def assert_recovered_by_itself(gateway: GatewayServer, ingest: GatewayStore, guests: Guests) -> list[str]:
    """The sweep and the pump both run again: a webhook another (ingest-only) process stored, with no wake-up
    for this one, is picked up by the sweep; then a webhook posted here is picked up by the pump at once,
    well before the next sweep. Returns the two wamids."""
    swept, body = webhook(GUESTS[0], "stored by an ingest-only process")
    await ingest.save_webhooks([body], time.time())
    await given_to_bot(gateway.bot, [swept], timeout=SWEEP_SECONDS * 3)
    pumped, body = webhook(GUESTS[1], "after the outage")
    async with httpx.AsyncClient(timeout=10) as client:
        await guests.deliver(client, pumped, body)
    await given_to_bot(gateway.bot, [pumped], timeout=SWEEP_SECONDS * 0.8)
    return [swept, pumped]


async def assert_nothing_lost_or_doubled(gateway: GatewayServer, guests: Guests, extra: list[str]) -> None:
    """Every acknowledged message is stored once and reached the bot once; nothing else reached it."""
    await gateway.settle()
    expected = guests.all_acknowledged() + extra
    assert len(set(expected)) == len(expected)
    given = Counter(message.message_id for message in gateway.bot.received)
    assert {wamid for wamid, times in given.items() if times > 1} == set()
    assert set(given) == set(expected)
    async with gateway.store.engine.connect() as connection:
        rows = (await connection.execute(sa.select(messages.c.wamid, messages.c.state))).all()
        waiting = sa.select(sa.func.count()).select_from(inbox).where(inbox.c.state == "pending")
        pending = (await connection.execute(waiting)).scalar_one()
    assert sorted(wamid for wamid, _ in rows) == sorted(expected)
    assert {state for _, state in rows} == {"handled"}
    assert pending == 0


def assert_refused_clearly(guests: Guests, dropped: bool) -> None:
    """While down, webhooks got 503 with the clear text; before it, all 200; after it, 200 again. `dropped`
    allows attempts left unanswered (Meta delivers those again too): a SQLite write waiting for the lock
    holds the event loop, and when it lets go, Sanic's keep-alive timer (5 s) may close a connection a
    delivery was just written on."""
    unanswered = [a for a in guests.answers if a.status == DROPPED]
    assert dropped or not unanswered, unanswered
    refusals = [a for a in guests.answers if a.status == 503]
    assert refusals
    assert {a.text for a in refusals} == {UNAVAILABLE}
    assert {a.phase for a in refusals} <= {"down", "after"}
    assert {a.status for a in guests.answers if a.phase == "before"} == {200}
    assert guests.answers[-1].status == 200


@pytest.fixture
async def outage_database() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (the URL of the shared server), dropped afterwards."""
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set: the PostgreSQL outage test needs a server (.ci/run starts one)")
    plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"gateway_outage_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def survives(sandbox: SandboxClient, gateway_url: str, ingest_url: str, outage: Outage) -> Guests:
    """The gateway on `gateway_url` while guests write through `outage`: it recovers by itself (an ingest-only
    process storing on `ingest_url` meanwhile) and loses and doubles nothing. Returns the guests' record."""
    gateway = gateway_on(sandbox, gateway_url)
    ingest = GatewayStore.from_url(ingest_url)
    await gateway.start()
    try:
        guests = await guests_write_through(gateway, outage)
        extra = await assert_recovered_by_itself(gateway, ingest, guests)
        await assert_nothing_lost_or_doubled(gateway, guests, extra)
    finally:
        await gateway.stop()
        await ingest.close()
    return guests


async def test_postgresql_going_away_and_coming_back(outage_database: str, sandbox: SandboxClient) -> None:
    direct = urlsplit(outage_database)
    proxy = TcpProxy(direct.hostname or "127.0.0.1", direct.port or 5432)
    await proxy.start()
    through_proxy = direct._replace(netloc=f"{direct.username}:{direct.password}@127.0.0.1:{proxy.port}").geturl()

    async def server_goes_away(guests: Guests) -> None:
        guests.phase = "down"
        await proxy.cut()
        await guests.refused(timeout=3)
        await asyncio.sleep(2)
        await proxy.restore()

    try:
        guests = await survives(sandbox, through_proxy, outage_database, server_goes_away)
    finally:
        await proxy.close()
    assert_refused_clearly(guests, dropped=False)
    assert proxy.accepted > 1, "the gateway never connected again after the cut"


def hold_the_write_lock(path: Path, taken: threading.Event, release: threading.Event) -> None:
    """Another writer (a second process, a backup, a migration) holding SQLite's write lock until `release`:
    in a thread of its own, because the gateway's SQLite statements wait for a lock in the event loop's."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        taken.set()
        release.wait(SQLITE_LOCK_MAX_SECONDS)
        other.execute("COMMIT")
    finally:
        other.close()


async def test_sqlite_locked_by_another_writer_and_released(tmp_path: Path, sandbox: SandboxClient) -> None:
    url = f"{database_url('sqlite', tmp_path)}?timeout={SQLITE_BUSY_SECONDS}"
    loop = asyncio.get_running_loop()

    async def file_locked(guests: Guests) -> None:
        taken, release = threading.Event(), threading.Event()
        locker = threading.Thread(target=hold_the_write_lock, args=(tmp_path / "gateway.db", taken, release))
        locker.start()
        try:
            await loop.run_in_executor(None, taken.wait)
            guests.phase = "down"
            since = time.monotonic()
            await guests.refused(timeout=SQLITE_LOCK_MAX_SECONDS)
            assert time.monotonic() - since >= SQLITE_BUSY_SECONDS, "refused before the busy timeout ran out"
        finally:
            release.set()
            await loop.run_in_executor(None, locker.join)

    guests = await survives(sandbox, url, url, file_locked)
    assert_refused_clearly(guests, dropped=True)
