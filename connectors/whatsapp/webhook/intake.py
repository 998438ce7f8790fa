"""Storing webhooks before they are acknowledged, with group commit.

Each request waits until its webhook is committed, so a 200 always means "stored". Requests that arrive
while a commit is under way share the next one: at low load a webhook is committed alone and at once; under
a burst, dozens ride one transaction, which is what lets one process acknowledge thousands per second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from connectors.whatsapp.store import GatewayStore


class Intake:
    """The gateway's only writer of the inbox."""

    def __init__(self, store: GatewayStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._waiting: list[tuple[bytes, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def save(self, body: bytes) -> None:
        """Return once `body` is committed to the inbox; raise if the store refused it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((body, done))
        if self._committer is None:
            self._committer = asyncio.get_running_loop().create_task(self._commit_all())
        await done

    async def flush(self) -> None:
        """Wait for the commit under way, if any (the server is stopping)."""
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)

    async def _commit_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._store.save_webhooks([body for body, _ in batch], self._clock())
                except Exception as error:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                else:
                    for _, done in batch:
                        if not done.done():  # its client hung up (Sanic cancelled the wait); stored all the same
                            done.set_result(None)
        finally:
            self._committer = None
