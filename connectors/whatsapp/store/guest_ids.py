"""One guest, whichever ids WhatsApp gives for them: a phone number, a business-scoped user id (BSUID), a parent
BSUID, a new number after `user_changed_number`.

Since 2026 a guest who adopted a username may write with only a BSUID, and the same guest may later come
with their phone number too (or the reverse: the number stops coming after 30 days of silence). Every table
keys a guest's thread, window, consent and handoff by one id, so the first id the gateway saw for a guest
(the phone number when it came, else the BSUID) stays their key, and every other id seen with it is filed
here under that key. A message that names an id filed here joins that guest's thread, whichever id it
carries.

Only ids that differ from their guest's key are filed: a guest who only ever writes with their number
adds nothing. Filing runs in the transaction that records the messages, which takes webhooks one at a time
across processes (`GatewayStore.process_webhooks`), so two replicas never file one id under two keys.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store.records import InboundRecord
from connectors.whatsapp.store.schema import conversations, guest_id, metadata

log = logging.getLogger(__name__)

guest_ids = sa.Table(
    "guest_ids",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("identity", guest_id(), primary_key=True),
    sa.Column("guest", guest_id(), nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
    sa.Index("ix_guest_ids_guest", "business_id", "guest"),
)
"""An id of a guest (`identity`: a phone number or a BSUID) that is not their key, and the key (`guest`, the
`wa_id` of their rows everywhere else), for one business number."""

FIND_GUESTS = sa.select(guest_ids.c.business_id, guest_ids.c.identity, guest_ids.c.guest).where(
    guest_ids.c.business_id.in_(sa.bindparam("b", expanding=True)),
    guest_ids.c.identity.in_(sa.bindparam("i", expanding=True)),
)
FIND_FILED_OR_KEYS = sa.union_all(
    FIND_GUESTS,
    sa.select(conversations.c.business_id, conversations.c.wa_id, conversations.c.wa_id).where(
        conversations.c.business_id.in_(sa.bindparam("b", expanding=True)),
        conversations.c.wa_id.in_(sa.bindparam("i", expanding=True)),
    ),
)
"""For each id: the key it is filed under, or itself when it is a guest's key (the key of a guest first
known by a BSUID is filed nowhere: it names their conversation)."""

Filed = dict[tuple[str, str], str]
"""(business number, id) → the guest's key."""


def file_records(records: Sequence[InboundRecord], known: Filed, now: float) -> tuple[list[InboundRecord], list[dict]]:
    """Each record under its guest's key, and the rows of ids to file that were not (pure).

    A record's key is the one filed for its first id that has one (the phone number first), else its own
    (its phone number, else its user id). A message naming ids filed under two different keys (a guest
    the gateway knew by number and, separately, by a BSUID, before a message showed both) joins the number's
    thread, and so do the other thread's next messages; that thread keeps its history, and the conflict is
    logged for an agent to see."""
    filed: list[InboundRecord] = []
    new_rows: dict[tuple[str, str], dict] = {}
    for record in records:
        if record.ids is None:
            filed.append(record)
            continue
        ids = record.ids.all
        keys = [known[(record.business_id, i)] for i in ids if (record.business_id, i) in known]
        key = key_among(record.business_id, ids, known) or record.wa_id
        if len(set(keys)) > 1:
            log.warning(
                "message %s names ids filed under two guests (%s); it joins %s's thread",
                record.wamid,
                ", ".join(sorted(set(keys))),
                key,
            )
        for identity in ids:
            place = (record.business_id, identity)
            # Filed unless it is already; the key of another thread too, so its next messages join this one.
            if identity != key and known.get(place, identity) == identity:
                known[place] = key
                new_rows[place] = {
                    "business_id": record.business_id,
                    "identity": identity,
                    "guest": key,
                    "seen_at": now,
                }
            # The batch's next messages find this guest, by their key too (which is filed nowhere).
            known.setdefault(place, key)
        filed.append(record if key == record.wa_id else replace(record, wa_id=key))
    return filed, list(new_rows.values())


async def filed_guests(connection: AsyncConnection, records: Sequence[InboundRecord]) -> Filed:
    """The key of each id the records name, where one is known: one indexed read for the whole batch."""
    named = ((record.business_id, identity) for record in records if record.ids for identity in record.ids.all)
    return await known_keys(connection, named)


async def known_keys(connection: AsyncConnection, named: Iterable[tuple[str, str]]) -> Filed:
    """The key of each (business number, id), where one is known (filed, or the id is itself a guest's key):
    one read on both tables' primary keys."""
    pairs = set(named)
    if not pairs:
        return {}
    businesses, identities = sorted({b for b, _ in pairs}), sorted({i for _, i in pairs})
    rows = (await connection.execute(FIND_FILED_OR_KEYS, {"b": businesses, "i": identities})).all()
    # An id both filed and a key (two threads a later message joined) goes by its filing.
    return {(business, identity): guest for business, identity, guest in sorted(rows, key=lambda r: r[1] != r[2])}


def key_among(business_id: str, ids: Sequence[str], known: Filed) -> str | None:
    """The guest these ids name (the first of them with a known key), None for a guest new to the store."""
    return next((known[(business_id, i)] for i in ids if (business_id, i) in known), None)
