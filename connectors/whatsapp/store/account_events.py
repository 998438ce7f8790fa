"""Events of a WhatsApp Business Account (`account_update` webhooks: a ban or its schedule, a violation, a
restriction, a pricing tier reached, a partner added...), kept as Meta sent them.

They change nothing the gateway does by themselves; they are what an operator must be able to look up after
the log line (`webhook.account_news` logs each at its gravity), so each is kept once: a redelivery of the
same event (same account, time and content) is recognised by its key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store.schema import metadata
from connectors.whatsapp.store.statements import Upsert

account_events = sa.Table(
    "account_events",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("waba_id", sa.String(32)),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("time", sa.BigInteger),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("ix_account_events_account", "waba_id", "time"),
)
"""`time` is Meta's (`entry[].time`, Unix seconds), `body` the change's value as JSON, `key` the SHA-256 of
the three (see `AccountEvent.key`)."""


@dataclass(frozen=True)
class AccountEvent:
    """One `account_update`: the account, Meta's event name, when Meta triggered it, and the value as JSON."""

    waba_id: str | None
    event: str
    time: int | None
    body: str

    @property
    def key(self) -> str:
        """The same for every delivery of one event, different for two events (their content differs)."""
        return hashlib.sha256(f"{self.waba_id}\n{self.time}\n{self.body}".encode()).hexdigest()


@functools.cache
def _new_event(dialect_name: str) -> Upsert:
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return Upsert(insert(account_events).on_conflict_do_nothing(index_elements=["key"]), dialect_name)


async def record_account_events(connection: AsyncConnection, events: Sequence[AccountEvent], now: float) -> None:
    """Keep each event once, inside the caller's transaction (the webhook batch's)."""
    rows = [
        {"key": e.key, "waba_id": e.waba_id, "event": e.event, "time": e.time, "body": e.body, "received_at": now}
        for e in events
    ]
    await _new_event(connection.dialect.name).run(connection, rows)
