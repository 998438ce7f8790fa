"""The template catalog of each WhatsApp Business Account, kept in the gateway store with each template's
status: synced from the management API at start and on demand, updated by `message_template_status_update`
webhooks, and by the quality and category webhooks (`quality_and_category`). Only APPROVED templates are sent;
queued messages whose template is PAUSED or DISABLED are held (by the outbox) until it is approved again.

The parameter checks are pure and run before a message is queued, so a 132000 (count) or 132005 (hydrated
body too long) never reaches the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cloudapi.graph import GraphClient
from cloudapi.inbound import TemplateCategoryUpdate, TemplateQualityUpdate
from cloudapi.templates import CatalogTemplate
from connectors.whatsapp.store import GatewayStore, Upsert, metadata
from connectors.whatsapp.templates.quality_and_category import (
    CategoryChange,
    TemplateReview,
    template_category_changes,
)

log = logging.getLogger(__name__)

HOLDING_STATUSES = frozenset({"PAUSED", "DISABLED"})
"""Statuses that hold queued messages instead of failing them: Meta pauses for hours, and a disabled template
may be appealed and reinstated."""
CACHE_SECONDS = 1.0

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("waba_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("quality_score", sa.String(16)),
    sa.Column("quality_at", sa.BigInteger),
    sa.Column("upcoming_category", sa.String(32)),
    sa.Column("upcoming_at", sa.BigInteger),
)
"""`quality_score` is Meta's newest, `quality_at` the time of its notice; `upcoming_category` a category
change Meta announced for `upcoming_at` and has not made yet (`quality_and_category`)."""


@dataclass(frozen=True)
class TemplateEvent:
    """A template's new status, from a webhook."""

    waba_id: str
    name: str
    language: str
    status: str
    category: str | None


