"""The guests' own choice, made in WhatsApp, to stop or resume marketing messages from a business number
(`user_preferences` webhooks), as the automations read it before a marketing template goes out.

One row per business number and guest, written in the transaction that marks its webhook processed, since
Meta cannot be asked for it again. The newest choice by WhatsApp's timestamp wins, so a stop whose webhook
arrives late (Meta retries for days) never undoes a newer resume.

This is not the hotel's own opt-out (`automations.consent`: an opt-out word holds every automation message,
and the guest's next message lifts it): a stop holds marketing templates only, and only a resume in WhatsApp
lifts it, as WhatsApp itself refuses marketing templates to the guest until then (131050).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.whatsapp.store.guest_ids import key_among, known_keys
from connectors.whatsapp.store.schema import guest_id, metadata
from connectors.whatsapp.store.statements import Upsert

marketing_preferences = sa.Table(
    "marketing_preferences",
    metadata,
    sa.Column("business_id", sa.String(32), primary_key=True),
    sa.Column("wa_id", guest_id(), primary_key=True),
    sa.Column("stopped", sa.Boolean, nullable=False),
    sa.Column("changed_at", sa.BigInteger, nullable=False),
    sa.Column("user_id", guest_id()),
    sa.Column("detail", sa.Text),
)
"""`wa_id` is the guest's key (`webhook.account_news.preference_guest_key`, then `guest_ids`), `changed_at`
WhatsApp's timestamp of the choice, `user_id` the guest's business-scoped id when Meta gave it, `detail` Meta's
words."""


@dataclass(frozen=True)
class MarketingPreference:
    """A guest's stop (`stopped`) or resume of marketing messages from `business_id`; `changed_at` is
    WhatsApp's timestamp of the choice, None when Meta gave none (the time it is recorded stands in)."""

    business_id: str
    wa_id: str
    stopped: bool
    changed_at: int | None
    user_id: str | None = None
    detail: str | None = None


@functools.cache
def _preference_upsert(dialect_name: str) -> Upsert:
    insert = (postgresql.insert if dialect_name == "postgresql" else sqlite.insert)(marketing_preferences)
    newer = insert.on_conflict_do_update(
        index_elements=["business_id", "wa_id"],
        set_={
            "stopped": insert.excluded.stopped,
            "changed_at": insert.excluded.changed_at,
            "user_id": sa.func.coalesce(insert.excluded.user_id, marketing_preferences.c.user_id),
            "detail": insert.excluded.detail,
        },
        where=marketing_preferences.c.changed_at <= insert.excluded.changed_at,
    )
    return Upsert(newer, dialect_name)


async def record_marketing_preferences(
    connection: AsyncConnection, preferences: Sequence[MarketingPreference], now: float
) -> None:
    """Keep each guest's newest choice, inside the caller's transaction (the webhook batch's), under the key
    the guest is filed by (`guest_ids`: a guest first known by a user id keeps it when their number shows);
    rows in one order (business, guest, time), as every writer of a table takes them."""
    known = await known_keys(connection, ((p.business_id, i) for p in preferences for i in (p.wa_id, p.user_id) if i))

    preferences = [
        replace(p, wa_id=key_among(p.business_id, [i for i in (p.wa_id, p.user_id) if i], known) or p.wa_id)
        for p in preferences
    ]
    rows = sorted(
        (
            {
                "business_id": p.business_id,
                "wa_id": p.wa_id,
                "stopped": p.stopped,
                "changed_at": p.changed_at if p.changed_at is not None else int(now),
                "user_id": p.user_id,
                "detail": p.detail,
            }
            for p in preferences
        ),
        key=lambda row: (row["business_id"], row["wa_id"], row["changed_at"]),
    )
    await _preference_upsert(connection.dialect.name).run(connection, rows)


async def marketing_stopped(connection: AsyncConnection, business_id: str, wa_ids: Sequence[str]) -> set[str]:
    """Which of these guests stopped marketing messages from this number in WhatsApp: one query per 500."""
    found: set[str] = set()
    for start in range(0, len(wa_ids), 500):
        query = sa.select(marketing_preferences.c.wa_id).where(
            marketing_preferences.c.business_id == business_id,
            marketing_preferences.c.wa_id.in_(list(wa_ids[start : start + 500])),
            marketing_preferences.c.stopped.is_(True),
        )
        found.update((await connection.execute(query)).scalars())
    return found
