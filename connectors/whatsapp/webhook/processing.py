"""Processing stored webhooks after they were acknowledged: record, dedupe, order, hand to the bot.

The order of work for a batch of webhooks: claim them in the inbox (once across processes), parse every
entry, change and item, record guest messages (a WhatsApp message id is recorded once, by a unique index,
and claimed for the bot by the process that recorded it) and statuses (never downgrading one), mark the
webhooks done, then give each new guest message to the bot. A conversation's messages reach the bot one
after another in WhatsApp's order; different conversations proceed in parallel. What a stopped process left
half-done is picked up by the sweep of any live process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from background import BackgroundTasks
from cloudapi.graph import GraphClient
from cloudapi.inbound import (
    InboundMessage,
    StatusUpdate,
    TemplateStatusUpdate,
    WebhookBatch,
    parse_webhook,
)
from connectors.whatsapp.bot_input import rasa_metadata, rasa_text
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import BatchContents, GatewayStore, InboundRecord, PendingDispatch, StatusRecord

log = logging.getLogger(__name__)
BATCH_SIZE = 200
STOP_GRACE_SECONDS = 10.0

BotHandler = Callable[[PendingDispatch], Awaitable[None]]
Screen = Callable[[PendingDispatch], Awaitable[bool]]
"""Asked before the bot gets a guest message; False keeps the message from the bot (a person holds the thread)."""


class InboxListener(Protocol):
    """Sees each processed batch before the bot does (the automations: opt-outs, template news); returns the
    guest messages still for the bot."""

    async def after_batch(
        self, new: list[InboundRecord], template_updates: list[TemplateStatusUpdate]
    ) -> list[InboundRecord]: ...


class ConversationLocks:
    """One FIFO lock per conversation, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    async def run(self, key: tuple[str, str], work: Callable[[], Awaitable[None]]) -> None:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await work()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class InboxProcessor:
    """Works through the inbox in the background of one gateway process.

    One pump claims stored webhooks in batches (across processes, a webhook is claimed once) and records
    what they carry in one transaction per batch; new guest messages then go to the bot, conversation by
    conversation. A sweep every `sweep_seconds` picks up what a stopped process left.
    """

    def __init__(
        self,
        store: GatewayStore,
        graph: GraphClient,
        settings: GatewaySettings,
        bot: BotHandler,
        clock: Callable[[], float],
        owner: str,
        screen: Screen | None = None,
        listener: InboxListener | None = None,
    ) -> None:
        self._listener = listener
        self._store = store
        self._screen = screen
        self._graph = graph
        self._settings = settings
        self._bot = bot
        self._clock = clock
        self._owner = owner
        self._locks = ConversationLocks()
        self._batch_numbers = itertools.count()
        self._one_batch_at_a_time = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._background = BackgroundTasks(log, "background processing")
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the pump and the sweep (which also recovers at once); a no-op for an ingest-only process."""
        if self._settings.process_inbox and not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [loop.create_task(self._pump()), loop.create_task(self._sweep())]

    def submit(self) -> None:
        """A webhook was stored: wake the pump."""
        self._wakeup.set()

    async def _pump(self) -> None:
        while not self._stopping.is_set():
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._stopping.is_set():
                return
            try:
                await self.process_pending()
            except Exception:
                log.exception("processing the inbox failed; the sweep will try again")

    async def _sweep(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.recover()
            except Exception:
                log.exception("inbox sweep failed; trying again in %ss", self._settings.sweep_seconds)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._settings.sweep_seconds)

    async def recover(self) -> None:
        """Process what is left: unprocessed webhooks, then guest messages whose process stopped before
        the bot finished with them."""
        await self.process_pending()
        stale = await self._store.pending_dispatches(self._clock(), self._settings.claim_lease_seconds)
        if stale:
            log.info("taking over %d guest messages a stopped process never finished", len(stale))
        await self._dispatch_all(stale, reclaim=True)

    async def process_pending(self) -> None:
        """Claim and process stored webhooks, a batch at a time, until none is left."""
        while not self._stopping.is_set():
            async with self._one_batch_at_a_time:
                token = f"{self._owner}:{next(self._batch_numbers)}"
                updates: list[TemplateStatusUpdate] = []
                new = await self._store.process_webhooks(
                    token, self._clock(), BATCH_SIZE, functools.partial(_interpret, template_updates=updates)
                )
                if new is None:
                    return
            if self._listener is not None:
                try:
                    new = await self._listener.after_batch(new, updates)
                except Exception:
                    log.exception("the automations could not look at a batch; every message goes to the bot")
            self._background.spawn(self._dispatch_all([_pending(record) for record in new], reclaim=False))

    async def _dispatch_all(self, items: list[PendingDispatch], reclaim: bool) -> None:
        """Conversations in parallel; within one, WhatsApp's order (the items come sorted by timestamp).

        Messages this process just recorded are already claimed for it; `reclaim` takes over ones a stopped
        process left, each once across processes.
        """
        by_conversation: dict[tuple[str, str], list[PendingDispatch]] = {}
        for item in items:
            by_conversation.setdefault((item.business_id, item.wa_id), []).append(item)
        await asyncio.gather(
            *(
                self._locks.run(key, lambda queue=queue: self._dispatch_in_order(queue, reclaim))
                for key, queue in by_conversation.items()
            )
        )

    async def _dispatch_in_order(self, queue: list[PendingDispatch], reclaim: bool) -> None:
        for item in sorted(queue, key=lambda i: i.wa_timestamp):
            if reclaim:
                token = f"{self._owner}:{next(self._batch_numbers)}"
                if not await self._store.reclaim_dispatch(
                    item.wamid, token, self._clock(), self._settings.claim_lease_seconds
                ):
                    continue
            await self._dispatch(item)

    async def _dispatch(self, item: PendingDispatch) -> None:
        if self._screen is not None and not await self._screen(item):
            await self._store.finish_dispatch(item.wamid, state="held")
            return
        if self._settings.mark_read:
            self._background.spawn(self._mark_read(item))
        try:
            await self._bot(item)
        except Exception:
            log.exception("the bot failed on message %s", item.wamid)
        await self._store.finish_dispatch(item.wamid)

    async def _mark_read(self, item: PendingDispatch) -> None:
        try:
            await self._graph.mark_read(item.business_id, item.wamid, self._settings.typing_indicator)
        except Exception as error:
            log.warning("could not mark %s as read: %s", item.wamid, error)

    async def drain(self) -> None:
        """Process everything stored and wait for the bot's work under way (tests and benchmarks use it)."""
        if self._settings.process_inbox:
            await self.process_pending()
        await self._background.wait()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let the work under way finish (up to `grace` seconds, then cancel it), so every task has given its
        database connection back before the store closes them: a task cancelled in the middle of a query
        can strand its connection, and SQLite's connection thread with it."""
        self._stopping.set()
        self._wakeup.set()
        tasks = [*self._loops, *self._background.running]
        if not tasks:
            return
        _, unfinished = await asyncio.wait(tasks, timeout=grace)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)


