"""What the agents do to a conversation, behind the API: take over, reply, send a template, reopen a lapsed
window with a held text, give back; and what the inbox does for them when a guest writes (deliver held
texts, keep held threads away from the bot).

Every send goes through the gateway's `Sender` with `origin="agent:<name>"`, so the message log is the
audit trail. A refusal is a `DeskError` carrying the API's status, code and what the caller can do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from cloudapi.errors import GraphApiError
from cloudapi.outbound import MessageBody, text_messages
from cloudapi.window import WindowState, window_state
from connectors.whatsapp.agents.guest_reservations import guest_reservation, reservation_threads
from connectors.whatsapp.agents.held_replies import HeldReplies, HeldReply
from connectors.whatsapp.agents.offers import TemplateOffer, find_offer, known_values, offers
from connectors.whatsapp.agents.queries import ConversationQueries
from connectors.whatsapp.handoff import HandoffChange, Handoffs, agent_holder
from connectors.whatsapp.sending import Recipient, Sender, SendOutcome
from connectors.whatsapp.store import PendingDispatch
from connectors.whatsapp.templates import TemplateCatalog
from hotel.facts import Hotel
from hotel.language import detect_language
from hotel.reservations import Reservation, ReservationRepository
from hotel.template_choice import ChoiceError, TemplateChoice, choose_message

log = logging.getLogger(__name__)
REOPEN_TEMPLATE = "reopen_conversation"


class DeskError(Exception):
    """An agent's request the gateway refuses; the API answers `status` with `code`, `message`, `details`."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class GuestContext:
    """What an agent needs beside the messages: the hotel, the reservation, the language, the window."""

    hotel: Hotel | None
    reservation: Reservation | None
    language: str
    profile_name: str | None
    window: WindowState
    template_values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sent:
    outcomes: tuple[SendOutcome, ...]
    handoff: HandoffChange
    held_reply: HeldReply | None = None


