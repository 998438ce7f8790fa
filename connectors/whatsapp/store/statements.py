"""The gateway store's statements on every guest message's way to the bot and back, each built once.

Building a statement costs SQLAlchemy more than running it on SQLite: a select built anew for each read
took about 375 µs against about 150 µs built once, with its values as bound parameters. And SQLAlchemy 1.4
cannot cache its dialects' `INSERT ... ON CONFLICT` at all (they have no cache key): each execution compiled
the statement again, 90 to 120 µs, several times per guest message (the message, its conversation, the
answer's record and its thread, each status). Those are compiled once per set of columns, into `text()`,
which SQLAlchemy caches like any other statement (`Upsert`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from connectors.whatsapp.store.guest_ids import guest_ids
from connectors.whatsapp.store.schema import conversations, entry_points, inbox, messages, statuses

LOCK_SCHEMA = sa.text("SELECT pg_advisory_xact_lock(hashtext('gateway schema'))")
LOCK_INBOX = sa.text("SELECT pg_advisory_xact_lock(hashtext('gateway inbox'))")
LOCK_WAMIDS = sa.text("SELECT pg_advisory_xact_lock(hashtext(w)) FROM unnest(CAST(:wamids AS text[])) AS w ORDER BY w")

_PENDING = inbox.c.state == "pending"
_INBOUND = messages.c.direction == "inbound"

SAVE_WEBHOOK = inbox.insert().values(received_at=sa.bindparam("t"), body=sa.bindparam("b"), state="pending")
CLAIM_WEBHOOKS = (
    inbox.update()
    .where(
        inbox.c.id.in_(
            sa.select(inbox.c.id)
            .where(_PENDING)
            .order_by(inbox.c.id)
            .limit(sa.bindparam("n"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        ),
        _PENDING,
    )
    .values(state="done", claimed_by=sa.bindparam("c"), claimed_at=sa.bindparam("t"), processed_at=sa.bindparam("t"))
)
CLAIMED_WEBHOOKS = sa.select(inbox.c.id, inbox.c.body).where(inbox.c.claimed_by == sa.bindparam("c"))
CLAIMED_MESSAGES = sa.select(messages.c.wamid).where(
    _INBOUND,
    messages.c.wamid.in_(sa.bindparam("m", expanding=True)),
    messages.c.claimed_by == sa.bindparam("c"),
)
FINISH_DISPATCH = (
    messages.update().where(_INBOUND, messages.c.wamid == sa.bindparam("m")).values(state=sa.bindparam("s"))
)
LAST_INBOUND = sa.select(
    conversations.c.last_inbound_at, conversations.c.last_inbound_wamid, conversations.c.phone
).where(conversations.c.business_id == sa.bindparam("b"), conversations.c.wa_id == sa.bindparam("w"))
FINISH_SEND = (
    messages.update()
    .where(messages.c.id == sa.bindparam("i"), messages.c.state.in_(("sending", "unknown")))
    .values(
        state=sa.bindparam("s"),
        wamid=sa.bindparam("w"),
        error_code=sa.bindparam("code"),
        error_title=sa.bindparam("title"),
        error_details=sa.bindparam("details"),
    )
)
EARLY_STATUSES = sa.select(statuses).where(statuses.c.wamid == sa.bindparam("w"))
MATCH_SEND = (
    messages.update()
    .where(
        messages.c.direction == "outbound",
        messages.c.send_key == sa.bindparam("k"),
        messages.c.wamid.is_(None),
        (messages.c.state == "sending") | (messages.c.state == "unknown"),  # no IN: this is an executemany
    )
    .values(wamid=sa.bindparam("w"), state="accepted", error_code=None, error_title=None, error_details=None)
)
"""A send whose answer never came (or whose process stopped before recording it) learns its wamid from its
first status webhook, which echoes the send's key as `biz_opaque_callback_data`."""

_OUTBOUND = (messages.c.direction == "outbound") & (messages.c.wamid == sa.bindparam("w"))
_MOVES_UP = _OUTBOUND & (messages.c.status_rank < sa.bindparam("r"))
_LADDER = {"status": sa.bindparam("s"), "status_rank": sa.bindparam("r"), "status_at": sa.bindparam("t")}
RAISE_STATUS = messages.update().where(_MOVES_UP).values(**_LADDER)
FAIL_MESSAGE = (
    messages.update()
    .where(_MOVES_UP)
    .values(
        **_LADDER,
        state="failed",
        error_code=sa.bindparam("code"),
        error_title=sa.bindparam("title"),
        error_details=sa.bindparam("details"),
    )
)
SET_PRICING = messages.update().where(_OUTBOUND).values(pricing=sa.bindparam("p"))

