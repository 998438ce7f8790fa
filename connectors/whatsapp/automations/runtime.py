"""The automations' parts of one gateway process, built and started with the gateway: the outbox and its
workers, the template catalog (synced at start), the rate limits, the rate card, the hotels' facts.

`Gateway.start` builds one `AutomationRuntime`; the API routes and the inbox processor use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from background import BackgroundTasks
from cloudapi.graph import GraphClient
from connectors.whatsapp.automations.decisions import Automations
from connectors.whatsapp.automations.dispatcher import Dispatcher
from connectors.whatsapp.automations.outbox import Outbox
from connectors.whatsapp.automations.pacing import pacer_for
from connectors.whatsapp.costs import load_rate_card
from connectors.whatsapp.sending import Sender
from connectors.whatsapp.settings import GatewaySettings
from connectors.whatsapp.store import GatewayStore, InboundRecord
from connectors.whatsapp.templates import TemplateCatalog, TemplateNews
from hotel.facts import Hotel

log = logging.getLogger(__name__)


class AutomationRuntime:
    def __init__(
        self,
        store: GatewayStore,
        settings: GatewaySettings,
        graph: GraphClient,
        hotels: Mapping[str, Hotel],
        clock: Callable[[], float],
        owner: str,
    ) -> None:
        """`graph` and `hotels` are the gateway's own: one Graph client and one load of the facts per process."""
        automation = settings.automation
        self.settings = settings
        self.hotels = hotels
        self.card = load_rate_card(automation.rate_card_path, automation.pricing_rules_path, automation.markets_path)
        self.outbox = Outbox(store)
        self.catalog = TemplateCatalog(store, graph)
        self.automations = Automations(store, self.outbox, self.catalog, self.card, self.hotels, automation, clock)
        self.pacer = pacer_for(store, automation.redis_url)
        self.dispatcher = Dispatcher(
            self.automations,
            self.outbox,
            graph,
            self.pacer,
            self.hotels,
            automation,
            clock,
            owner,
            settings.claim_lease_seconds,
        )
        self.sender: Sender | None = None
        self._background = BackgroundTasks(log, "template sync")

    def start(self, sender: Sender) -> None:
        """Start the workers and, in the background, the template sync (a sandbox or Meta that is down must
        not stop the gateway: `POST /api/v1/templates/sync` tries again)."""
        self.sender = sender
        self.dispatcher.start()
        if self.settings.automation.sync_templates:
            self._background.spawn(self.sync_templates())

    async def sync_templates(self, waba_ids: set[str] | None = None) -> dict[str, int | str]:
        """Sync the catalog of every hotel's WhatsApp Business Account; the count per WABA, or the error."""
        results: dict[str, int | str] = {}
        for waba_id in sorted(waba_ids or {h.business_account_id for h in self.hotels.values()}):
            try:
                results[waba_id] = await self.catalog.sync(waba_id)
            except Exception as error:
                log.warning("template sync of %s failed: %s", waba_id, error)
                results[waba_id] = f"failed: {error}"
        return results

    async def after_batch(self, new: list[InboundRecord], template_updates: list[TemplateNews]) -> list[InboundRecord]:
        if template_updates:
            await self.automations.template_updates(template_updates)
        return await self.automations.guest_messages(new, self.sender) if new else new

    async def stop(self) -> None:
        await self._background.cancel()
        await self.dispatcher.stop()
        await self.pacer.close()
