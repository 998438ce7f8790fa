"""Processing stored webhooks after they were acknowledged: record, dedupe, order, hand to the bot.

The order of work for a batch of webhooks: claim them in the inbox (once across processes), parse every
entry, change and item, record guest messages (a WhatsApp message id is recorded once, by a unique index,
and claimed for the bot by the process that recorded it), statuses (never downgrading one) and what else the
webhooks say (guests' edits and deletions, marketing preferences, account events: `account_news`), mark the
webhooks done, then give each new guest message to the bot. A conversation's messages reach the bot one
after another in WhatsApp's order; different conversations proceed in parallel. What a stopped process left
half-done is picked up by the sweep of any live process.

An intake process (`run_turns` off: `connectors.whatsapp.intake_server`) records batches and runs no turn:
the processes running Rasa pick its guest messages up, so the Rasa server's event loop spends itself on
turns, not on webhooks (`python -m benchmarks.cluster`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from background import BackgroundTasks
from cloudapi.graph import GraphClient
from cloudapi.inbound import (
    InboundMessage,
    StatusUpdate,
    System,
    WebhookBatch,
    parse_webhook,
)
from cloudapi.user_ids import conversation_key
from connectors.whatsapp.bot_input import rasa_metadata, rasa_text
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import (
    INTAKE,
    BatchContents,
    DispatchStore,
    GatewayStore,
    GuestIds,
    InboundRecord,
    PendingDispatch,
    StatusRecord,
    owner_of,
)
from connectors.whatsapp.templates import TemplateNews
from connectors.whatsapp.webhook.account_news import BatchNews, template_news

log = logging.getLogger(__name__)
BATCH_SIZE = 200
_IDENTITY_NOTICES = frozenset({"user_changed_number", "user_changed_user_id"})
STOP_GRACE_SECONDS = 10.0
OTHER_PROCESS_POLL_SECONDS = 0.2
"""How often a conversation whose older message another live process is working on looks again."""

BotHandler = Callable[[PendingDispatch], Awaitable[None]]
"""Gives a guest message to the bot; raising means the turn failed and is worth trying again."""
Screen = Callable[[PendingDispatch], Awaitable[PendingDispatch | None]]
"""Asked before the bot gets a guest message: the message as the bot should see it (its metadata may say the thread
waits in the agents' queue), or None to keep it from the bot (an agent holds the thread)."""


class InboxListener(Protocol):
    """Sees each processed batch before the bot does (the automations: opt-outs, template news); returns the
    guest messages still for the bot."""

    async def after_batch(
        self, new: list[InboundRecord], template_updates: list[TemplateNews]
    ) -> list[InboundRecord]: ...


class ConversationLocks:
    """One FIFO lock per conversation, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def busy(self, key: tuple[str, str]) -> bool:
        return key in self._locks

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
    conversation. A conversation is served from the store, oldest unfinished message first: one this process
    claimed, or one a stopped process left (taken over at once: processes beat in the store, and one that
    stopped beating is stopped), while one a live process is working on is waited for. So a guest's messages
    reach the bot in WhatsApp's order across crashes too. A sweep every `sweep_seconds` processes webhooks an
    ingest-only process stored.

    A process that runs no turns (`run_turns` off) beats but serves nothing: once the automations have seen a
    batch, it hands the batch's guest messages to the intake's claim, and every process that runs turns looks
    for those every `pickup_seconds` (with 0, when its heartbeat looks for stopped processes'). Until then
    they are its own, so no turn starts on a message the automations keep for themselves (an opt-out); if it
    dies first, they are taken over like any stopped process's.
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
        failed_turn: BotHandler | None = None,
    ) -> None:
        self._listener = listener
        self._store = store
        self._dispatches = DispatchStore(store)
        self._screen = screen
        self._graph = graph
        self._settings = settings
        self._bot = bot
        self._failed_turn = failed_turn
        self._clock = clock
        self._owner = owner
        self._registered = False
        self._recording: set[str] = set()
        """Claims of the batches being recorded: their messages wait until the automations have seen them."""
        self._locks = ConversationLocks()
        self._batch_numbers = itertools.count()
        self._one_batch_at_a_time = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._background = BackgroundTasks(log, "background processing")
        self._loops: list[asyncio.Task[None]] = []
        self.media: Callable[[list[InboundRecord]], None] | None = None
        """Told of each batch's new guest messages, to fetch their media in the background (`media.keeper`)."""

    def start(self) -> None:
        """Start the pump and the sweep, and where turns run the heartbeat (which also takes over at once what
        stopped processes left) and the pickup of what intake processes recorded; a no-op for an ingest-only
        process."""
        if self._settings.process_inbox and not self._loops:
            loop = asyncio.get_running_loop()
            picks_up = self._settings.run_turns and self._settings.pickup_seconds > 0
            jobs = [self._pump, self._sweep, self._heartbeat, *((self._pickup,) if picks_up else ())]
            self._loops = [loop.create_task(job()) for job in jobs]

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

    async def _heartbeat(self) -> None:
        await self._every(self._settings.worker_timeout_seconds / 3, self._beat_and_take_over, "heartbeat")

    async def _sweep(self) -> None:
        await self._every(self._settings.sweep_seconds, self.process_pending, "inbox sweep")

    async def _every(self, interval: float, work: Callable[[], Awaitable[None]], what: str) -> None:
        """Run `work` now and then every `interval` seconds until the processor stops; a failure is logged and
        the next round tries again."""
        while not self._stopping.is_set():
            try:
                await work()
            except Exception:
                log.exception("%s failed; trying again in %.1fs", what, interval)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def _pickup(self) -> None:
        await self._every(self._settings.pickup_seconds, self._pick_up, "pickup")

    async def _pick_up(self) -> None:
        waiting = [key for key in await self._dispatches.from_intake() if not self._locks.busy(key)]
        if waiting:
            self._background.spawn(self._serve_all(waiting))

    async def _beat_and_take_over(self) -> None:
        await self._beat()
        if not self._settings.run_turns:
            return
        orphaned = await self._orphaned()
        if orphaned:
            log.info("serving %d conversations left unanswered", len(orphaned))
            self._background.spawn(self._serve_all(orphaned))

    async def _beat(self) -> None:
        await self._dispatches.beat(self._owner, self._clock(), self._settings.worker_timeout_seconds)
        self._registered = True

    async def _orphaned(self) -> list[tuple[str, str]]:
        """Conversations with unfinished messages no one is serving: a stopped process's, or this one's that a
        failure (the store going away mid-turn) left behind."""
        others = await self._others_alive()
        return [key for key in await self._dispatches.orphaned(others) if not self._locks.busy(key)]

    async def _others_alive(self) -> set[str]:
        return await self._dispatches.live_owners(self._clock(), self._settings.worker_timeout_seconds) - {self._owner}

    async def recover(self) -> None:
        """Process what is left: unprocessed webhooks, then the guest messages of stopped processes."""
        await self.process_pending()
        if self._settings.run_turns:
            await self._serve_all(await self._orphaned())

    async def process_pending(self) -> None:
        """Claim and process stored webhooks, a batch at a time, until none is left."""
        if not self._registered:
            await self._beat()  # before claiming anything, or another process would take this one for stopped
        while not self._stopping.is_set():
            token = self._claim_token()
            self._recording.add(token)
            try:
                async with self._one_batch_at_a_time:
                    updates: list[TemplateNews] = []
                    new = await self._store.process_webhooks(
                        token, self._clock(), BATCH_SIZE, functools.partial(interpret, template_updates=updates)
                    )
                if new is None:
                    return
                if self.media is not None:
                    self.media(new)
                if self._listener is not None:
                    try:
                        new = await self._listener.after_batch(new, updates)
                    except Exception:
                        log.exception("the automations could not look at a batch; every message goes to the bot")
                if not self._settings.run_turns:
                    if new:
                        await self._dispatches.free_for_turns(token)
                    continue
                conversations = list(dict.fromkeys((record.business_id, record.wa_id) for record in new))
                self._background.spawn(self._serve_all(conversations))
            finally:
                # Done with the batch whatever happened: even if its commit's answer was lost with the
                # connection while the database committed it, its messages are this process's to serve.
                self._recording.discard(token)

    def _claim_token(self) -> str:
        return f"{self._owner}:{next(self._batch_numbers)}"

    async def _serve_all(self, conversations: list[tuple[str, str]]) -> None:
        """Conversations in parallel, each one message after another."""
        await asyncio.gather(*(self._locks.run(key, functools.partial(self._serve, key)) for key in conversations))

    async def _serve(self, conversation: tuple[str, str]) -> None:
        """Give the bot the conversation's unfinished messages, oldest first, until none is left that this
        process may take. A message of a batch this process is still recording (its automations are still
        looking at it) ends the turn here: that batch serves the conversation next."""
        while not self._stopping.is_set():
            waiting_for_another = False
            for item in await self._dispatches.unfinished(conversation):
                owner = owner_of(item.claimed_by)
                if owner == self._owner:
                    if item.claimed_by in self._recording:
                        return
                elif owner != INTAKE and owner in await self._others_alive():
                    waiting_for_another = True
                    break
                else:
                    token = self._claim_token()
                    if not await self._dispatches.take_over(item, token, self._clock()):
                        waiting_for_another = True
                        break
                    if owner == INTAKE:
                        log.debug("taking message %s from the intake", item.wamid)
                    else:
                        log.info("taking over message %s from a stopped process", item.wamid)
                    item = replace(item, claimed_by=token)
                await self._dispatch(item)
            if not waiting_for_another:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), OTHER_PROCESS_POLL_SECONDS)

    async def _dispatch(self, item: PendingDispatch) -> None:
        if self._screen is not None:
            screened = await self._screen(item)
            if screened is None:
                await self._store.finish_dispatch(item.wamid, state="held")
                return
            item = screened
        if self._settings.mark_read and not item.resumed:
            self._background.spawn(self._mark_read(item))
        await self._dispatches.start_turn(item.wamid, self._clock())
        attempts = self._settings.turn_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self._bot(item if attempt == 1 else replace(item, resumed=False))
                break
            except Exception as error:
                if self._stopping.is_set():
                    return  # left unfinished for the process that takes over
                if attempt == attempts:
                    log.error(
                        "the bot failed on message %s %d times (%s); handing it over", item.wamid, attempts, error
                    )
                    if self._failed_turn is not None:
                        await self._failed_turn(item)
                    break
                delay = self._settings.turn_retry_seconds * 2 ** (attempt - 1)
                log.warning(
                    "the bot failed on message %s (%s); attempt %d of %d in %.1fs",
                    item.wamid,
                    error,
                    attempt + 1,
                    attempts,
                    delay,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        if not self._stopping.is_set():
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
        can strand its connection, and SQLite's connection thread with it. Then leave the live processes,
        which take over at once whatever is left."""
        self._stopping.set()
        self._wakeup.set()
        tasks = [*self._loops, *self._background.running]
        if tasks:
            _, unfinished = await asyncio.wait(tasks, timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        if self._registered:
            try:
                await self._dispatches.forget(self._owner)
            except Exception as error:
                log.warning("could not leave the live processes (%s); they take over after the timeout", error)


def interpret(rows: list[tuple[int, bytes]], template_updates: list[TemplateNews] | None = None) -> BatchContents:
    """Parse stored webhooks into what the store records; a body that is not JSON is kept as malformed.
    Edits and revokes are amendments, never guest messages for the bot (`account_news.BatchNews`). Template
    webhooks (status, quality, category) are also handed out through `template_updates`."""
    news = BatchNews()
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
        batch = news.take(parse_webhook(payload))
        if template_updates is not None:
            template_updates.extend(template_news(batch))
        inbound.extend(_inbound_records(batch))
        status_records.extend(_status_record(s) for s in batch.statuses)
        _log_the_rest(inbox_id, batch)
        problems = "; ".join(f"{u.path}: {u.reason}" for u in batch.unknown) or None
        finished.append((inbox_id, "done", problems))
    return BatchContents(inbound, status_records, finished, news.amendments, news.preferences, news.account_events)


def _inbound_records(batch: WebhookBatch) -> list[InboundRecord]:
    records = []
    for message in sorted(batch.messages, key=lambda m: m.timestamp):
        if message.wa_id is None and message.user_id is None:
            log.warning("message %s names no guest (no number, no user id): kept in the inbox", message.message_id)
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
    system = message.content if isinstance(message.content, System) else None
    return InboundRecord(
        business_id=message.phone_number_id,
        wa_id=conversation_key(message.wa_id, message.user_id) or "",
        wamid=message.message_id,
        type=message.type,
        text=rasa_text(message),
        meta=meta,
        wa_timestamp=message.timestamp,
        profile_name=message.profile_name,
        referral=message.referral,
        ids=GuestIds(
            phone=message.wa_id,
            user_id=message.user_id,
            parent_user_id=message.parent_user_id,
            username=message.username,
            new_phone=system.new_wa_id if system else None,
            new_user_id=system.new_user_id if system else None,
        ),
        # WhatsApp's notices of a changed number or user id are kept in the thread, never a turn for the bot.
        for_bot=system is None or system.kind not in _IDENTITY_NOTICES,
    )


def _status_record(status: StatusUpdate) -> StatusRecord:
    return StatusRecord(
        wamid=status.message_id,
        status=status.raw_status,
        wa_timestamp=status.timestamp,
        recipient_id=status.recipient_id or status.recipient_user_id,
        errors=status.errors,
        pricing=status.pricing,
        conversation=status.conversation,
        callback_data=status.biz_opaque_callback_data,
    )
