"""What the agents read: the conversation list, the search, one thread with its statuses, and the changes
since a cursor for the live updates. Read-only queries over the gateway store, scoped to the hotels a token
may act for. Every message is served with the guest's edits and deletions applied (`amendments`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cloudapi.outbound import sent_media
from cloudapi.window import WINDOW, window_state
from connectors.whatsapp.agents.amendments import amendments_after, edited_to, revoked, with_amendments
from connectors.whatsapp.agents.desk_log import NOBODY, resolved_clause, thread_desk
from connectors.whatsapp.handoff import BOT, HolderState, handoffs, state_of
from connectors.whatsapp.media import attach_media
from connectors.whatsapp.store import GatewayStore, conversations, message_amendments, messages, statuses

MAX_PAGE = 100


@dataclass(frozen=True)
class ConversationQuery:
    """A page of the conversation list: `hotels` is the token's scope (None: every hotel)."""

    hotels: frozenset[str] | None
    hotel: str | None = None
    state: str | None = None
    """`bot`, `queue`, `agent` or `held` (queue or agent)."""
    window_open: bool | None = None
    status: str | None = "open"
    """`open`, `resolved`, or None for both."""
    assignee: str | None = None
    """An agent's token name, `NOBODY` for the unassigned, or None for every thread."""
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class ConversationSummary:
    business_id: str
    wa_id: str
    profile_name: str | None
    holder: str
    reason: str | None
    held_since: float | None
    last_inbound_at: int | None
    last_activity: float | None
    last_text: str | None
    last_origin: str | None
    unread: int
    phone: str | None = None
    """The number WhatsApp last gave for the guest; None for one known only by a user id (then `wa_id`)."""
    username: str | None = None
    assignee: str | None = None
    """The agent (token name) assigned to the thread, if any: who should answer, not who holds it."""
    status: str = "open"
    """`resolved` from an agent's resolve until the guest's next message."""

    def to_json(self, now: float) -> dict[str, Any]:
        window = window_state(self.last_inbound_at, now)
        state: HolderState = state_of(self.holder)
        return {
            "business_id": self.business_id,
            "wa_id": self.wa_id,
            "profile_name": self.profile_name,
            "phone": self.phone,
            "username": self.username,
            "handoff": {"holder": self.holder, "state": state, "reason": self.reason, "since": self.held_since},
            "window": {"open": window.open, "closes_at": window.expires_at},
            "last_activity": self.last_activity,
            "last_text": self.last_text,
            "last_origin": self.last_origin,
            "unread": self.unread,
            "assignee": self.assignee,
            "status": self.status,
        }


