"""Background work that outlives the request or loop that started it, kept referenced until it ends.

asyncio holds only a weak reference to a task: one nobody keeps may be collected mid-flight, and its
exception is never seen. Every process of the project (the gateway, the sandbox) starts such work through a
`BackgroundTasks`, which keeps each task until it finishes, logs what failed, and lets the owner wait for the
work under way or cancel it when it stops. It imports nothing of the project, so every package may use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]


class BackgroundTasks:
    """The tasks one component started and has not yet seen finish."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coroutine` in the running loop; its failure is logged as `<what> failed`."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @property
    def running(self) -> list[asyncio.Task[Any]]:
        return list(self._tasks)

    def __bool__(self) -> bool:
        return bool(self._tasks)

    async def wait(self) -> None:
        """Until every task, including any a task started meanwhile, has finished."""
        while self._tasks:
            await asyncio.gather(*self.running, return_exceptions=True)

    async def cancel(self) -> None:
        """Cancel the work under way and wait until it has unwound."""
        tasks = self.running
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s failed", self._what, exc_info=task.exception())