def _interpret(
    rows: list[tuple[int, bytes]], template_updates: list[TemplateStatusUpdate] | None = None
) -> BatchContents:
    """Parse stored webhooks into what the store records; a body that is not JSON is kept as malformed.
    Template status updates are also handed out through `template_updates`."""
    inbound: list[InboundRecord] = []
    status_records: list[StatusRecord] = []
    finished: list[tuple[int, str, str | None]] = []
    for inbox_id, raw in rows:
        try:
            payload = json.loads(raw)
        except ValueError as error:
            log.error("webhook %d is not JSON (%s); kept in the inbox as malformed", inbox_id, error)
            finished.append((inbox_id, "malformed", str(error)))
            continue
        batch = parse_webhook(payload)
        if template_updates is not None:
            template_updates.extend(batch.template_updates)
        inbound.extend(_inbound_records(batch))
        status_records.extend(_status_record(s) for s in batch.statuses)
        _log_the_rest(inbox_id, batch)
        problems = "; ".join(f"{u.path}: {u.reason}" for u in batch.unknown) or None
        finished.append((inbox_id, "done", problems))
    return BatchContents(inbound, status_records, finished)


def _inbound_records(batch: WebhookBatch) -> list[InboundRecord]:
    records = []
    for message in sorted(batch.messages, key=lambda m: m.timestamp):
        if message.wa_id is None:
            log.warning("message %s has no wa_id (username-only guest); not answerable yet", message.message_id)
            continue
        records.append(_inbound_record(message))
    return records


def _log_the_rest(inbox_id: int, batch: WebhookBatch) -> None:
    """What the gateway keeps only in the inbox and the logs: webhook errors, template news, unknown parts."""
    for error in batch.errors:
        log.error("webhook error for %s: %s %s", error.phone_number_id, error.error.code, error.error.title)
    for update in batch.template_updates:
        log.info("template %s (%s) is now %s", update.name, update.language, update.event)
    for unknown in batch.unknown:
        log.warning("webhook %d: unused part %s (%s)", inbox_id, unknown.path, unknown.reason)


def _inbound_record(message: InboundMessage) -> InboundRecord:
    meta = rasa_metadata(message)
    return InboundRecord(
        business_id=message.phone_number_id,
        wa_id=message.wa_id or "",
        wamid=message.message_id,
        type=message.type,
        text=rasa_text(message),
        meta=meta,
        wa_timestamp=message.timestamp,
        profile_name=message.profile_name,
        referral=message.referral,
    )


def _pending(record: InboundRecord) -> PendingDispatch:
    return PendingDispatch(
        record.wamid, record.business_id, record.wa_id, record.text, record.meta, record.wa_timestamp
    )


def _status_record(status: StatusUpdate) -> StatusRecord:
    return StatusRecord(
        wamid=status.message_id,
        status=status.raw_status,
        wa_timestamp=status.timestamp,
        recipient_id=status.recipient_id,
        errors=status.errors,
        pricing=status.pricing,
        conversation=status.conversation,
        callback_data=status.biz_opaque_callback_data,
    )