class ConversationQueries:
    def __init__(self, store: GatewayStore) -> None:
        self._store = store

    async def page(self, query: ConversationQuery, now: float) -> list[ConversationSummary]:
        """Newest activity first; `unread` counts the guest's messages since the business last answered."""
        statement = _summaries()
        if query.hotels is not None:
            statement = statement.where(conversations.c.business_id.in_(sorted(query.hotels)))
        if query.hotel is not None:
            statement = statement.where(conversations.c.business_id == query.hotel)
        holder = sa.func.coalesce(handoffs.c.holder, BOT)
        if query.state == "bot":
            statement = statement.where(holder == BOT)
        elif query.state == "queue":
            statement = statement.where(holder == "queue")
        elif query.state == "agent":
            statement = statement.where(holder.like("agent:%"))
        elif query.state == "held":
            statement = statement.where(holder != BOT)
        statement = _desk_filters(statement, query)
        if query.window_open is not None:
            opened_after = int(now - WINDOW.total_seconds())
            inside = conversations.c.last_inbound_at >= opened_after
            statement = statement.where(
                inside if query.window_open else sa.or_(~inside, conversations.c.last_inbound_at.is_(None))
            )
        statement = statement.order_by(
            conversations.c.updated_at.desc(), conversations.c.business_id.desc(), conversations.c.wa_id.desc()
        )
        statement = statement.limit(min(query.limit, MAX_PAGE)).offset(query.offset)
        async with self._store.connect() as connection:
            return [_summary(row) for row in await connection.execute(statement)]

    async def summary(self, business_id: str, wa_id: str) -> ConversationSummary | None:
        statement = _summaries().where(conversations.c.business_id == business_id, conversations.c.wa_id == wa_id)
        async with self._store.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else _summary(row)

    async def search(
        self,
        text: str,
        hotels: frozenset[str] | None,
        also: Sequence[tuple[str, str]] = (),
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], list[ConversationSummary]]:
        """Messages whose text (or an edit's) contains `text`, but none the guest deleted, and conversations
        whose number or profile name does, or that are among `also` (the conversations of reservations under a
        matching name)."""
        pattern = f"%{_escaped(text.lower())}%"
        found_messages = (
            sa.select(messages, conversations.c.profile_name)
            .join(
                conversations,
                (conversations.c.business_id == messages.c.business_id) & (conversations.c.wa_id == messages.c.wa_id),
                isouter=True,
            )
            .where(
                sa.or_(sa.func.lower(messages.c.text).like(pattern, escape="\\"), edited_to(messages, pattern)),
                ~revoked(messages),
            )
        )
        found_threads = _summaries().where(
            sa.or_(
                conversations.c.wa_id.like(pattern, escape="\\"),
                sa.func.lower(conversations.c.profile_name).like(pattern, escape="\\"),
                *(
                    (conversations.c.business_id == business_id) & (conversations.c.wa_id == wa_id)
                    for business_id, wa_id in also
                ),
            )
        )
        if hotels is not None:
            found_messages = found_messages.where(messages.c.business_id.in_(sorted(hotels)))
            found_threads = found_threads.where(conversations.c.business_id.in_(sorted(hotels)))
        async with self._store.connect() as connection:
            rows = await connection.execute(found_messages.order_by(messages.c.id.desc()).limit(limit))
            found = [{**message_json(row._mapping), "profile_name": row.profile_name} for row in rows]
            message_rows = await with_amendments(connection, found)
            threads = [_summary(row) for row in await connection.execute(found_threads.limit(limit))]
        return message_rows, threads

    async def last_guest_text(self, business_id: str, wa_id: str) -> str | None:
        query = (
            sa.select(messages.c.text)
            .where(messages.c.business_id == business_id, messages.c.wa_id == wa_id, messages.c.direction == "inbound")
            .order_by(messages.c.id.desc())
            .limit(1)
        )
        async with self._store.connect() as connection:
            return (await connection.execute(query)).scalar()

    async def thread(self, business_id: str, wa_id: str) -> list[dict[str, Any]]:
        """Every message, oldest first, each with its status history (and WhatsApp's pricing when known)."""
        query = (
            sa.select(messages)
            .where(messages.c.business_id == business_id, messages.c.wa_id == wa_id)
            .order_by(messages.c.id)
        )
        async with self._store.connect() as connection:
            stored = [message_json(row._mapping) for row in await connection.execute(query)]
            rows = await attach_media(connection, await with_amendments(connection, stored))
            wamids = [row["wamid"] for row in rows if row["direction"] == "outbound" and row["wamid"]]
            history: dict[str, list[dict[str, Any]]] = {}
            if wamids:
                found = await connection.execute(
                    sa.select(statuses)
                    .where(statuses.c.wamid.in_(wamids))
                    .order_by(statuses.c.wa_timestamp, statuses.c.id)
                )
                for status in found:
                    history.setdefault(status.wamid, []).append(
                        {
                            "status": status.status,
                            "at": status.wa_timestamp,
                            "error_code": status.error_code,
                            "error_title": status.error_title,
                        }
                    )
        for row in rows:
            row["statuses"] = history.get(row["wamid"], []) if row["direction"] == "outbound" else []
        return rows

    async def messages_after(self, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
        query = sa.select(messages).where(messages.c.id > cursor).order_by(messages.c.id).limit(limit)
        async with self._store.connect() as connection:
            stored = [message_json(row._mapping) for row in await connection.execute(query)]
            return await attach_media(connection, await with_amendments(connection, stored))

    async def amendments_after(self, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
        """New edits and deletions of stored guest messages, each with its message's thread."""
        async with self._store.connect() as connection:
            return await amendments_after(connection, cursor, limit)

    async def statuses_after(self, cursor: int, limit: int = 200) -> list[dict[str, Any]]:
        """New status webhooks with the conversation of their message (statuses of unknown messages skipped)."""
        query = (
            sa.select(statuses, messages.c.business_id, messages.c.wa_id, messages.c.id.label("message_id"))
            .join(messages, (messages.c.wamid == statuses.c.wamid) & (messages.c.direction == "outbound"))
            .where(statuses.c.id > cursor)
            .order_by(statuses.c.id)
            .limit(limit)
        )
        async with self._store.connect() as connection:
            return [
                {
                    "id": row.id,
                    "message_id": row.message_id,
                    "business_id": row.business_id,
                    "wa_id": row.wa_id,
                    "wamid": row.wamid,
                    "status": row.status,
                    "at": row.wa_timestamp,
                    "error_code": row.error_code,
                    "error_title": row.error_title,
                }
                for row in await connection.execute(query)
            ]

    async def cursors(self) -> tuple[int, int, int]:
        """The newest message, status and amendment ids: where a live stream starts."""
        async with self._store.connect() as connection:
            message = (await connection.execute(sa.select(sa.func.max(messages.c.id)))).scalar()
            status = (await connection.execute(sa.select(sa.func.max(statuses.c.id)))).scalar()
            amendment = (await connection.execute(sa.select(sa.func.max(message_amendments.c.id)))).scalar()
        return int(message or 0), int(status or 0), int(amendment or 0)


def message_json(row: Any) -> dict[str, Any]:
    """A stored message as the API shows it."""
    return {
        "id": row["id"],
        "business_id": row["business_id"],
        "wa_id": row["wa_id"],
        "direction": row["direction"],
        "origin": row["origin"],
        "wamid": row["wamid"],
        "type": row["type"],
        "text": row["text"],
        "created_at": row["created_at"],
        "wa_timestamp": row["wa_timestamp"],
        "state": row["state"],
        "status": row["status"],
        "status_at": row["status_at"],
        "error": (
            {"code": row["error_code"], "title": row["error_title"], "details": row["error_details"]}
            if row["error_code"] is not None or row["error_title"]
            else None
        ),
        "blocked_reason": row["blocked_reason"],
        "pricing": json.loads(row["pricing"]) if row["pricing"] else None,
        "attachment": sent_media(json.loads(row["body"])) if row["direction"] == "outbound" and row["body"] else None,
    }


def _summaries() -> sa.sql.Select:
    def thread_of(alias: Any) -> Any:
        return (alias.c.business_id == conversations.c.business_id) & (alias.c.wa_id == conversations.c.wa_id)

    latest, answered, unread = messages.alias("latest"), messages.alias("answered"), messages.alias("unread")
    last_id = sa.select(sa.func.max(latest.c.id)).where(thread_of(latest)).scalar_subquery()
    # Nested one level deeper than the others, this one must be told which thread it belongs to: left to
    # itself, SQLAlchemy would give it a FROM of its own and take the last answer of every thread.
    last_answer = (
        sa.select(sa.func.coalesce(sa.func.max(answered.c.id), 0))
        .where(thread_of(answered), answered.c.direction == "outbound", answered.c.state != "blocked")
        .correlate(conversations)
        .scalar_subquery()
    )
    unread_count = (
        sa.select(sa.func.count())
        .select_from(unread)
        .where(thread_of(unread), unread.c.direction == "inbound", unread.c.id > last_answer)
        .correlate(conversations)
        .scalar_subquery()
    )
    last = messages.alias("last")
    return sa.select(
        conversations.c.business_id,
        conversations.c.wa_id,
        conversations.c.profile_name,
        conversations.c.phone,
        conversations.c.username,
        conversations.c.last_inbound_at,
        sa.func.coalesce(handoffs.c.holder, BOT).label("holder"),
        handoffs.c.reason,
        handoffs.c.since,
        last.c.created_at.label("last_activity"),
        sa.case((revoked(last), None), else_=last.c.text).label("last_text"),
        last.c.origin.label("last_origin"),
        unread_count.label("unread"),
        thread_desk.c.assignee,
        sa.case((resolved_clause(), "resolved"), else_="open").label("status"),
    ).select_from(
        conversations.outerjoin(
            handoffs,
            (handoffs.c.business_id == conversations.c.business_id) & (handoffs.c.wa_id == conversations.c.wa_id),
        )
        .outerjoin(last, last.c.id == last_id)
        .outerjoin(thread_desk, thread_of(thread_desk))
    )


def _desk_filters(statement: sa.sql.Select, query: ConversationQuery) -> sa.sql.Select:
    """The front desk's filters of the list: resolved or open, and who is assigned."""
    if query.status is not None:
        resolved = resolved_clause()
        statement = statement.where(resolved if query.status == "resolved" else sa.not_(resolved))
    if query.assignee == NOBODY:
        statement = statement.where(thread_desk.c.assignee.is_(None))
    elif query.assignee is not None:
        statement = statement.where(thread_desk.c.assignee == query.assignee)
    return statement


def _summary(row: Any) -> ConversationSummary:
    return ConversationSummary(
        row.business_id,
        row.wa_id,
        row.profile_name,
        row.holder,
        row.reason if row.holder != BOT else None,
        row.since if row.holder != BOT else None,
        row.last_inbound_at,
        row.last_activity,
        row.last_text,
        row.last_origin,
        int(row.unread or 0),
        row.phone,
        row.username,
        row.assignee,
        row.status,
    )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
