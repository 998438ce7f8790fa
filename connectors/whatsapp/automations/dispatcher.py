"""The outbox's workers in one gateway process: claim due messages, pace them, send them, record them.

Per claimed group: guests who opted out are cancelled; messages whose template is paused or disabled are
held; free text whose window has closed becomes the purpose's template (or fails, when it was explicit text);
guests over the pair rate wait for their turn; then the business number's limiter hands out evenly spaced
slots (slightly under the limit, a margin between processes) and each message goes at its slot, once this
process's `SendWindow` has room for it (never more than the limit in one second as WhatsApp counts).
Outcomes are written in groups, one transaction each.

Retries belong to the queue, not to the HTTP client: a throttled (130429, 131056) or failed-for-now send goes
back to the queue with a later `due_at`, and the number or guest is slowed down; a permanent error is
recorded and never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from cloudapi.errors import GraphApiError, TemplateError, is_retryable, went_unanswered
from cloudapi.graph import GraphClient
from cloudapi.outbound import addressed
from cloudapi.window import window_state
from connectors.whatsapp.automations.decisions import Automations, GuestFacts, holdable
from connectors.whatsapp.automations.outbox import Outbox
from connectors.whatsapp.automations.outbox_records import Outcome, QueuedMessage
from connectors.whatsapp.automations.pacing import Pacer
from connectors.whatsapp.automations.send_window import SendWindow
from connectors.whatsapp.costs import price
from connectors.whatsapp.sending import summary
from connectors.whatsapp.settings import AutomationSettings
from connectors.whatsapp.store import OutboundRecord
from connectors.whatsapp.templates import HOLDING_STATUSES
from hotel.facts import Hotel
from hotel.template_choice import ChoiceError, TemplateChoice, choose_message

log = logging.getLogger(__name__)

CLAIM_SIZE = 200
"""The fewest messages one claim takes; a claim takes a second of the fastest number's sends when that is more,
so a claim held up behind other writers (a batch being queued) does not leave that number with nothing to send."""
SCHEDULE_SECONDS = 2.0
"""How far ahead one process fills a number's schedule before it leaves the rest to the queue."""
PACE_MARGIN = 0.97
"""Slots are handed out at this share of the limit, evenly spaced across processes: a margin for the jitter
between processes. Within one process, `SendWindow` keeps WhatsApp's own count under the limit itself."""
IDLE_POLL_SECONDS = 1.0
FLUSH_SECONDS = 0.05
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_SECONDS = 300.0
THROTTLE_PENALTY_SECONDS = 1.0
UNANSWERED_WAIT_SECONDS = 30.0
"""How long a send that timed out waits before the queue tries it again: WhatsApp may have accepted it, and
its status webhook (by callback data) arrives within seconds; the queue looks for one before sending again."""
STOP_GRACE_SECONDS = 10.0


