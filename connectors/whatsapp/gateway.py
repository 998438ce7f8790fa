"""The gateway of one process: settings, store, Graph client, sender and inbox processor, started and
stopped with the server.

Kept apart from the Rasa glue so tests can run the whole webhook path on a plain Sanic app with an
injected clock and a recorded bot.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from cloudapi.graph import GraphClient
from connectors.whatsapp.agents import AgentDesk, ConversationQueries, HeldReplies
from connectors.whatsapp.automations import AutomationRuntime
from connectors.whatsapp.handoff import FailedTurns, Handoffs, HandoffStore
from connectors.whatsapp.media import MediaKeeper, backend_for
from connectors.whatsapp.sending import Sender
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import GatewayStore
from connectors.whatsapp.webhook import BotHandler, InboxProcessor, Intake
from hotel.facts import load_hotels
from hotel.reservations import ReservationRepository, repository_from_settings

log = logging.getLogger(__name__)


class Gateway:
    """Everything the webhook routes and the output channel share inside one process."""

    def __init__(self, settings: GatewaySettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self.store = GatewayStore.from_url(settings.database_url)
        self.intake = Intake(self.store, clock)
        self.graph: GraphClient | None = None
        self.sender: Sender | None = None
        self.processor: InboxProcessor | None = None
        self.handoffs = Handoffs(
            HandoffStore(self.store), clock, settings.handoff_idle_release_minutes * 60, settings.sweep_seconds
        )
        self.queries = ConversationQueries(self.store)
        self.desk: AgentDesk | None = None
        self.reservations: ReservationRepository | None = None
        self.stopping = False
        self.automation: AutomationRuntime | None = None
        self.media: MediaKeeper | None = None

    async def start(self, bot: BotHandler) -> None:
        """Open the store (creating the schema) and the Graph client; the inbox is processed from here on."""
        _ensure_sqlite_folder(self.settings.database_url)
        await self.store.create_schema()
        self.graph = GraphClient(self.settings.graph)
        self.sender = Sender(self.store, self.graph, self.clock, self.settings.resend_wait_seconds)
        self.reservations = repository_from_settings(self.settings.hotel)
        hotels = load_hotels(self.settings.hotel.facts_dir)
        self.automation = AutomationRuntime(self.store, self.settings, self.graph, hotels, self.clock, self.owner)
        self.desk = AgentDesk(
            self.handoffs,
            self.queries,
            HeldReplies(self.store),
            self.sender,
            self.automation.catalog,
            hotels,
            self.reservations,
            self.clock,
            self.owner,
        )
        self.processor = InboxProcessor(
            self.store,
            self.graph,
            self.settings,
            bot,
            self.clock,
            self.owner,
            screen=self.desk.screen,
            listener=self.automation,
            failed_turn=FailedTurns(self.handoffs, self.sender),
        )
        self.media = MediaKeeper(
            self.store,
            self.graph,
            backend_for(self.settings.media_url),
            self.clock,
            self.settings.sweep_seconds,
            self.settings.media_retry_seconds,
            self.settings.media_retention_days,
        )
        self.processor.media = self.media.wake
        if self.settings.process_inbox:
            self.media.start()
        self.automation.start(self.sender)
        log.info(
            "WhatsApp gateway %s ready: store %s, Graph API %s",
            self.owner,
            _redacted(self.settings.database_url),
            self.settings.graph.versioned_url,
        )

    async def stop(self) -> None:
        self.stopping = True
        await self.handoffs.stop()
        if self.automation is not None:
            await self.automation.stop()
        if self.processor is not None:
            await self.processor.stop()
        if self.media is not None:
            await self.media.stop()
        await self.intake.flush()
        if self.graph is not None:
            await self.graph.close()
        if self.reservations is not None:
            await self.reservations.close()
        await self.store.close()


def _ensure_sqlite_folder(url: str) -> None:
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url != f"{prefix}:memory:":
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def _redacted(url: str) -> str:
    """The database URL without its password, for the logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
