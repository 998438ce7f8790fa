"""The outbound queue of the automations API, in the gateway store: durable, scheduled, shared by every
gateway process.

Each automation message is a row from the moment the API accepts it: `queued` with a `due_at` (a scheduled
send, or the end of the hotel's quiet hours), then `sending` while one process holds it (a claim by
conditional UPDATE, `FOR UPDATE SKIP LOCKED` on PostgreSQL; a claim older than the lease is taken over), then
`sent` (accepted by WhatsApp: its delivery statuses live in the message log under its wamid), `failed` (a
permanent error, or the attempts ran out), `held` (its template is paused or disabled), or `cancelled` (the
guest opted out before it went). Lanes order the work: replies to guests, then transactional templates, then
marketing.

Also here: batches, idempotency keys and the guests' consent, which the API checks in the same
transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.automations.outbox_records import (
    CALLBACK_PREFIX,
    Batch,
    NewMessage,
    OutboxEntry,
    Outcome,
    QueuedMessage,
    entry_from_row,
)
from connectors.whatsapp.costs import Charge
from connectors.whatsapp.store import GatewayStore, Upsert, delivery_of, guest_id, metadata, statuses

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(32), index=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("purpose", sa.String(64)),
    sa.Column("purpose_values", sa.Text),
    sa.Column("language", sa.String(16)),
    sa.Column("template_name", sa.String(512)),
    sa.Column("template_language", sa.String(16)),
    sa.Column("category", sa.String(32)),
    sa.Column("lane", sa.Integer, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("wamid", sa.String(256)),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", sa.Text),
    sa.Column("error_details", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("sent_at", sa.Float),
    sa.Column("in_window", sa.Boolean),
    sa.Column("charge_kind", sa.String(32)),
    sa.Column("charge_market", sa.String(64)),
    sa.Column("charge_billable", sa.Boolean),
    sa.Column("charge_amount", sa.String(32)),
    sa.Column("charge_currency", sa.String(8)),
    sa.Column("charge_reason", sa.Text),
    sa.Index("ix_outbox_due", "state", "lane", "due_at"),
    sa.Index("ix_outbox_business_month", "business_id", "created_at"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

idempotency = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("token_name", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

consent = sa.Table(
    "consent",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", guest_id(), primary_key=True),
    sa.Column("opted_out", sa.Boolean, nullable=False),
    # WhatsApp's timestamp of the guest message that set it: a late redelivery cannot undo a newer choice.
    sa.Column("changed_at", sa.BigInteger, nullable=False),
)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _charge_columns(charge: Charge | None) -> dict[str, Any]:
    if charge is None:
        return {}
    return {
        "charge_kind": charge.category,
        "charge_market": charge.market,
        "charge_billable": charge.billable,
        "charge_amount": None if charge.amount is None else str(charge.amount),
        "charge_currency": charge.currency,
        "charge_reason": charge.reason,
    }


_OUTCOME_COLUMNS = (
    "wamid",
    "due_at",
    "attempts",
    "error_code",
    "error_title",
    "error_details",
    "sent_at",
    "in_window",
    "category",
    "template_name",
    "template_language",
)


def _outcome_columns(outcome: Outcome) -> dict[str, Any]:
    """The columns an outcome sets: its state, and whatever it knows (None leaves a column as it was)."""
    values: dict[str, Any] = {"state": outcome.state, "claimed_by": None}
    for name in _OUTCOME_COLUMNS:
        value = getattr(outcome, name)
        if value is not None:
            values[name] = value
    if outcome.body is not None:
        values["body"] = _dumps(outcome.body)
    values.update(_charge_columns(outcome.charge))
    return values


def _row(message: NewMessage, now: float, batch_id: str | None) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "business_id": message.business_id,
        "wa_id": message.wa_id,
        "region": message.region,
        "origin": message.origin,
        "body": _dumps(message.body),
        "purpose": message.purpose,
        "purpose_values": _dumps(message.purpose_values),
        "language": message.language,
        "template_name": message.template_name,
        "template_language": message.template_language,
        "category": message.category,
        "lane": message.lane,
        "urgent": message.urgent,
        "due_at": message.due_at,
        "state": message.state,
        "attempts": 0,
        "created_at": now,
        "in_window": message.in_window,
        "error_title": message.error_title,
        **_charge_columns(message.charge),
    }


class Outbox:
    """The queue's transactions. Every write goes through the gateway store's writer queue."""

    def __init__(self, store: GatewayStore) -> None:
        self._store = store
        self._dialect = store.engine.dialect.name
        insert = postgresql_insert if self._dialect == "postgresql" else sqlite_insert
        change = insert(consent)
        self._consent_upsert = Upsert(
            change.on_conflict_do_update(
                index_elements=["business_id", "wa_id"],
                set_={"opted_out": change.excluded.opted_out, "changed_at": change.excluded.changed_at},
                where=consent.c.changed_at <= change.excluded.changed_at,
            ),
            self._dialect,
        )

    # --- accepting -------------------------------------------------------------------------------------

    async def add(
        self,
        message: NewMessage,
        now: float,
        idempotency_key: tuple[str, str] | None,
        answer: Any,
    ) -> tuple[int, dict[str, Any]] | tuple[None, tuple[int, dict[str, Any]]]:
        """Queue one message, and remember the API's answer under the idempotency key in the same
        transaction. `answer(id)` builds the answer. Returns (id, answer), or (None, (status, first answer))
        when the key was used already (by this request's twin, possibly at the same instant elsewhere)."""
        try:
            async with self._store.transaction() as connection:
                result = await connection.execute(outbox.insert().values(**_row(message, now, None)))
                message_id = int(result.inserted_primary_key[0])
                status, body = answer(message_id)
                if idempotency_key is not None:
                    await connection.execute(
                        idempotency.insert().values(
                            token_name=idempotency_key[0],
                            key=idempotency_key[1],
                            status=status,
                            answer=_dumps(body),
                            created_at=now,
                        )
                    )
            return message_id, body
        except IntegrityError:
            if idempotency_key is None:
                raise
            first = await self.remembered(idempotency_key)
            assert first is not None, "an idempotency key conflicted but is not stored"
            return None, first

    async def remember(
        self, key: tuple[str, str], status: int, body: dict[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        """Keep a refusal under its idempotency key; returns the first answer when the key was used already."""
        try:
            async with self._store.transaction() as connection:
                await connection.execute(
                    idempotency.insert().values(
                        token_name=key[0], key=key[1], status=status, answer=_dumps(body), created_at=now
                    )
                )
        except IntegrityError:
            first = await self.remembered(key)
            assert first is not None
            return first
        return status, body

    async def remembered(self, key: tuple[str, str]) -> tuple[int, dict[str, Any]] | None:
        query = sa.select(idempotency.c.status, idempotency.c.answer).where(
            idempotency.c.token_name == key[0], idempotency.c.key == key[1]
        )
        async with self._store.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else (row.status, json.loads(row.answer))

    async def add_batch(
        self, batch_id: str, business_id: str, origin: str, items: Sequence[NewMessage], now: float
    ) -> None:
        """Queue a batch in one transaction: all of it or none."""
        async with self._store.transaction() as connection:
            await connection.execute(
                batches.insert().values(
                    id=batch_id, business_id=business_id, origin=origin, total=len(items), created_at=now
                )
            )
            # In groups of 100, each one a turn of the event loop, so due sends are not held up.
            for start in range(0, len(items), 100):
                chunk = items[start : start + 100]
                await connection.execute(outbox.insert(), [_row(item, now, batch_id) for item in chunk])

    # --- claiming and finishing ------------------------------------------------------------------------

    async def already_sent(self, claimed: Sequence[QueuedMessage]) -> dict[int, str]:
        """The wamid of each claimed message WhatsApp already reported a status for: a process sent it, then
        stopped before recording the send, and its lease ran out. Sending it again would reach the guest twice."""
        by_callback = {m.callback_data: m.id for m in claimed}
        found: dict[int, str] = {}
        async with self._store.connect() as connection:
            for start in range(0, len(by_callback), 500):
                wanted = list(by_callback)[start : start + 500]
                query = sa.select(statuses.c.callback_data, statuses.c.wamid).where(
                    statuses.c.callback_data.in_(wanted)
                )
                for row in await connection.execute(query):
                    found[by_callback[row.callback_data]] = row.wamid
        return found

    async def claim(self, token: str, now: float, lease: float, limit: int, busy: Iterable[str]) -> list[QueuedMessage]:
        """Claim up to `limit` due messages, lanes first, then oldest due; never for the numbers in `busy`
        (whose sends already fill this process's schedule)."""
        claimable = sa.or_(
            sa.and_(outbox.c.state == "queued", outbox.c.due_at <= now),
            sa.and_(outbox.c.state == "sending", outbox.c.claimed_at < now - lease),
        )
        busy = list(busy)
        if busy:
            claimable = sa.and_(claimable, outbox.c.business_id.not_in(busy))
        candidates = (
            sa.select(outbox.c.id)
            .where(claimable)
            .order_by(outbox.c.lane, outbox.c.due_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._store.transaction() as connection:
            await connection.execute(
                outbox.update()
                .where(outbox.c.id.in_(candidates.scalar_subquery()), claimable)
                .values(state="sending", claimed_by=token, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            rows = (
                await connection.execute(
                    sa.select(outbox)
                    .where(outbox.c.claimed_by == token, outbox.c.state == "sending")
                    .order_by(outbox.c.lane, outbox.c.due_at, outbox.c.id)
                )
            ).all()
        return [
            QueuedMessage(
                id=r.id,
                business_id=r.business_id,
                wa_id=r.wa_id,
                region=r.region,
                origin=r.origin,
                body=json.loads(r.body),
                lane=r.lane,
                attempts=r.attempts,
                purpose=r.purpose,
                purpose_values=json.loads(r.purpose_values) if r.purpose_values else None,
                language=r.language,
                template_name=r.template_name,
                template_language=r.template_language,
                category=r.category,
                batch_id=r.batch_id,
            )
            for r in rows
        ]

    async def finish(self, outcomes: Sequence[Outcome], now: float) -> None:
        """Record a group of outcomes and their message-log rows in one transaction; outcomes that change the
        same columns share one executemany."""
        if not outcomes:
            return
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for outcome in outcomes:
            values = _outcome_columns(outcome)
            groups.setdefault(tuple(sorted(values)), []).append({"outbox_id": outcome.id, **values})
        async with self._store.transaction() as connection:
            await self._store.record_outbound_many(connection, [o.record for o in outcomes if o.record], now)
            for columns, rows in groups.items():
                statement = (
                    outbox.update()
                    .where(outbox.c.id == sa.bindparam("outbox_id"))
                    .values({name: sa.bindparam(name) for name in columns})
                )
                await connection.execute(statement, rows)

    async def release_held(
        self, template_name: str, template_language: str, business_ids: Sequence[str], now: float
    ) -> int:
        """A template was approved again: its held messages go back to the queue, due now."""
        async with self._store.transaction() as connection:
            result = await connection.execute(
                outbox.update()
                .where(
                    outbox.c.state == "held",
                    outbox.c.template_name == template_name,
                    outbox.c.template_language == template_language,
                    outbox.c.business_id.in_(list(business_ids)),
                )
                .values(state="queued", due_at=now)
            )
        return result.rowcount

    async def next_due(self) -> float | None:
        query = sa.select(sa.func.min(outbox.c.due_at)).where(outbox.c.state == "queued")
        async with self._store.connect() as connection:
            return (await connection.execute(query)).scalar()

    # --- consent ---------------------------------------------------------------------------------------

    async def set_consent(self, business_id: str, wa_id: str, opted_out: bool, at: int) -> None:
        async with self._store.transaction() as connection:
            await self._consent_upsert.run(
                connection, {"business_id": business_id, "wa_id": wa_id, "opted_out": opted_out, "changed_at": at}
            )

    async def opted_out(
        self, business_id: str, wa_ids: Sequence[str], connection: AsyncConnection | None = None
    ) -> set[str]:
        """Which of these guests opted out of this number's automation messages."""
        if connection is None:
            async with self._store.connect() as own:
                return await self.opted_out(business_id, wa_ids, own)
        found: set[str] = set()
        for start in range(0, len(wa_ids), 500):
            query = sa.select(consent.c.wa_id).where(
                consent.c.business_id == business_id,
                consent.c.wa_id.in_(list(wa_ids[start : start + 500])),
                consent.c.opted_out.is_(True),
            )
            found.update((await connection.execute(query)).scalars())
        return found

    # --- reading ---------------------------------------------------------------------------------------

    async def message(self, message_id: int) -> OutboxEntry | None:
        """One queued message with its delivery from the status webhooks."""
        async with self._store.connect() as connection:
            row = (await connection.execute(sa.select(outbox).where(outbox.c.id == message_id))).first()
            if row is None:
                return None
            deliveries = await delivery_of(connection, [row.wamid] if row.wamid else [])
        return entry_from_row(row, deliveries.get(row.wamid))

    async def batch(self, batch_id: str) -> tuple[Batch, list[OutboxEntry]] | None:
        async with self._store.connect() as connection:
            head = (await connection.execute(sa.select(batches).where(batches.c.id == batch_id))).first()
            if head is None:
                return None
            rows = (
                await connection.execute(sa.select(outbox).where(outbox.c.batch_id == batch_id).order_by(outbox.c.id))
            ).all()
            deliveries = await delivery_of(connection, [r.wamid for r in rows if r.wamid])
        batch = Batch(head.id, head.business_id, head.total, head.created_at)
        return batch, [entry_from_row(row, deliveries.get(row.wamid)) for row in rows]

    async def marketing_spent(self, business_id: str, since: float, until: float) -> Decimal:
        """What this number's marketing messages of the period are priced at (queued, held and sent ones:
        the budget must hold before they go)."""
        query = sa.select(outbox.c.charge_amount).where(
            outbox.c.business_id == business_id,
            outbox.c.category == "MARKETING",
            outbox.c.state.in_(["queued", "sending", "sent", "held"]),
            outbox.c.created_at >= since,
            outbox.c.created_at < until,
            outbox.c.charge_amount.is_not(None),
        )
        async with self._store.connect() as connection:
            amounts = (await connection.execute(query)).scalars().all()
        return sum((Decimal(a) for a in amounts), Decimal(0))


def callback_id(callback_data: str | None) -> int | None:
    """The outbox id in a status's `biz_opaque_callback_data`, if the gateway's automations sent it."""
    if not callback_data or not callback_data.startswith(CALLBACK_PREFIX):
        return None
    digits = callback_data[len(CALLBACK_PREFIX) :]
    return int(digits) if digits.isdigit() else None


__all__ = ["Outbox", "batches", "callback_id", "consent", "idempotency", "outbox"]