class AgentDesk:
    def __init__(
        self,
        handoffs: Handoffs,
        queries: ConversationQueries,
        held: HeldReplies,
        sender: Sender,
        catalog: TemplateCatalog,
        hotels: Mapping[str, Hotel],
        reservations: ReservationRepository,
        clock: Callable[[], float],
        owner: str,
    ) -> None:
        self.handoffs = handoffs
        self.queries = queries
        self.held = held
        self._sender = sender
        self._catalog = catalog
        self._hotels = hotels
        self.reservations = reservations
        self._clock = clock
        self._owner = owner

    # --- reading ------------------------------------------------------------------------------------------

    async def context(
        self, business_id: str, wa_id: str, profile_name: str | None, last_inbound_at: int | None
    ) -> GuestContext:
        hotel = self._hotels.get(business_id)
        now = datetime.fromtimestamp(self._clock(), timezone.utc)
        today = (now.astimezone(hotel.timezone) if hotel else now).date()
        reservation, last_text = await asyncio.gather(
            guest_reservation(self.reservations, business_id, wa_id, today),
            self.queries.last_guest_text(business_id, wa_id),
        )
        language = detect_language(last_text or "", None, wa_id)
        values = known_values(language, hotel, reservation, profile_name)
        return GuestContext(
            hotel, reservation, language, profile_name, window_state(last_inbound_at, self._clock()), values
        )

    async def reserved_threads(self, hotels: frozenset[str] | None, text: str) -> list[tuple[str, str]]:
        """The conversations of guests whose reservation's name or booking code contains `text`, at `hotels`
        (None: every hotel with facts, the ones a PMS can be asked about)."""
        return await reservation_threads(self.reservations, self._hotels.keys() if hotels is None else hotels, text)

    async def template_offers(self, business_id: str, context: GuestContext) -> list[TemplateOffer]:
        """Approved templates for this guest, or an empty list when the hotel or its catalog is unknown."""
        if context.hotel is None or not context.hotel.business_account_id:
            return []
        try:
            catalog = await self._catalog.templates_of(context.hotel.business_account_id)
        except (GraphApiError, OSError) as error:
            log.warning("template catalog of %s unavailable: %s", context.hotel.business_account_id, error)
            return []
        return offers(catalog, context.language, context.template_values)

    # --- acting -------------------------------------------------------------------------------------------

    async def take_over(self, business_id: str, wa_id: str, agent: str) -> HandoffChange:
        change = await self.handoffs.take_over(business_id, wa_id, agent)
        if change.after.holder != agent_holder(agent):
            raise DeskError(
                409,
                "held_by_another_agent",
                f"{change.after.holder} holds this thread; they must give it back first",
                holder=change.after.holder,
            )
        return change

    async def release(self, business_id: str, wa_id: str, agent: str) -> HandoffChange:
        change = await self.handoffs.release(business_id, wa_id, agent)
        if change.after.held:
            raise DeskError(
                409,
                "held_by_another_agent",
                f"{change.after.holder} holds this thread; only they can give it back",
                holder=change.after.holder,
            )
        return change

    async def reply(
        self, business_id: str, wa_id: str, agent: str, text: str, context: GuestContext, reopen: bool
    ) -> Sent:
        """Free text inside the window. Outside it: with `reopen`, the hotel's `reopen_conversation` template
        now and the text held until the guest answers; without, 409 with the templates that may be sent."""
        if not context.window.open:
            if not reopen:
                raise await self.window_closed(business_id, context, 'or reply with "reopen": true')
            return await self._reopen(business_id, wa_id, agent, text, context)
        return await self.send_free_form(business_id, wa_id, agent, text_messages(text))

    async def send_free_form(self, business_id: str, wa_id: str, agent: str, bodies: Sequence[MessageBody]) -> Sent:
        """Take the thread over and send `bodies` in order through the sender, whose window guard blocks them
        if the window closed meanwhile: a reply's texts, an attachment's media message and caption."""
        change = await self.take_over(business_id, wa_id, agent)
        recipient = Recipient(business_id, wa_id)
        outcomes = [await self._sender.send(recipient, body, origin=agent_holder(agent)) for body in bodies]
        await self._answered(business_id, wa_id, agent)
        return Sent(tuple(outcomes), change)

    async def window_closed(self, business_id: str, context: GuestContext, alternative: str) -> DeskError:
        """The refusal of a free-form message outside the window (409 `window_closed`), with why and the
        templates that may be sent instead; `alternative` names the caller's other way out."""
        reason = (
            "the guest never wrote to this number"
            if context.window.expires_at is None
            else "the guest's last message is over 24 hours old"
        )
        return DeskError(
            409,
            "window_closed",
            f"customer service window closed: {reason}; send a template, {alternative}",
            reason=reason,
            templates=[o.to_json() for o in await self.template_offers(business_id, context)],
        )

    async def send_template(
        self,
        business_id: str,
        wa_id: str,
        agent: str,
        name: str,
        language: str,
        parameters: list[str],
        context: GuestContext,
    ) -> Sent:
        template = await self._approved(context, name, language)
        if template.parameter_count != len(parameters) or any(not p.strip() for p in parameters):
            raise DeskError(
                422,
                "template_parameters",
                f"template {name} ({language}) needs {template.parameter_count} non-empty parameters, "
                f"got {len(parameters)}",
                expected=template.parameter_count,
            )
        change = await self.take_over(business_id, wa_id, agent)
        body = TemplateChoice(template.name, template.language, template.category, tuple(parameters)).message()
        outcome = await self._sender.send(Recipient(business_id, wa_id), body, origin=agent_holder(agent))
        await self._answered(business_id, wa_id, agent)
        return Sent((outcome,), change)

    async def _reopen(self, business_id: str, wa_id: str, agent: str, text: str, context: GuestContext) -> Sent:
        hotel = context.hotel
        values = {"guest_name": _guest_word(context.language), **context.template_values}
        if hotel is None:
            raise DeskError(409, "unknown_hotel", f"no hotel facts for {business_id}: cannot choose its templates")
        try:
            catalog = await self._catalog.templates_of(hotel.business_account_id)
            choice = choose_message(REOPEN_TEMPLATE, context.language, False, catalog, values)
        except ChoiceError as error:
            raise DeskError(409, "no_reopen_template", error.reason) from error
        except GraphApiError as error:
            raise DeskError(502, "catalog_unavailable", f"the template catalog could not be read: {error}") from error
        change = await self.take_over(business_id, wa_id, agent)
        outcome = await self._sender.send(Recipient(business_id, wa_id), choice.message(), origin=agent_holder(agent))
        if outcome.state != "accepted":
            raise DeskError(
                502,
                "reopen_failed",
                f"the {REOPEN_TEMPLATE} template was not sent: {outcome.error_title or outcome.reason}",
                error_code=outcome.error_code,
            )
        held = await self.held.add(business_id, wa_id, agent_holder(agent), text, self._clock())
        await self._answered(business_id, wa_id, agent)
        return Sent((outcome,), change, held)

    async def _approved(self, context: GuestContext, name: str, language: str) -> Any:
        if context.hotel is None:
            raise DeskError(422, "unknown_hotel", "no hotel facts for this number: its catalog is unknown")
        try:
            catalog = await self._catalog.templates_of(context.hotel.business_account_id)
        except GraphApiError as error:
            raise DeskError(502, "catalog_unavailable", f"the template catalog could not be read: {error}") from error
        template = find_offer(catalog, name, language)
        if template is None:
            raise DeskError(422, "unknown_template", f"no APPROVED template {name!r} in {language!r}")
        return template

    async def _answered(self, business_id: str, wa_id: str, agent: str) -> None:
        await self.handoffs.store.agent_answered(business_id, wa_id, agent_holder(agent), self._clock())

    # --- the inbox's side -----------------------------------------------------------------------------------

    async def screen(self, item: PendingDispatch) -> PendingDispatch | None:
        """Run before the bot gets a guest message: deliver texts held for this guest (the window is open
        again), then give the message to the bot unless an agent holds the thread. While the thread only waits
        in the queue the bot still answers what it knows (waiting is not silence), told by the metadata's
        `handoff: "queue"` that reception already has the thread."""
        # Both reads run at once: this sits on every guest message's way to the bot.
        waiting, handoff = await asyncio.gather(
            self.held.any_waiting(item.business_id, item.wa_id), self.handoffs.state(item.business_id, item.wa_id)
        )
        if waiting:
            await self._deliver_held(item.business_id, item.wa_id)
        if handoff.state == "agent":
            return None
        if handoff.state == "queue":
            return replace(item, meta={**item.meta, "handoff": "queue"})
        return item

    async def _deliver_held(self, business_id: str, wa_id: str) -> None:
        replies = await self.held.claim(business_id, wa_id, f"{self._owner}:{business_id}:{wa_id}")
        recipient = Recipient(business_id, wa_id)
        for reply in replies:
            outcomes = [
                await self._sender.send(recipient, body, origin=reply.origin) for body in text_messages(reply.text)
            ]
            sent = all(o.state == "accepted" for o in outcomes)
            await self.held.finish(reply.id, "sent" if sent else "failed", outcomes[0].wamid, self._clock())


def _guest_word(language: str) -> str:
    """The name a template uses when the gateway knows none."""
    return "cliente" if language == "es" else "guest"
