"""Processing stored webhooks after they were acknowledged: record, dedupe, order, hand to the bot.

The order of work for one webhook: claim it in the inbox (once across processes), parse every entry,
change and item, record guest messages (a WhatsApp message id is recorded once, by a unique index) and
statuses (never downgrading one), mark the webhook done, then give each new guest message to the bot. A
conversation's messages reach the bot one after another in WhatsApp's order; different conversations
proceed in parallel. What a stopped process left half-done is picked up by `recover` at the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from .graph import GraphClient
from .inbound import InboundMessage, StatusUpdate, WebhookBatch, parse_webhook, rasa_metadata, rasa_text
from .settings import GatewaySettings
from .store import GatewayStore, InboundRecord, PendingDispatch, StatusRecord

log = logging.getLogger(__name__)
MAX_CONCURRENT_WEBHOOKS = 32

BotHandler = Callable[[PendingDispatch], Awaitable[None]]


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
    """Works through the inbox in the background of one gateway process."""

    def __init__(
        self,
        store: GatewayStore,
        graph: GraphClient,
        settings: GatewaySettings,
        bot: BotHandler,
        clock: Callable[[], float],
        owner: str,
    ) -> None:
        self._store = store
        self._graph = graph
        self._settings = settings
        self._bot = bot
        self._clock = clock
        self._owner = owner
        self._locks = ConversationLocks()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_WEBHOOKS)
        self._tasks: set[asyncio.Task[Any]] = set()

    def submit(self, inbox_id: int) -> None:
        """Process a webhook that was just stored and acknowledged."""
        if self._settings.process_inbox:
            self._spawn(self.process(inbox_id))

    def recover_in_background(self) -> None:
        """Start `recover` without holding up the server's start."""
        if self._settings.process_inbox:
            self._spawn(self.recover())

    async def recover(self) -> None:
        """Process what a stopped process left: unprocessed webhooks, then messages never given to the bot."""
        lease = self._settings.claim_lease_seconds
        unfinished = await self._store.unfinished_webhooks(self._clock(), lease)
        if unfinished:
            log.info("recovering %d webhooks stored but not processed", len(unfinished))
        for inbox_id in unfinished:
            await self.process(inbox_id)
        pending = await self._store.pending_dispatches(self._clock(), lease)
        if pending:
            log.info("recovering %d guest messages never given to the bot", len(pending))
        await self._dispatch_all(pending)

    async def process(self, inbox_id: int) -> None:
        async with self._slots:
            raw = await self._store.claim_webhook(
                inbox_id, self._owner, self._clock(), self._settings.claim_lease_seconds
            )
            if raw is None:
                return
            try:
                payload = json.loads(raw)
            except ValueError as error:
                log.error("webhook %d is not JSON (%s); kept in the inbox as malformed", inbox_id, error)
                await self._store.finish_webhook(inbox_id, self._clock(), "malformed", str(error))
                return
            batch = parse_webhook(payload)
            new = await self._record(batch)
            problems = "; ".join(f"{u.path}: {u.reason}" for u in batch.unknown) or None
            for unknown in batch.unknown:
                log.warning("webhook %d: unused part %s (%s)", inbox_id, unknown.path, unknown.reason)
            await self._store.finish_webhook(inbox_id, self._clock(), "done", problems)
        await self._dispatch_all(new)

    async def _record(self, batch: WebhookBatch) -> list[PendingDispatch]:
        new: list[PendingDispatch] = []
        for message in sorted(batch.messages, key=lambda m: m.timestamp):
            if message.wa_id is None:
                log.warning("message %s has no wa_id (username-only guest); not answerable yet", message.message_id)
                continue
            record = _inbound_record(message)
            if await self._store.record_inbound(record, self._clock()):
                new.append(_pending(record))
            else:
                log.info("message %s already recorded; duplicate delivery ignored", message.message_id)
        for status in batch.statuses:
            await self._store.apply_status(_status_record(status), self._clock())
        for error in batch.errors:
            log.error("webhook error for %s: %s %s", error.phone_number_id, error.error.code, error.error.title)
        for update in batch.template_updates:
            log.info("template %s (%s) is now %s", update.name, update.language, update.event)
        return new

    async def _dispatch_all(self, pending: list[PendingDispatch]) -> None:
        """Conversations in parallel; within one, `_drain` keeps WhatsApp's order."""
        conversations = {(item.business_id, item.wa_id) for item in pending}
        await asyncio.gather(*(self._locks.run(key, lambda key=key: self._drain(key)) for key in conversations))

    async def _drain(self, key: tuple[str, str]) -> None:
        """Give the bot every waiting message of one conversation, oldest WhatsApp timestamp first.

        Reading the waiting messages from the store under the conversation's lock, rather than dispatching
        the ones this webhook carried, keeps the order even when two webhooks of one guest race.
        """
        lease = self._settings.claim_lease_seconds
        for item in await self._store.pending_dispatches(self._clock(), lease, conversation=key):
            await self._dispatch(item)

    async def _dispatch(self, item: PendingDispatch) -> None:
        lease = self._settings.claim_lease_seconds
        if not await self._store.claim_dispatch(item.wamid, self._clock(), lease):
            return
        if self._settings.mark_read:
            self._spawn(self._mark_read(item))
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

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background processing failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the work under way (tests and shutdown use it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()


def _inbound_record(message: InboundMessage) -> InboundRecord:
    meta = rasa_metadata(message)
    return InboundRecord(
        business_id=message.phone_number_id,
        wa_id=message.wa_id or "",
        wamid=message.message_id,
        type=message.type,
        text=rasa_text(message),
        body=meta,
        meta=meta,
        wa_timestamp=message.timestamp,
        profile_name=message.profile_name,
    )


def _pending(record: InboundRecord) -> PendingDispatch:
    return PendingDispatch(
        record.wamid, record.business_id, record.wa_id, record.text, record.meta, record.wa_timestamp
    )


def _status_record(status: StatusUpdate) -> StatusRecord:
    error = status.errors[0] if status.errors else None
    pricing = status.pricing
    conversation = status.conversation
    return StatusRecord(
        wamid=status.message_id,
        status=status.raw_status,
        wa_timestamp=status.timestamp,
        recipient_id=status.recipient_id,
        error_code=error.code if error else None,
        error_title=error.title if error else None,
        error_details=error.details if error else None,
        pricing=(
            {
                "billable": pricing.billable,
                "pricing_model": pricing.pricing_model,
                "type": pricing.type,
                "category": pricing.category,
            }
            if pricing
            else None
        ),
        conversation=(
            {
                "id": conversation.id,
                "expiration_timestamp": conversation.expiration_timestamp,
                "origin": conversation.origin_type,
            }
            if conversation
            else None
        ),
        callback_data=status.biz_opaque_callback_data,
    )
