"""One process's share of a business number's one-second throughput window, counted the way WhatsApp counts it.

The Cloud API counts a send when it *arrives*, which is some moment between our writing the request and our
reading the answer. Counting sends when they leave is not enough: a busy event loop (ours, or the far side's)
can hold a few requests back and let them arrive together, more than the limit in one second. So a send is
counted from the moment it leaves until one second after its answer came back, and a new send leaves only
while fewer than `limit` sends are counted. Whatever the delays, no one-second window at the far side then
holds more than `limit` of this process's sends: any send that arrived in the second before ours was
answered less than a second before ours left, or is still in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress


class SendWindow:
    def __init__(self, limit: int, period: float = 1.0) -> None:
        """`limit` sends in any `period` seconds (WhatsApp's throughput limit counts one second)."""
        self.limit = limit
        self.period = period
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._changed = asyncio.Condition()

    def counted(self) -> int:
        """Sends in flight plus sends answered less than a period ago."""
        now = time.monotonic()
        while self._answered and self._answered[0] <= now - self.period:
            self._answered.popleft()
        return self._in_flight + len(self._answered)

    @asynccontextmanager
    async def send(self) -> AsyncIterator[None]:
        """Wait for room, then hold it for the send inside the block and one period after."""
        async with self._changed:
            while self.counted() >= self.limit:
                wait = max(0.001, self._answered[0] + self.period - time.monotonic()) if self._answered else None
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._answered.append(time.monotonic())
                self._changed.notify_all()
