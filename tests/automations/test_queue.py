"""The outbox's claims and the shared rate limits, on the real databases (and Redis when configured)."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from connectors.whatsapp.automations import (
    LANE_MARKETING,
    LANE_REPLY,
    LANE_TRANSACTIONAL,
    DatabasePacer,
    NewMessage,
    Outbox,
    Pacer,
    RedisPacer,
)
from connectors.whatsapp.store import GatewayStore


@pytest.fixture
async def stores(database: str) -> AsyncIterator[tuple[GatewayStore, GatewayStore]]:
    """Two stores on one database: two gateway processes."""
    first, second = GatewayStore.from_url(database), GatewayStore.from_url(database)
    await first.create_schema()
    yield first, second
    await first.close()
    await second.close()


def message(lane: int, due_at: float, wa_id: str = "34612345678") -> NewMessage:
    body = {"type": "template", "template": {"name": "x", "language": {"code": "es"}}}
    return NewMessage("1000000001", wa_id, "ES", "automation:test", body, lane, False, due_at, "queued")


async def test_replies_go_before_transactional_before_marketing(stores: tuple[GatewayStore, GatewayStore]) -> None:
    outbox = Outbox(stores[0])
    now = time.time()
    await outbox.add_batch(
        "b1",
        "1000000001",
        "automation:test",
        [
            message(LANE_MARKETING, now - 30),
            message(LANE_TRANSACTIONAL, now - 20),
            message(LANE_REPLY, now - 10),
            message(LANE_REPLY, now + 3600),
        ],
        now,
    )

    claimed = await outbox.claim("p1", now, 60, 10, busy=[])

    assert [m.lane for m in claimed] == [LANE_REPLY, LANE_TRANSACTIONAL, LANE_MARKETING]
    assert await outbox.claim("p2", now, 60, 10, busy=[]) == []
    assert await outbox.claim("p3", now, 60, 10, busy=["1000000001"]) == []


async def test_a_stopped_process_claims_are_taken_over_after_the_lease(
    stores: tuple[GatewayStore, GatewayStore],
) -> None:
    first, second = Outbox(stores[0]), Outbox(stores[1])
    now = time.time()
    await first.add_batch("b1", "1000000001", "automation:test", [message(LANE_TRANSACTIONAL, now)], now)
    [mine] = await first.claim("stopped", now, 60, 10, busy=[])

    assert await second.claim("alive", now + 30, 60, 10, busy=[]) == []
    [taken] = await second.claim("alive", now + 61, 60, 10, busy=[])
    assert taken.id == mine.id


async def test_processes_claiming_at_once_never_share_a_message(stores: tuple[GatewayStore, GatewayStore]) -> None:
    outboxes = [Outbox(stores[0]), Outbox(stores[1])]
    now = time.time()
    await outboxes[0].add_batch(
        "b1",
        "1000000001",
        "automation:test",
        [message(LANE_TRANSACTIONAL, now, f"3461{i:07d}") for i in range(200)],
        now,
    )

    async def drain(outbox: Outbox, name: str) -> list[int]:
        ids: list[int] = []
        for round_number in range(100):
            claimed = await outbox.claim(f"{name}:{round_number}", now, 60, 7, busy=[])
            if not claimed:
                return ids
            ids.extend(m.id for m in claimed)
        return ids

    first, second = await asyncio.gather(drain(outboxes[0], "a"), drain(outboxes[1], "b"))

    assert not set(first) & set(second)
    assert len(first) + len(second) == 200


async def _pacers(kind: str, stores: tuple[GatewayStore, GatewayStore]) -> list[Pacer]:
    if kind == "database":
        return [DatabasePacer(stores[0]), DatabasePacer(stores[1])]
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set: the Redis limiter needs a server (.ci/run starts one)")
    return [RedisPacer(url), RedisPacer(url)]


@pytest.mark.parametrize("kind", ["database", "redis"])
async def test_two_processes_share_a_numbers_throughput(kind: str, stores: tuple[GatewayStore, GatewayStore]) -> None:
    pacers = await _pacers(kind, stores)
    key = f"number:test-{uuid.uuid4().hex}"
    interval = 1 / 80

    starts = await asyncio.gather(*(pacers[i % 2].reserve(key, 10, interval) for i in range(8)))

    slots = sorted(start + k * interval for start in starts for k in range(10))
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) >= interval - 1e-6
    assert slots[-1] - slots[0] >= (80 - 1) * interval - 1e-6
    for pacer in pacers:
        await pacer.close()


@pytest.mark.parametrize("kind", ["database", "redis"])
async def test_a_guest_gets_a_burst_then_waits(kind: str, stores: tuple[GatewayStore, GatewayStore]) -> None:
    pacers = await _pacers(kind, stores)
    key = f"pair:test-{uuid.uuid4().hex}"

    first = await pacers[0].admit([key] * 30, 6.0, 45)
    second = await pacers[1].admit([key] * 20, 6.0, 45)
    await pacers[0].push_back(key, time.time() + 600)
    after_push = await pacers[1].admit([f"{key}"], 6.0, 45)

    assert first == [0.0] * 30
    assert second[:15] == [0.0] * 15
    assert all(wait > time.time() + 5 for wait in second[15:])
    assert after_push[0] > time.time() + 300
    for pacer in pacers:
        await pacer.close()
