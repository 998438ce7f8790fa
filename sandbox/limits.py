"""Throughput and pair rate limits of a business number, as the Cloud API enforces them.

Pure bookkeeping: callers pass the current time, so tests drive the limits with an injected clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


class ThroughputLimiter:
    """At most `limit` sends per business number in any one-second window (error 130429 beyond)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._recent: dict[str, deque[float]] = {}

    def allow(self, number_id: str, now: float) -> bool:
        window = self._recent.setdefault(number_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True


@dataclass
class _Bucket:
    tokens: float
    updated: float


class PairLimiter:
    """A token bucket per (business number, guest): bursts of `burst`, refilled one per `interval` s.

    Meta allows about one message every 6 seconds to one user, with bursts that borrow quota (error
    131056 beyond), so a bot's three-message answer passes while a loop hammering one guest does not.
    """

    def __init__(self, burst: int, interval: float) -> None:
        self.burst = burst
        self.interval = interval
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def allow(self, number_id: str, wa_id: str, now: float) -> bool:
        bucket = self._buckets.get((number_id, wa_id))
        if bucket is None:
            bucket = self._buckets[(number_id, wa_id)] = _Bucket(tokens=float(self.burst), updated=now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.interval)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
