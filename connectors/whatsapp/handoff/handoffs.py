"""Holding and releasing conversations: one code path for the agents' API, the bot's own handoff and the
idle release, each changing the flag in the store and then pausing or resuming the Rasa tracker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from background import BackgroundTasks
from connectors.whatsapp.handoff.rules import (
    BOT,
    QUEUE,
    Handoff,
    HandoffRequest,
    agent_holder,
    holders_an_agent_may_release,
    holders_an_agent_may_replace,
    is_idle,
)
from connectors.whatsapp.handoff.store import HandoffChange, HandoffStore
from connectors.whatsapp.handoff.tracker import NoTracker, TrackerControl
from connectors.whatsapp.sending import Recipient

log = logging.getLogger(__name__)


class Handoffs:
    """The handoff of one gateway process; the truth is in the store, shared by every process."""

    def __init__(self, store: HandoffStore, clock: Callable[[], float], idle_seconds: float, check_seconds: float):
        self.store = store
        self.tracker: TrackerControl = NoTracker()
        self._clock = clock
        self._idle_seconds = idle_seconds
        self._check_seconds = check_seconds
        self._stopping = asyncio.Event()
        self._background = BackgroundTasks(log, "handoff background work")

    async def state(self, business_id: str, wa_id: str) -> Handoff:
        return await self.store.get(business_id, wa_id)

    async def hold(
        self,
        business_id: str,
        wa_id: str,
        holder: str,
        allowed_from: Sequence[str],
        reason: str,
        actor: str,
    ) -> HandoffChange:
        """Give the thread to `holder` (an agent, or the queue); an agent's thread has its tracker paused.

        A thread in the queue keeps its tracker running: while it waits for an agent the bot still answers
        what it knows, and only an agent's take-over silences it.
        """
        change = await self.store.change(business_id, wa_id, holder, allowed_from, reason, actor, self._clock())
        if change.changed:
            log.info("a conversation of %s is now held by %s (%s)", business_id, holder, reason)
            log.debug("held: %s:%s", business_id, wa_id)
        if change.after.state == "agent":
            await self.tracker.set_paused(Recipient(business_id, wa_id).sender_id, True)
        return change

    async def take_over(self, business_id: str, wa_id: str, agent: str) -> HandoffChange:
        holder = agent_holder(agent)
        allowed = holders_an_agent_may_replace(agent)
        return await self.hold(business_id, wa_id, holder, allowed, "agent_took_over", holder)

    async def bot_hands_over(self, recipient: Recipient, request: HandoffRequest) -> HandoffChange:
        """The bot's `{"gateway": {"handoff": ...}}`: the thread waits for an agent (unless one holds it)."""
        return await self.hold(recipient.business_id, recipient.wa_id, QUEUE, (BOT,), request.reason, "bot")

    async def release(self, business_id: str, wa_id: str, agent: str) -> HandoffChange:
        holder = agent_holder(agent)
        allowed = holders_an_agent_may_release(agent)
        return await self._release(business_id, wa_id, allowed, "agent_released", holder)

    async def _release(
        self, business_id: str, wa_id: str, allowed_from: Sequence[str], reason: str, actor: str
    ) -> HandoffChange:
        change = await self.store.change(business_id, wa_id, BOT, allowed_from, reason, actor, self._clock())
        if change.changed:
            await self.tracker.set_paused(Recipient(business_id, wa_id).sender_id, False)
        return change

    async def release_idle(self) -> list[HandoffChange]:
        """Give back to the bot every thread held with no agent answer for the configured time. Each release
        is a compare-and-set on the holder seen, so across processes a thread is released once."""
        now = self._clock()
        released = []
        for handoff in await self.store.held():
            if is_idle(handoff, now, self._idle_seconds):
                change = await self._release(
                    handoff.business_id, handoff.wa_id, (handoff.holder,), "idle_release", "gateway"
                )
                if change.changed:
                    released.append(change)
        if released:
            log.info("gave %d idle threads back to the bot", len(released))
        return released

    def start(self) -> None:
        """The idle release, when configured (`HANDOFF_IDLE_RELEASE_MINUTES` > 0)."""
        if self._idle_seconds > 0:
            self._background.spawn(self._idle_loop())

    async def _idle_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.release_idle()
            except Exception:
                log.exception("idle release failed; trying again in %ss", self._check_seconds)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._check_seconds)

    async def stop(self) -> None:
        self._stopping.set()
        await self._background.wait()
