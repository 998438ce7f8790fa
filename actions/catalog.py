"""The approved templates of a WhatsApp Business Account, as the actions need them to write to a guest whose
customer service window has lapsed.

Read through the process's one `GraphClient` (the project's one reader of `GET /{waba_id}/message_templates`,
every page followed), from the same `WHATSAPP_API_URL` and `WHATSAPP_ACCESS_TOKEN` the gateway uses, and kept
for `CACHE_SECONDS`: templates change when someone approves or pauses one, not per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

import aiohttp

from cloudapi.errors import GraphApiError
from cloudapi.graph import GraphClient
from cloudapi.templates import CatalogTemplate

__all__ = ["CACHE_SECONDS", "CatalogUnavailableError", "GraphTemplateCatalog"]

log = logging.getLogger(__name__)

CACHE_SECONDS: Final = 300.0


class CatalogUnavailableError(RuntimeError):
    """The template list could not be read (not configured, unreachable, or refused)."""


class GraphTemplateCatalog:
    def __init__(self, graph: GraphClient | None, clock: Callable[[], float] = time.monotonic) -> None:
        """`graph` is None where the Graph API is not configured: every look-up then says what is missing."""
        self._graph = graph
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[CatalogTemplate, ...]]] = {}

    async def templates(self, waba_id: str) -> tuple[CatalogTemplate, ...]:
        """Every template of the account, approved or not (template choice filters by status)."""
        cached = self._cache.get(waba_id)
        if cached and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        if self._graph is None:
            raise CatalogUnavailableError("WHATSAPP_API_URL and WHATSAPP_ACCESS_TOKEN are needed to list the templates")
        try:
            items = await self._graph.list_templates(waba_id)
        except GraphApiError as error:
            raise CatalogUnavailableError(
                f"the Graph API answered {error.http_status} to the template list: {error.code} {error.title}"
            ) from error
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise CatalogUnavailableError(f"the template list cannot be read ({type(error).__name__})") from error
        templates = tuple(CatalogTemplate.from_graph(item) for item in items)
        self._cache[waba_id] = (self._clock(), templates)
        return templates

    async def close(self) -> None:
        if self._graph is not None:
            await self._graph.close()