class Dispatcher:
    def __init__(
        self,
        automations: Automations,
        outbox: Outbox,
        graph: GraphClient,
        pacer: Pacer,
        hotels: Mapping[str, Hotel],
        settings: AutomationSettings,
        clock: Callable[[], float],
        owner: str,
        lease: float,
    ) -> None:
        self._automations = automations
        self._outbox = outbox
        self._graph = graph
        self._pacer = pacer
        self._hotels = hotels
        self._settings = settings
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._claims = itertools.count()
        self._claim_size = max(CLAIM_SIZE, settings.throughput_per_second, *settings.throughput_overrides.values())
        self._scheduled: dict[str, int] = {}
        self._windows: dict[str, SendWindow] = {}
        """Per number, this process's sends that may still count in WhatsApp's one-second window."""
        self._sends: dict[int, asyncio.Task[None]] = {}
        self._done: list[Outcome] = []
        self._guests: dict[int, GuestFacts] = {}
        """What was known of the guest when each scheduled message was screened, for its price."""
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [loop.create_task(self._claim_loop()), loop.create_task(self._flush_loop())]

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop claiming; sends already at WhatsApp finish, sends still waiting for their slot go back to the
        queue (due now) for the next process."""
        self._stopping.set()
        self._wakeup.set()
        waiting = list(self._sends.items())
        for _, task in waiting:
            task.cancel()
        await asyncio.gather(*(task for _, task in waiting), return_exceptions=True)
        _, unfinished = await asyncio.wait(self._loops, timeout=grace) if self._loops else (set(), set())
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self._flush()

    # --- claiming --------------------------------------------------------------------------------------

    def _busy(self) -> list[str]:
        return [
            number
            for number, count in self._scheduled.items()
            if count >= max(CLAIM_SIZE, SCHEDULE_SECONDS * self._settings.throughput_of(number))
        ]

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                claimed = await self._outbox.claim(
                    f"{self._owner}:q{next(self._claims)}", self._clock(), self._lease, self._claim_size, self._busy()
                )
                if claimed:
                    await self._schedule(claimed)
                    continue
                await self._idle()
            except Exception:
                log.exception("the outbox worker failed; trying again in %ss", IDLE_POLL_SECONDS)
                await self._idle()

    async def _idle(self) -> None:
        self._wakeup.clear()
        wait = FLUSH_SECONDS if self._busy() else IDLE_POLL_SECONDS
        if not self._busy():
            next_due = await self._outbox.next_due()
            if next_due is not None:
                wait = min(wait, max(0.0, next_due - self._clock()))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), max(wait, 0.01))

    async def _schedule(self, claimed: Sequence[QueuedMessage]) -> None:
        sent_before = await self._outbox.already_sent(claimed)
        by_number: dict[str, list[QueuedMessage]] = {}
        for message in claimed:
            if message.id in sent_before:
                log.warning("automation message %d was sent by a process that stopped: not sent again", message.id)
                request = addressed(message.body, message.wa_id, callback_data=message.callback_data)
                self._finished(await self._sent(message, request, sent_before[message.id], None))
                continue
            by_number.setdefault(message.business_id, []).append(message)
        for number, group in by_number.items():
            ready = await self._screen(number, group)
            ready = await self._pair_paced(number, ready)
            if not ready:
                continue
            interval = 1.0 / (self._settings.throughput_of(number) * PACE_MARGIN)
            start = await self._pacer.reserve(f"number:{number}", len(ready), interval)
            self._scheduled[number] = self._scheduled.get(number, 0) + len(ready)
            for position, message in enumerate(ready):
                task = asyncio.get_running_loop().create_task(self._send_at(message, start + position * interval))
                self._sends[message.id] = task

    async def _screen(self, number: str, group: Sequence[QueuedMessage]) -> list[QueuedMessage]:
        """Consent (and a marketing stop, for a template that is marketing now), template status and the window,
        checked again now that the messages are due."""
        hotel = self._hotels[number]
        facts = await self._automations.guest_facts(number, [m.wa_id for m in group])
        templates = await self._automations.catalog.templates_of(hotel.business_account_id)
        by_key = {(t.name, t.language): t for t in templates}
        ready: list[QueuedMessage] = []
        for message in group:
            guest = facts[message.wa_id]
            if guest.opted_out:
                self._finished(Outcome(message.id, "cancelled", error_title="the guest opted out before it was sent"))
                continue
            if message.template_name is None:
                last = guest.last_inbound.at if guest.last_inbound else None
                if not window_state(last, self._clock()).open:
                    rechosen = self._as_template(message, templates)
                    if isinstance(rechosen, Outcome):
                        self._finished(rechosen)
                        continue
                    message = rechosen
            if message.template_name is not None:
                template = by_key.get((message.template_name, message.template_language or ""))
                if template is None or not holdable(template):
                    status = template.status if template else "missing"
                    title = f"template {message.template_name} ({message.template_language}) is {status}"
                    self._finished(Outcome(message.id, "failed", error_title=title))
                    continue
                if template.category == "MARKETING" and guest.marketing_stopped:
                    title = "the guest stopped marketing messages in WhatsApp before it was sent"
                    self._finished(Outcome(message.id, "cancelled", error_title=title))
                    continue
                if template.status in HOLDING_STATUSES:
                    self._finished(Outcome(message.id, "held", error_title=f"template is {template.status}"))
                    continue
            self._guests[message.id] = guest
            ready.append(message)
        return ready

    def _as_template(self, message: QueuedMessage, templates: Sequence[Any]) -> QueuedMessage | Outcome:
        """Free text whose window closed before it was due: the purpose's template instead; explicit text
        cannot go."""
        reason = "customer service window closed before the message was due"
        if message.purpose is None or message.purpose_values is None:
            return Outcome(message.id, "failed", error_code=131047, error_title=reason)
        try:
            picked = choose_message(
                message.purpose,
                message.language or "en",
                False,
                [replace(t, status="APPROVED") if holdable(t) else t for t in templates],
                message.purpose_values,
            )
        except ChoiceError as error:
            return Outcome(message.id, "failed", error_title=f"{reason}; {error.reason}")
        assert isinstance(picked, TemplateChoice)
        return replace(
            message,
            body=picked.message(),
            template_name=picked.name,
            template_language=picked.language,
            category=picked.category,
        )

    async def _pair_paced(self, number: str, ready: list[QueuedMessage]) -> list[QueuedMessage]:
        keys = [f"pair:{number}:{m.wa_id}" for m in ready]
        answers = await self._pacer.admit(keys, self._settings.pair_interval_seconds, self._settings.pair_burst)
        allowed = []
        for message, answer in zip(ready, answers, strict=True):
            if answer == 0.0:
                allowed.append(message)
            else:
                self._guests.pop(message.id, None)
                due = self._clock() + max(0.0, answer - time.time())
                self._finished(Outcome(message.id, "queued", due_at=due))
        return allowed

    # --- sending ---------------------------------------------------------------------------------------

    def _window(self, number: str) -> SendWindow:
        window = self._windows.get(number)
        if window is None:
            window = self._windows[number] = SendWindow(self._settings.throughput_of(number))
        return window

    async def _send_at(self, message: QueuedMessage, slot: float) -> None:
        try:
            await asyncio.sleep(max(0.0, slot - time.time()))
            # Sends that wake late together (a busy event loop) may catch up, but never put more than the
            # limit in any one-second window of this process's sends to the number, as WhatsApp counts them.
            async with self._window(message.business_id).send():
                outcome = await self._send(message)
            self._finished(outcome)
        except asyncio.CancelledError:
            self._guests.pop(message.id, None)
            self._finished(Outcome(message.id, "queued", due_at=self._clock()))
        finally:
            self._sends.pop(message.id, None)
            self._scheduled[message.business_id] -= 1

    async def _send(self, message: QueuedMessage) -> Outcome:
        guest = self._guests.get(message.id)
        # The number WhatsApp last gave for the guest, when their key is another id (a BSUID, an old number).
        to = (guest.last_inbound.phone if guest is not None and guest.last_inbound else None) or message.wa_id
        request = addressed(message.body, to, callback_data=message.callback_data)
        try:
            # The queue retries by itself, later and with the number slowed down: one attempt per send here.
            wamid = await self._graph.send(message.business_id, request, attempts=1)
        except Exception as error:
            self._guests.pop(message.id, None)
            return await self._failure(message, request, error)
        return await self._sent(message, request, wamid, self._guests.pop(message.id, None))

    async def _sent(
        self, message: QueuedMessage, request: dict[str, Any], wamid: str, guest: GuestFacts | None
    ) -> Outcome:
        """A send WhatsApp accepted, priced and ready to record (`guest` None: priced as outside the window,
        for a send only known from its status)."""
        now = self._clock()
        last_inbound = guest.last_inbound.at if guest is not None and guest.last_inbound else None
        in_window = window_state(last_inbound, now).open
        in_entry_point = guest is not None and guest.entry_points.open_at(now)
        kind = (message.category or "service").lower()
        used = await self._automations.service_used(message.business_id, now) if kind == "service" else 0
        charge = price(self._automations.card, kind, message.region, in_window, now, used, in_entry_point)
        return Outcome(
            message.id,
            "sent",
            record=self._record(message, request, "accepted", wamid=wamid),
            wamid=wamid,
            sent_at=now,
            in_window=in_window,
            charge=charge,
            body=message.body,
            category=message.category,
            template_name=message.template_name,
            template_language=message.template_language,
        )

    async def _failure(self, message: QueuedMessage, request: dict[str, Any], error: Exception) -> Outcome:
        attempts = message.attempts + 1
        code = error.code if isinstance(error, GraphApiError) else None
        title = error.title if isinstance(error, GraphApiError) else f"network error: {type(error).__name__}"
        details = error.details if isinstance(error, GraphApiError) else None
        if isinstance(error, TemplateError) and code in (132015, 132016):
            return Outcome(message.id, "held", attempts=attempts, error_code=code, error_title=title)
        if is_retryable(error) and attempts < self._settings.max_attempts:
            delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1)) * random.uniform(0.5, 1.0)
            if code == 130429:
                await self._pacer.push_back(f"number:{message.business_id}", time.time() + THROTTLE_PENALTY_SECONDS)
                delay = THROTTLE_PENALTY_SECONDS
            elif code == 131056:
                pause = self._settings.pair_interval_seconds
                await self._pacer.push_back(f"pair:{message.business_id}:{message.wa_id}", time.time() + pause)
                delay = pause
            elif went_unanswered(error):
                delay = max(delay, UNANSWERED_WAIT_SECONDS)
            log.info("automation message %d: %s; retry %d in %.1fs", message.id, title, attempts, delay)
            return Outcome(
                message.id,
                "queued",
                due_at=self._clock() + delay,
                attempts=attempts,
                error_code=code,
                error_title=title,
            )
        log.warning("automation message %d failed: (%s) %s", message.id, code, title)
        return Outcome(
            message.id,
            "failed",
            record=self._record(message, request, "failed", error_code=code, error_title=title, error_details=details),
            attempts=attempts,
            error_code=code,
            error_title=title,
            error_details=details,
        )

    @staticmethod
    def _record(message: QueuedMessage, request: dict[str, Any], state: str, **outcome: Any) -> OutboundRecord:
        return OutboundRecord(
            business_id=message.business_id,
            wa_id=message.wa_id,
            type=str(message.body.get("type", "unknown")),
            text=summary(message.body),
            body=request,
            state=state,
            origin=message.origin,
            **outcome,
        )

    # --- recording -------------------------------------------------------------------------------------

    def _finished(self, outcome: Outcome) -> None:
        self._done.append(outcome)

    async def _flush_loop(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), FLUSH_SECONDS)
            try:
                await self._flush()
            except Exception:
                log.exception("recording automation outcomes failed; trying again")

    async def _flush(self) -> None:
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            await self._outbox.finish(done, self._clock())
        except Exception:
            self._done[:0] = done
            raise
        if any(o.state == "queued" for o in done):
            self._wakeup.set()