Rows = Mapping[str, Any] | Sequence[Mapping[str, Any]]


class Upsert:
    """An `INSERT ... ON CONFLICT` that SQLAlchemy caches: compiled once for each set of columns it is given,
    with named parameters, into a `text()` statement (any value the construct holds itself bound to it). The
    one way the gateway runs an upsert."""

    def __init__(self, statement: Insert, dialect_name: str) -> None:
        self._statement = statement
        self._dialect = (postgresql if dialect_name == "postgresql" else sqlite).dialect(paramstyle="named")
        self._texts: dict[tuple[str, ...], sa.TextClause] = {}

    def _text(self, columns: tuple[str, ...]) -> sa.TextClause:
        text = self._texts.get(columns)
        if text is None:
            compiled = self._statement.compile(dialect=self._dialect, column_keys=list(columns))
            own = {name: value for name, value in compiled.params.items() if name not in columns}
            text = self._texts[columns] = sa.text(str(compiled)).bindparams(**own)
        return text

    async def run(self, connection: AsyncConnection, rows: Rows) -> CursorResult[Any]:
        """Run it for `rows`: one row, or an executemany's, which all have the same columns."""
        columns = tuple(rows if isinstance(rows, Mapping) else rows[0])
        return await connection.execute(self._text(columns), rows)


class Statements:
    """The statements that differ by dialect: the upserts, and the inbox claim with RETURNING."""

    def __init__(self, dialect_name: str) -> None:
        insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert

        def upsert(statement: Insert) -> Upsert:
            return Upsert(statement, dialect_name)

        self.claim_webhooks = CLAIM_WEBHOOKS.returning(inbox.c.id, inbox.c.body)
        self.new_message = upsert(insert(messages).on_conflict_do_nothing())
        self.new_status = upsert(insert(statuses).on_conflict_do_nothing())
        self.new_entry_point = upsert(insert(entry_points).on_conflict_do_nothing())
        self.new_guest_id = upsert(insert(guest_ids).on_conflict_do_nothing())
        new_send = insert(messages).on_conflict_do_nothing(index_elements=["send_key"])
        # PostgreSQL answers the new row's id; SQLite's SQLAlchemy 1.4 dialect has no RETURNING (its lastrowid).
        self.new_send = upsert(new_send.returning(messages.c.id) if dialect_name == "postgresql" else new_send)
        touch = insert(conversations)
        self.touch_conversation = upsert(
            touch.on_conflict_do_update(
                index_elements=["business_id", "wa_id"], set_={"updated_at": touch.excluded.updated_at}
            )
        )
        self.conversation_upsert = upsert(_conversation_upsert(insert(conversations)))


def _conversation_upsert(upsert: Any) -> Insert:
    """A guest message's conversation: its newest message (by WhatsApp's timestamp), and the guest's name,
    number, user id and username as WhatsApp last gave them (a message without one keeps the one known)."""
    current = conversations.c.last_inbound_at
    # A message of the same second counts as later: it arrived later, which is the best order there is.
    later = sa.or_(current.is_(None), upsert.excluded.last_inbound_at >= current)
    statement: Insert = upsert.on_conflict_do_update(
        index_elements=["business_id", "wa_id"],
        set_={
            "last_inbound_at": sa.case((later, upsert.excluded.last_inbound_at), else_=current),
            "last_inbound_wamid": sa.case(
                (later, upsert.excluded.last_inbound_wamid), else_=conversations.c.last_inbound_wamid
            ),
            "profile_name": sa.func.coalesce(upsert.excluded.profile_name, conversations.c.profile_name),
            "phone": sa.func.coalesce(upsert.excluded.phone, conversations.c.phone),
            "user_id": sa.func.coalesce(upsert.excluded.user_id, conversations.c.user_id),
            "username": sa.func.coalesce(upsert.excluded.username, conversations.c.username),
            "updated_at": upsert.excluded.updated_at,
        },
    )
    return statement
