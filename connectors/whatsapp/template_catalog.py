"""The approved-template catalog of a WhatsApp Business Account, read from the Graph API
(`GET /{waba_id}/message_templates`) and kept for a few minutes, so the agents' API can offer templates
without a Graph call per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from actions.template_choice import CatalogTemplate

from .graph import GraphClient

CACHE_SECONDS = 300.0


class TemplateCatalog:
    def __init__(self, graph: GraphClient, clock: Callable[[], float], cache_seconds: float = CACHE_SECONDS) -> None:
        self._graph = graph
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cached: dict[str, tuple[float, tuple[CatalogTemplate, ...]]] = {}
        self._lock = asyncio.Lock()

    async def templates(self, waba_id: str) -> tuple[CatalogTemplate, ...]:
        """Every template of the account (approved or not); raises `GraphApiError` when Graph refuses."""
        async with self._lock:
            cached = self._cached.get(waba_id)
            if cached is not None and self._clock() - cached[0] < self._cache_seconds:
                return cached[1]
            items = await self._graph.message_templates(waba_id)
            templates = tuple(
                CatalogTemplate.from_graph(item) for item in items if "name" in item and "language" in item
            )
            self._cached[waba_id] = (self._clock(), templates)
            return templates