class TemplateCatalog:
    """The stored catalog of every WABA, read through a short cache (the outbox and the API ask often)."""

    def __init__(self, store: GatewayStore, graph: GraphClient, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._graph = graph
        self._clock = clock
        self._syncing = asyncio.Lock()
        self._cache: dict[str, tuple[float, tuple[CatalogTemplate, ...]]] = {}
        dialect = store.engine.dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        upsert = insert(templates)
        self._upsert = Upsert(
            upsert.on_conflict_do_update(
                index_elements=["waba_id", "name", "language"],
                set_={
                    "category": upsert.excluded.category,
                    "status": upsert.excluded.status,
                    "body": upsert.excluded.body,
                    "updated_at": upsert.excluded.updated_at,
                },
            ),
            dialect,
        )
        self._new_category_change = Upsert(insert(template_category_changes).on_conflict_do_nothing(), dialect)

    async def sync(self, waba_id: str) -> int:
        """Replace what the store knows of `waba_id`'s templates with the management API's list."""
        items = [CatalogTemplate.from_graph(item) for item in await self._graph.list_templates(waba_id)]
        now = self._clock()
        async with self._store.transaction() as connection:
            if items:
                await self._upsert.run(
                    connection,
                    [
                        {
                            "waba_id": waba_id,
                            "name": t.name,
                            "language": t.language,
                            "category": t.category,
                            "status": t.status,
                            "body": t.body,
                            "updated_at": now,
                        }
                        for t in items
                    ],
                )
        self._cache.pop(waba_id, None)
        log.info("template catalog of %s synced: %d templates", waba_id, len(items))
        return len(items)

    async def apply(self, event: TemplateEvent) -> bool:
        """Record a template's new status from a webhook; False when the template was never synced."""
        values: dict[str, object] = {"status": event.status.upper(), "updated_at": self._clock()}
        if event.category:
            values["category"] = event.category.upper()
        key = _template_is(event.waba_id, event.name, event.language)
        async with self._store.transaction() as connection:
            result = await connection.execute(templates.update().where(key).values(**values))
        self._cache.pop(event.waba_id, None)
        return result.rowcount > 0

    async def apply_review(self, update: TemplateQualityUpdate | TemplateCategoryUpdate) -> None:
        """Record Meta's quality score or category notice of a template; an older notice arriving late (Meta
        retries for days) never overrides a newer one. A notice of a template never synced changes no row,
        but a category change is kept for the cost report all the same."""
        if not (update.waba_id and update.name and update.language):
            return
        at = update.time if update.time is not None else int(self._clock())
        template = (update.waba_id, update.name, update.language)
        async with self._store.transaction() as connection:
            if isinstance(update, TemplateQualityUpdate):
                newer = sa.or_(templates.c.quality_at.is_(None), templates.c.quality_at <= at)
                values = {"quality_score": update.new_score.upper(), "quality_at": at}
                await connection.execute(templates.update().where(_template_is(*template), newer).values(**values))
            elif update.impending:
                assert update.correct_category is not None
                category, effective = update.correct_category.upper(), update.update_timestamp
                upcoming = {"upcoming_category": category, "upcoming_at": effective}
                since = sa.exists().where(_change_of(*template), template_category_changes.c.changed_at >= at)
                await connection.execute(templates.update().where(_template_is(*template), ~since).values(**upcoming))
            else:
                await self._recategorise(connection, template, update, at)
        self._cache.pop(update.waba_id, None)

    async def _recategorise(
        self, connection: Any, template: tuple[str, str, str], update: TemplateCategoryUpdate, at: int
    ) -> None:
        """Keep the change, and make it the template's category unless a newer change is already kept."""
        assert update.new_category is not None
        waba_id, name, language = template
        new = update.new_category.upper()
        previous = update.previous_category.upper() if update.previous_category else None
        row = {"waba_id": waba_id, "name": name, "language": language, "changed_at": at}
        await self._new_category_change.run(connection, row | {"previous_category": previous, "new_category": new})
        newer = sa.exists().where(_change_of(*template), template_category_changes.c.changed_at > at)
        await connection.execute(
            templates.update()
            .where(_template_is(*template), ~newer)
            .values(category=new, upcoming_category=None, upcoming_at=None, updated_at=self._clock())
        )

    async def category_changes(self, waba_id: str) -> dict[tuple[str, str], list[CategoryChange]]:
        """Every kept category change of the account's templates, by (name, language), oldest first."""
        query = (
            sa.select(template_category_changes)
            .where(template_category_changes.c.waba_id == waba_id)
            .order_by(template_category_changes.c.changed_at)
        )
        found: dict[tuple[str, str], list[CategoryChange]] = {}
        async with self._store.connect() as connection:
            for row in await connection.execute(query):
                change = CategoryChange(row.previous_category, row.new_category, row.changed_at)
                found.setdefault((row.name, row.language), []).append(change)
        return found

    async def reviews(self, waba_id: str) -> dict[tuple[str, str], TemplateReview]:
        """The quality score and announced category change of the account's templates, by (name, language)."""
        columns = (templates.c.name, templates.c.language, templates.c.quality_score)
        query = sa.select(*columns, templates.c.upcoming_category, templates.c.upcoming_at).where(
            templates.c.waba_id == waba_id
        )
        async with self._store.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {(r.name, r.language): TemplateReview(r.quality_score, r.upcoming_category, r.upcoming_at) for r in rows}

    async def templates_of(self, waba_id: str, fresh: bool = False) -> tuple[CatalogTemplate, ...]:
        cached = self._cache.get(waba_id)
        now = time.monotonic()
        if cached is not None and not fresh and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        query = (
            sa.select(templates).where(templates.c.waba_id == waba_id).order_by(templates.c.name, templates.c.language)
        )
        async with self._store.connect() as connection:
            rows = (await connection.execute(query)).all()
        found = tuple(CatalogTemplate(r.name, r.language, r.category, r.status, r.body) for r in rows)
        if not found:
            return await self._first_sync(waba_id)
        self._cache[waba_id] = (now, found)
        return found

    async def _first_sync(self, waba_id: str) -> tuple[CatalogTemplate, ...]:
        """A catalog never synced (the gateway's start-up sync still running, or failed): sync it now, once
        at a time; an account with no templates at all stays empty."""
        async with self._syncing:
            try:
                await self.sync(waba_id)
            except Exception as error:
                log.warning("template catalog of %s is empty and could not be synced: %s", waba_id, error)
                return ()
        return await self.templates_of(waba_id, fresh=True) if await self._stored(waba_id) else ()

    async def _stored(self, waba_id: str) -> bool:
        query = sa.select(sa.func.count()).select_from(templates).where(templates.c.waba_id == waba_id)
        async with self._store.connect() as connection:
            return bool((await connection.execute(query)).scalar_one())

    async def find(self, waba_id: str, name: str, language: str) -> CatalogTemplate | None:
        return next((t for t in await self.templates_of(waba_id) if t.name == name and t.language == language), None)


def _template_is(waba_id: str, name: str, language: str) -> Any:
    return sa.and_(templates.c.waba_id == waba_id, templates.c.name == name, templates.c.language == language)


def _change_of(waba_id: str, name: str, language: str) -> Any:
    changes = template_category_changes.c
    return sa.and_(changes.waba_id == waba_id, changes.name == name, changes.language == language)
