"""The queue for SQLite's one writer within a process, with a lane for the writes a caller is waiting on.

SQLite lets one connection write at a time. Writers of one process queue here instead of meeting in SQLite's
busy handler (which sleeps in steps of up to 100 ms). Most writes are background work: statuses, the bot's
answers being recorded, the outbox. Storing a webhook is not: Meta is waiting for the acknowledgement and
the guest for the answer, so it goes before every background writer still waiting (never before the one
already writing).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriterQueue:
    def __init__(self) -> None:
        self._writing = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._background: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, urgent: bool = False) -> AsyncIterator[None]:
        """Wait for this writer's turn (urgent ones first, each lane in order) and hold it for the block."""
        if self._writing or self._urgent or (self._background and not urgent):
            lane = self._urgent if urgent else self._background
            waiting = asyncio.get_running_loop().create_future()
            lane.append(waiting)
            try:
                await waiting
            except asyncio.CancelledError:
                if waiting.done() and not waiting.cancelled():
                    self._next()  # the turn came as this writer gave up: pass it on
                else:
                    lane.remove(waiting)
                raise
        else:
            self._writing = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        """Hand the turn to the next writer waiting, urgent first; or free it."""
        for lane in (self._urgent, self._background):
            while lane:
                waiting = lane.popleft()
                if not waiting.done():
                    waiting.set_result(None)
                    return
        self._writing = False
