"""Rate limits shared by every gateway process: each business number's throughput and each guest's pair rate.

Both are kept as a "theoretical arrival time" per key (the generic cell rate algorithm): the moment the next
message may go. For a number's throughput, a process reserves slots evenly spaced at 1/limit seconds (a group
at a time, so one round trip paces many sends), which keeps every one-second window under the limit however
many processes share the number. For a guest, a burst of `burst` messages is allowed, then one per interval,
as WhatsApp's pair rate limit does (131056 beyond). A 130429 or 131056 pushes the key's time forward.

The state lives in Redis when `GATEWAY_REDIS_URL` is set (one Lua script per call, atomic), otherwise in the
gateway's database (one transaction per call). Times are wall-clock seconds (`time.time`), the one clock
every process and the Cloud API share; the gateway's injectable clock decides *when* messages are due, not
how fast they go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store import GatewayStore, Upsert, metadata

pacing = sa.Table(
    "pacing",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("tat", sa.Float, nullable=False),
)


class Pacer(Protocol):
    async def reserve(self, key: str, count: int, interval: float) -> float:
        """Reserve `count` slots `interval` apart for `key`; returns the time of the first."""

    async def admit(self, keys: Sequence[str], interval: float, burst: int) -> list[float]:
        """For each key, 0.0 when a message may go now (and it is counted), else the time it may go."""

    async def push_back(self, key: str, until: float) -> None:
        """Nothing more for `key` before `until`."""

    async def close(self) -> None: ...


def _gcra(tat: float, now: float, interval: float, burst: int) -> tuple[bool, float]:
    """(allowed, new tat) for one message under a burst of `burst`, one per `interval` after it."""
    start = max(tat, now)
    if start - now > (burst - 1) * interval:
        return False, tat
    return True, start + interval


class DatabasePacer:
    """The limits in the gateway store's `pacing` table."""

    def __init__(self, store: GatewayStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._postgres = store.engine.dialect.name == "postgresql"
        insert = postgresql_insert if self._postgres else sqlite_insert
        self._ensure = Upsert(insert(pacing).on_conflict_do_nothing(), store.engine.dialect.name)

    async def _tats(self, connection: AsyncConnection, keys: Sequence[str]) -> dict[str, float]:
        """The keys' times, locked for this transaction: the rows are made to exist first (a write, which on
        SQLite takes the database's write lock at once), then read FOR UPDATE on PostgreSQL."""
        await self._ensure.run(connection, [{"key": key, "tat": 0.0} for key in keys])
        query = sa.select(pacing.c.key, pacing.c.tat).where(pacing.c.key.in_(list(keys)))
        if self._postgres:
            query = query.with_for_update()
        return {row.key: row.tat for row in await connection.execute(query)}

    async def _write(self, connection: AsyncConnection, new: dict[str, float]) -> None:
        if new:
            await connection.execute(
                pacing.update().where(pacing.c.key == sa.bindparam("k")).values(tat=sa.bindparam("t")),
                [{"k": k, "t": t} for k, t in new.items()],
            )

    async def reserve(self, key: str, count: int, interval: float) -> float:
        async with self._store.transaction() as connection:
            known = await self._tats(connection, [key])
            start = max(known[key], self._clock())
            await self._write(connection, {key: start + count * interval})
        return start

    async def admit(self, keys: Sequence[str], interval: float, burst: int) -> list[float]:
        if not keys:
            return []
        async with self._store.transaction() as connection:
            known = await self._tats(connection, sorted(set(keys)))
            now = self._clock()
            state = dict(known)
            answers = []
            for key in keys:
                allowed, tat = _gcra(state[key], now, interval, burst)
                if allowed:
                    state[key] = tat
                    answers.append(0.0)
                else:
                    answers.append(state[key] - (burst - 1) * interval)
            await self._write(connection, {k: t for k, t in state.items() if known[k] != t})
        return answers

    async def push_back(self, key: str, until: float) -> None:
        async with self._store.transaction() as connection:
            known = await self._tats(connection, [key])
            if known[key] < until:
                await self._write(connection, {key: until})

    async def close(self) -> None:
        return None


_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
redis.call('SET', KEYS[1], tostring(start + tonumber(ARGV[1]) * tonumber(ARGV[2])), 'EX', 3600)
return tostring(start)
"""
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local interval = tonumber(ARGV[1])
local slack = (tonumber(ARGV[2]) - 1) * interval
local answers = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  local start = math.max(tat, now)
  if start - now > slack then
    answers[i] = tostring(tat - slack)
  else
    redis.call('SET', key, tostring(start + interval), 'EX', math.ceil(slack + interval) + 60)
    answers[i] = '0'
  end
end
return answers
"""
_PUSH_BACK = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', 3600) end
return 1
"""


class RedisPacer:
    """The limits in Redis, with Redis's own clock so processes on several machines agree."""

    PREFIX = "gateway:pacing:"

    def __init__(self, url: str) -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url)
        self._reserve = self._redis.register_script(_RESERVE)
        self._admit = self._redis.register_script(_ADMIT)
        self._push_back = self._redis.register_script(_PUSH_BACK)

    async def reserve(self, key: str, count: int, interval: float) -> float:
        start = await self._reserve(keys=[self.PREFIX + key], args=[count, repr(interval)])
        return float(start)

    async def admit(self, keys: Sequence[str], interval: float, burst: int) -> list[float]:
        if not keys:
            return []
        answers = await self._admit(keys=[self.PREFIX + k for k in keys], args=[repr(interval), burst])
        return [float(a) for a in answers]

    async def push_back(self, key: str, until: float) -> None:
        await self._push_back(keys=[self.PREFIX + key], args=[repr(until)])

    async def close(self) -> None:
        await self._redis.close()


def pacer_for(store: GatewayStore, redis_url: str | None) -> Pacer:
    return RedisPacer(redis_url) if redis_url else DatabasePacer(store)
