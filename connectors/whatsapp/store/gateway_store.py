"""The gateway store: every read and write of the inbox, the messages and their statuses, each one short
transaction.

Every claim that must hold across processes (a webhook processed once, a message given to the bot once) is
a conditional UPDATE or a unique index, never process memory.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from cloudapi.errors import ErrorInfo
from cloudapi.inbound import parse_pricing
from cloudapi.window import ENTRY_POINT_SOURCES
from connectors.whatsapp.store.batch_news import record_news
from connectors.whatsapp.store.engine import StoreClosedError, engine_for, writers_of
from connectors.whatsapp.store.guest_ids import FIND_GUESTS, file_records, filed_guests
from connectors.whatsapp.store.records import (
    BatchContents,
    InboundRecord,
    LastInbound,
    OutboundRecord,
    SendSlot,
    StatusRecord,
    stored_error,
)
from connectors.whatsapp.store.schema import (
    STATUS_RANK,
    add_later_columns,
    create_later_indexes,
    inbox,
    messages,
    metadata,
    statuses,
    widen_later_columns,
)
from connectors.whatsapp.store.statements import (
    CLAIM_WEBHOOKS,
    CLAIMED_MESSAGES,
    CLAIMED_WEBHOOKS,
    EARLY_STATUSES,
    FAIL_MESSAGE,
    FINISH_DISPATCH,
    FINISH_SEND,
    LAST_INBOUND,
    LOCK_INBOX,
    LOCK_SCHEMA,
    LOCK_WAMIDS,
    MATCH_SEND,
    RAISE_STATUS,
    SAVE_WEBHOOK,
    SET_PRICING,
    Rows,
    Statements,
)


def _outbound_row(record: OutboundRecord, now: float) -> dict[str, Any]:
    return {
        "direction": "outbound",
        "business_id": record.business_id,
        "wa_id": record.wa_id,
        "wamid": record.wamid,
        "type": record.type,
        "text": record.text,
        "body": _dumps(record.body),
        "created_at": now,
        "state": record.state,
        "status_rank": 0,
        "error_code": record.error_code,
        "error_title": record.error_title,
        "error_details": record.error_details,
        "blocked_reason": record.blocked_reason,
        "origin": record.origin,
        "send_key": record.send_key,
    }


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _guest_columns(record: InboundRecord) -> dict[str, str | None]:
    """What a guest message tells of its guest: the number to write to (a changed number's new one), the user
    id and the username."""
    ids = record.ids
    if ids is None:
        return {"phone": None, "user_id": None, "username": None}
    return {"phone": ids.new_phone or ids.phone, "user_id": ids.new_user_id or ids.user_id, "username": ids.username}


def _entry_point_row(record: InboundRecord) -> dict[str, Any] | None:
    """The `entry_points` row of a guest message from an ad or a Page button; None for any other."""
    referral = record.referral
    if referral is None or referral.source_type not in ENTRY_POINT_SOURCES:
        return None
    return {
        "wamid": record.wamid,
        "business_id": record.business_id,
        "wa_id": record.wa_id,
        "referred_at": record.wa_timestamp,
        "source_type": referral.source_type,
        "source_id": referral.source_id,
        "ctwa_clid": referral.ctwa_clid,
    }


def _error_columns(error: ErrorInfo | None) -> dict[str, Any]:
    return {
        "error_code": error.code if error else None,
        "error_title": error.title if error else None,
        "error_details": error.details if error else None,
    }


def _error_parameters(error: ErrorInfo | None) -> dict[str, Any]:
    """The error of a send or a status, as the prebuilt updates name their parameters."""
    return {
        "code": error.code if error else None,
        "title": error.title if error else None,
        "details": error.details if error else None,
    }


def _errors_of(row: Any) -> tuple[ErrorInfo, ...]:
    """Every error of a stored status; a row from before the `errors` column has its first one only."""
    if row.errors:
        return tuple(ErrorInfo(**error) for error in json.loads(row.errors))
    first = stored_error(row.error_code, row.error_title, row.error_details)
    return () if first is None else (first,)


class GatewayStore:
    """Durable state of the gateway; every method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sqlite_writers = writers_of(engine) if engine.dialect.name == "sqlite" else None
        self._statements = Statements(engine.dialect.name)
        self._postgresql = engine.dialect.name == "postgresql"
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT") if self._postgresql else engine
        """Reads, and writes of one statement (`write`), run in autocommit on PostgreSQL: under its READ
        COMMITTED each statement sees its own snapshot anyway, and a statement is atomic by itself, while one in
        a transaction costs two more round trips (BEGIN, then the COMMIT or the ROLLBACK when the connection
        goes back). A guest's turn makes a dozen such statements in a Rasa server."""
        self._closed = False
        event.listen(engine.sync_engine, "do_connect", self._refuse_when_closed)
        event.listen(engine.sync_engine, "checkin", self._close_when_closed)

    def _close_when_closed(self, _: Any, record: Any) -> None:
        """Disposing the engine closes the connections in its pool, not one in use at that moment (a sweep or
        an outbox claim as the server stops): that one is closed when it is given back."""
        if self._closed:
            record.invalidate()

    def _refuse_when_closed(self, *_: Any) -> None:
        """Disposing an engine leaves it usable with a fresh pool; a connection opened after `close` would
        never be closed. Refusing to connect covers every user of `engine`, this module's and others'."""
        if self._closed:
            raise StoreClosedError("the gateway store is closed: the server is stopping")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads: the one way the gateway's stores read (in autocommit on PostgreSQL); given
        back as `_connection` gives it."""
        async with self._connection(self._autocommit) as connection:
            yield connection

    @staticmethod
    @asynccontextmanager
    async def _connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
        """A connection of `engine`, under every read and write here.

        SQLAlchemy's own `async with engine.connect()` gives the connection back in a task of its own, under
        `asyncio.shield`, so that a cancellation cannot interrupt it. That costs a task and a turn of the
        event loop for every use, and keeps the connection out of the pool until the loop gets round to the
        task: in a Rasa server, whose loop runs the bot's NLU in 20-40 ms stretches, a hundred guests' reads
        held up to 40 connections at once, and the pool kept opening and closing SQLite connections (a
        thread each); on PostgreSQL the tasks cost a third of the webhook acknowledgement rate. Here the
        connection goes back at once. A task cancelled midway (a client that hung up, a server stopping)
        still gives it back: a cancellation is delivered once, and this `finally` runs on to its end. A
        second one, landing while the connection is being given back, makes the pool discard it instead
        (`test_store_lifecycle`): nothing is stranded either way."""
        connection = await engine.connect()
        try:
            yield connection
        finally:
            await connection.close()

    @asynccontextmanager
    async def _transaction(self, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A write transaction. SQLite has one writer at a time: within a process, writers take turns in a
        `WriterQueue`, `urgent` ones (a webhook Meta waits on) before the background ones. The connection is
        given back as `connect` gives it: on SQLite at once, without holding the writer's turn for a turn of
        the event loop."""
        turn = nullcontext() if self._sqlite_writers is None else self._sqlite_writers.turn(urgent)
        async with turn, self._connection(self.engine) as connection, connection.begin():
            yield connection

    async def write(self, statement: Executable, parameters: Rows | None = None, urgent: bool = False) -> int:
        """One write statement, committed on its own: in autocommit on PostgreSQL (asyncpg runs a statement
        for many rows all or nothing all the same), in a transaction of its own behind this store's writers on
        SQLite (`urgent` as for `_transaction`). Answers how many rows it matched."""
        if self._postgresql:
            async with self.connect() as connection:
                return (await connection.execute(statement, parameters)).rowcount
        async with self._transaction(urgent) as connection:
            return (await connection.execute(statement, parameters)).rowcount

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction for the gateway's other stores (handoffs, held replies, the outbox, templates)
        on this engine, queued behind this store's own writers on SQLite like every write here."""
        return self._transaction()

    @classmethod
    def from_url(cls, url: str) -> GatewayStore:
        return cls(engine_for(url))

    async def create_schema(self) -> None:
        """Create what is missing: tables, and the columns and indexes added since a table was first created.

        On PostgreSQL under a transaction-wide advisory lock: replicas starting together would otherwise both
        see a table missing and one of them fail creating it (a duplicate in `pg_type`)."""
        async with self._transaction() as connection:
            if self._postgresql:
                await connection.execute(LOCK_SCHEMA)
            await connection.run_sync(metadata.create_all)
            await connection.run_sync(add_later_columns)
            await connection.run_sync(widen_later_columns)
            await connection.run_sync(create_later_indexes)

    async def close(self) -> None:
        self._closed = True
        await self.engine.dispose()

    # --- the inbox -------------------------------------------------------------------------------------

    async def save_webhooks(self, bodies: Sequence[bytes], now: float) -> None:
        """Store verified webhooks, all or none, before they are acknowledged."""
        await self.write(SAVE_WEBHOOK, [{"t": now, "b": body} for body in bodies], urgent=True)

    async def process_webhooks(
        self,
        token: str,
        now: float,
        limit: int,
        interpret: Callable[[list[tuple[int, bytes]]], BatchContents],
    ) -> list[InboundRecord] | None:
        """Claim up to `limit` stored webhooks, record what `interpret` finds in them and mark them processed,
        all in one transaction; None when there was nothing to claim.

        The claim marks the webhooks done at once: claim, records and marks commit together or not at all,
        so a process that dies before the commit leaves them pending, and a conditional UPDATE (with SKIP
        LOCKED on PostgreSQL) gives each webhook to one process. Returns the guest messages new to the store,
        claimed for the bot under `token`: a WhatsApp message id already there (a redelivery, or another
        process recording it at the same instant) is skipped by the unique index.

        Claims are taken one at a time across processes (SQLite has one writer anyway; PostgreSQL takes a
        transaction-wide advisory lock), so guest messages are recorded in the order their webhooks were
        stored whichever replica got them: two replicas each claiming one of a guest's two messages at once
        could otherwise record the second first, and the replica holding it would see no older message and
        give it to the bot before the first.

        This runs before every message reaches the bot, so its round trips are counted: the claim answers
        through RETURNING on PostgreSQL (SQLite's SQLAlchemy 1.4 dialect has none: it asks after), and the
        new messages are asked for after their insert on both.
        """
        claim = {"n": limit, "c": token, "t": now}
        async with self._transaction() as connection:
            if self._postgresql:
                await connection.execute(LOCK_INBOX)
                claimed = await connection.execute(self._statements.claim_webhooks, claim)
            else:
                await connection.execute(CLAIM_WEBHOOKS, claim)
                claimed = await connection.execute(CLAIMED_WEBHOOKS, {"c": token})
            rows = sorted((row.id, row.body) for row in claimed)
            if not rows:
                return None
            contents = interpret(rows)
            # Statuses first: like a send's record, this transaction then takes its wamids' locks before
            # any conversation row (each kind in one sorted order), so the two never wait on each other.
            await self.record_statuses(connection, contents.statuses, now)
            new = await self._insert_inbound(connection, token, contents.inbound, now)
            await record_news(connection, contents, now)
            await self._note_problems(connection, contents.finished)
        return new

    async def _note_problems(
        self, connection: AsyncConnection, finished: Sequence[tuple[int, str, str | None]]
    ) -> None:
        """Mark the webhooks that were not clean: malformed ones, or ones with parts the gateway did not use."""
        for inbox_id, state, error in finished:
            if state != "done" or error is not None:
                await connection.execute(inbox.update().where(inbox.c.id == inbox_id).values(state=state, error=error))

    async def _insert_inbound(
        self, connection: AsyncConnection, token: str, inbound: Sequence[InboundRecord], now: float
    ) -> list[InboundRecord]:
        if not inbound:
            return []
        unique: dict[str, InboundRecord] = {}
        for record in inbound:
            unique.setdefault(record.wamid, record)  # a batch may carry a message twice (Meta redelivered it)
        known = await filed_guests(connection, list(unique.values()))
        filed, new_ids = file_records(list(unique.values()), known, now)
        unique = {record.wamid: record for record in filed}
        if new_ids:
            await self._statements.new_guest_id.run(connection, new_ids)
        rows = [
            {
                "direction": "inbound",
                "business_id": r.business_id,
                "wa_id": r.wa_id,
                "wamid": r.wamid,
                "type": r.type,
                "text": r.text,
                "body": _dumps(r.meta),
                "meta": _dumps(r.meta),
                "wa_timestamp": r.wa_timestamp,
                "created_at": now,
                "state": "dispatched" if r.for_bot else "handled",
                "claimed_by": token,
                "claimed_at": now,
                "status_rank": 0,
                "origin": "guest",
            }
            for r in unique.values()
        ]
        # An executemany, whose statement SQLAlchemy compiles once: a multi-row VALUES with RETURNING would save
        # the SELECT below but is compiled anew for each batch, which cost a quarter of a busy process's CPU.
        await self._statements.new_message.run(connection, rows)
        conversation_rows = [
            {
                "business_id": r.business_id,
                "wa_id": r.wa_id,
                "profile_name": r.profile_name,
                # A message about the guest (a changed number) opens no window: it names no newest message.
                "last_inbound_at": r.wa_timestamp if r.for_bot else None,
                "last_inbound_wamid": r.wamid if r.for_bot else None,
                "updated_at": now,
                **_guest_columns(r),
            }
            for r in sorted(unique.values(), key=lambda r: (r.business_id, r.wa_id, r.wa_timestamp))
        ]
        await self._statements.conversation_upsert.run(connection, conversation_rows)
        mine = set((await connection.execute(CLAIMED_MESSAGES, {"m": list(unique), "c": token})).scalars())
        new = {wamid: record for wamid, record in unique.items() if wamid in mine and record.for_bot}
        referred = [row for row in map(_entry_point_row, new.values()) if row is not None]
        if referred:
            await self._statements.new_entry_point.run(connection, referred)
        return list(new.values())

    async def finish_dispatch(self, wamid: str, state: str = "handled") -> None:
        """Done with a guest message: `handled` by the bot, or `held` (kept for the agent holding the thread)."""
        await self.write(FINISH_DISPATCH, {"m": wamid, "s": state})

    async def last_inbound(self, business_id: str, wa_id: str) -> LastInbound | None:
        """The guest's newest message to this number: the window runs from its WhatsApp timestamp."""
        async with self.connect() as connection:
            row = (await connection.execute(LAST_INBOUND, {"b": business_id, "w": wa_id})).first()
        if row is None or row.last_inbound_at is None:
            return None
        return LastInbound(row.last_inbound_at, row.last_inbound_wamid, row.phone)

    async def guest_keys(self, business_id: str, identities: Sequence[str]) -> dict[str, str]:
        """The key of each guest the `identities` name (phone numbers or BSUIDs, see `guest_ids`): the key an
        id is filed under, else the id itself."""
        keys = {identity: identity for identity in identities}
        if keys:
            async with self.connect() as connection:
                for row in await connection.execute(FIND_GUESTS, {"b": [business_id], "i": sorted(keys)}):
                    keys[row.identity] = row.guest
        return keys

    # --- business messages and statuses ------------------------------------------------------------------

    async def record_send(self, record: OutboundRecord, now: float) -> SendSlot:
        """Record a business message before anything goes out (`sending`, or `blocked` for one never sent),
        under its `send_key`: when the key has a row already, nothing is written and that row is the answer."""
        async with self._transaction() as connection:
            row = _outbound_row(record, now)
            inserted = await self._statements.new_send.run(connection, row)
            sqlite_id = inserted.lastrowid if not self._postgresql and inserted.rowcount == 1 else None
            fresh = inserted.scalar() if self._postgresql else sqlite_id
            if fresh is not None:
                await self._touch_threads(connection, [record], now)
                return SendSlot(int(fresh))
            earlier = (
                await connection.execute(
                    sa.select(messages.c.id, messages.c.state, messages.c.wamid).where(
                        messages.c.send_key == record.send_key
                    )
                )
            ).one()
            return SendSlot(int(earlier.id), earlier.state, earlier.wamid)

    async def send_state(self, message_id: int) -> SendSlot:
        """A recorded send as it stands: a status webhook may have settled it since."""
        query = sa.select(messages.c.state, messages.c.wamid).where(messages.c.id == message_id)
        async with self.connect() as connection:
            row = (await connection.execute(query)).one()
        return SendSlot(message_id, row.state, row.wamid)

    async def finish_send(
        self, message_id: int, state: str, now: float, wamid: str | None = None, error: ErrorInfo | None = None
    ) -> None:
        """A send's outcome: `accepted` with its wamid, `failed` with the error, or `unknown` (no answer came:
        WhatsApp may have it, and its status webhooks will say, by the send's key). Statuses that raced ahead
        of the answer are applied at once."""
        async with self._transaction() as connection:
            if wamid:
                await self._one_writer_per_wamid(connection, [wamid])
            outcome = {"i": message_id, "s": state, "w": wamid}
            await connection.execute(FINISH_SEND, outcome | _error_parameters(error))
            if wamid:
                early = await connection.execute(EARLY_STATUSES, {"w": wamid})
                await self._raise_statuses(connection, [_status_from_row(row) for row in early])

    async def record_outbound_many(
        self, connection: AsyncConnection, records: Sequence[OutboundRecord], now: float
    ) -> None:
        """Record many sends' outcomes inside the caller's transaction (the outbox records a group of sends at
        once); statuses that raced ahead of the sends' answers are applied at once, as in `finish_send`."""
        if not records:
            return
        await self._one_writer_per_wamid(connection, [r.wamid for r in records if r.wamid])
        await connection.execute(messages.insert(), [_outbound_row(r, now) for r in records])
        await self._touch_threads(connection, records, now)
        wamids = [r.wamid for r in records if r.wamid]
        if wamids:
            early = await connection.execute(sa.select(statuses).where(statuses.c.wamid.in_(wamids)))
            await self._raise_statuses(connection, [_status_from_row(row) for row in early])

    async def _touch_threads(self, connection: AsyncConnection, records: Sequence[OutboundRecord], now: float) -> None:
        """Each thread the business writes to had activity now; one it started (a reminder to a guest who never
        wrote) gets its conversation row here, so it is in the agents' list too. Rows in one sorted order, as
        every writer of conversations takes them."""
        guests = sorted({(r.business_id, r.wa_id) for r in records})
        rows = [{"business_id": business, "wa_id": wa_id, "updated_at": now} for business, wa_id in guests]
        await self._statements.touch_conversation.run(connection, rows)

    async def _one_writer_per_wamid(self, connection: AsyncConnection, wamids: Sequence[str]) -> None:
        """On PostgreSQL, hold each wamid's transaction lock until commit, in one order, before touching it.

        A status can race ahead of the send's answer: one transaction records the status and finds no message
        yet, another records the message and finds no status yet, and under READ COMMITTED both commit
        without seeing the other, leaving the message without its status. Taking the wamid's lock first makes
        the second wait for the first, then see what it wrote. SQLite has one writer at a time already."""
        if self._postgresql and wamids:
            await connection.execute(LOCK_WAMIDS, {"wamids": sorted(set(wamids))})

    async def record_statuses(self, connection: AsyncConnection, records: Sequence[StatusRecord], now: float) -> None:
        """Keep each status once per (wamid, status) and move its message up the ladder, inside the caller's
        transaction (the webhook processor's batch)."""
        if not records:
            return
        await self._one_writer_per_wamid(connection, [r.wamid for r in records])
        rows = [
            {
                "wamid": r.wamid,
                "status": r.status,
                "wa_timestamp": r.wa_timestamp,
                "recipient_id": r.recipient_id,
                **_error_columns(r.error),
                "errors": _dumps([asdict(error) for error in r.errors]) if r.errors else None,
                "pricing": _dumps(r.pricing.as_json()) if r.pricing else None,
                "conversation": _dumps(r.conversation.as_json()) if r.conversation else None,
                "callback_data": r.callback_data,
                "received_at": now,
            }
            for r in records
        ]
        await self._statements.new_status.run(connection, rows)
        matches = [{"k": r.callback_data, "w": r.wamid} for r in records if r.callback_data]
        if matches:
            await connection.execute(MATCH_SEND, matches)
        await self._raise_statuses(connection, records)

    async def _raise_statuses(self, connection: AsyncConnection, records: Sequence[StatusRecord]) -> None:
        """Move messages up the status ladder. Applying a status twice changes nothing, so redeliveries
        need no special case."""
        moves = [
            {
                "w": r.wamid,
                "s": r.status,
                "r": STATUS_RANK.get(r.status, 0),
                "t": r.wa_timestamp,
                **_error_parameters(r.error),
            }
            for r in records
        ]
        plain = [m for m in moves if m["s"] != "failed"]
        failed = [m for m in moves if m["s"] == "failed"]
        if plain:
            await connection.execute(RAISE_STATUS, plain)
        if failed:
            await connection.execute(FAIL_MESSAGE, failed)
        prices = [{"w": r.wamid, "p": _dumps(r.pricing.as_json())} for r in records if r.pricing is not None]
        if prices:
            await connection.execute(SET_PRICING, prices)

    async def thread(self, business_id: str, wa_id: str) -> list[dict[str, Any]]:
        """Every message of a conversation, oldest first, as plain rows (for the API and the tests)."""
        query = (
            sa.select(messages)
            .where(messages.c.business_id == business_id, messages.c.wa_id == wa_id)
            .order_by(messages.c.id)
        )
        async with self.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(query)]


def _status_from_row(row: Any) -> StatusRecord:
    return StatusRecord(
        wamid=row.wamid,
        status=row.status,
        wa_timestamp=row.wa_timestamp,
        recipient_id=row.recipient_id,
        errors=_errors_of(row),
        pricing=parse_pricing(json.loads(row.pricing)) if row.pricing else None,
    )
