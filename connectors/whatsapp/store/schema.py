"""The gateway store's tables: raw webhooks (the inbox), conversations with their window, free entry points,
messages in both directions with their statuses.

One schema on SQLite (the embedded default) and PostgreSQL (to scale out). The other packages' tables
(handoffs, held replies, the outbox, templates, pacing) join the same `metadata`, so `create_schema` makes
them all.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 9}
"""Outbound statuses only move up this ladder: a late `delivered` never overwrites `read`; `failed` is final."""

metadata = sa.MetaData()

GUEST_ID_LENGTH = 140
"""A guest's id in every table (`wa_id` columns): a phone number, or a business-scoped user id of up to 128
letters or digits after its country and `ENT.` (`cloudapi.user_ids`). Older stores had 64 characters:
`widen_later_columns` makes room on PostgreSQL (SQLite does not enforce a length)."""


def guest_id() -> sa.String:
    """The type of a column holding a guest's id (see `GUEST_ID_LENGTH`)."""
    return sa.String(GUEST_ID_LENGTH)


inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("claimed_by", sa.String(64), index=True),
    sa.Column("claimed_at", sa.Float),
    sa.Column("processed_at", sa.Float),
    sa.Column("error", sa.Text),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", guest_id(), primary_key=True),
    sa.Column("profile_name", sa.String(256)),
    sa.Column("last_inbound_at", sa.BigInteger),
    sa.Column("last_inbound_wamid", sa.String(256)),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("user_id", guest_id()),
    sa.Column("username", sa.String(128)),
    sa.Index("ix_conversations_activity", "updated_at", "business_id", "wa_id"),
)
"""One row per thread, from its first message either way. `updated_at` is when the thread last had a message
(the guest's or the business's): the agents' list reads its newest threads off the index instead of finding
every thread's last message. `wa_id` is the thread's key, the guest's first id (see `guest_ids`); `phone`,
`user_id` and `username` are the newest WhatsApp gave: the gateway writes to `phone` when it differs from the
key (a guest first known by a BSUID, or one who changed their number)."""

entry_points = sa.Table(
    "entry_points",
    metadata,
    sa.Column("wamid", sa.String(256), primary_key=True),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("referred_at", sa.BigInteger, nullable=False),
    sa.Column("source_type", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(128)),
    sa.Column("ctwa_clid", sa.String(256)),
    sa.Index("ix_entry_points_guest", "business_id", "wa_id", "referred_at"),
)
"""Guest messages that came from a click-to-WhatsApp ad or a Facebook Page button: each may open a free
entry point (see `window`), which makes the business's messages of the next days free."""

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("business_id", sa.String(32), nullable=False),
    sa.Column("wa_id", guest_id(), nullable=False),
    sa.Column("wamid", sa.String(256)),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("meta", sa.Text),
    sa.Column("wa_timestamp", sa.BigInteger),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.Float),
    sa.Column("status", sa.String(16)),
    sa.Column("status_rank", sa.Integer, nullable=False, default=0),
    sa.Column("status_at", sa.BigInteger),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", sa.Text),
    sa.Column("error_details", sa.Text),
    sa.Column("blocked_reason", sa.Text),
    sa.Column("pricing", sa.Text),
    sa.Column("origin", sa.String(64)),
    sa.Column("send_key", sa.String(320)),
    sa.Column("turn_started_at", sa.Float),
    sa.Index("ix_messages_wamid", "direction", "wamid", unique=True),
    sa.Index("ix_messages_send_key", "send_key", unique=True),
    sa.Index("ix_messages_thread", "business_id", "wa_id", "id"),
    sa.Index("ix_messages_state", "direction", "state"),
)

"""A business message's `send_key` is recorded before its Graph call and sent as `biz_opaque_callback_data`:
a bot answer's is its guest message's wamid and its place in the turn, so a turn run again after a crash finds
what already went out; a send whose answer never came is matched to its status webhooks by it. A guest
message's `turn_started_at` says the bot was given it: after a crash, its turn may have run."""

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)
"""The gateway processes alive: each one beats every few seconds; what a process that stopped beating had
claimed is taken over at once by a live one, without waiting for a lease."""

statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wamid", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("wa_timestamp", sa.BigInteger),
    sa.Column("recipient_id", guest_id()),
    sa.Column("error_code", sa.Integer),
    sa.Column("error_title", sa.Text),
    sa.Column("error_details", sa.Text),
    sa.Column("errors", sa.Text),
    sa.Column("pricing", sa.Text),
    sa.Column("conversation", sa.Text),
    sa.Column("callback_data", sa.Text),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("ix_statuses_wamid_status", "wamid", "status", unique=True),
    sa.Index("ix_statuses_callback_data", "callback_data"),
)


def create_later_indexes(connection: Any) -> None:
    """`create_all` skips a table that exists, and its indexes with it."""
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def widen_later_columns(connection: Any) -> None:
    """Columns made longer since a store was created (guest ids: `GUEST_ID_LENGTH`), widened on PostgreSQL,
    which enforces lengths; widening twice at once is harmless."""
    if connection.dialect.name != "postgresql":
        return
    inspector = sa.inspect(connection)
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            wanted, found = getattr(column.type, "length", None), getattr(present.get(column.name), "length", None)
            if wanted and found and found < wanted:
                kind = column.type.compile(dialect=connection.dialect)
                connection.exec_driver_sql(f'ALTER TABLE {table.name} ALTER COLUMN "{column.name}" TYPE {kind}')


def add_later_columns(connection: Any) -> None:
    """`create_all` skips a table that exists: a column added since (all nullable) is added here, so a
    gateway store from an earlier version opens as it is. PostgreSQL's IF NOT EXISTS lets two replicas start
    at once; SQLite has one writer at a time."""
    inspector = sa.inspect(connection)
    postgresql = connection.dialect.name == "postgresql"
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            guard = "IF NOT EXISTS " if postgresql else ""
            connection.exec_driver_sql(f'ALTER TABLE {table.name} ADD COLUMN {guard}"{column.name}" {kind}')
