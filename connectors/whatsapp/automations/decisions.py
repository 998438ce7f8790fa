"""The automations service: what the API accepts, decided the same way for one message and a batch of
thousands; the guests' consent from their own messages; template news from webhooks.

Deciding a message: the guest's window (at the time it is due), consent, language (explicit, else the
language of the guest's last message, else their number's country), then `choose_message` for a purpose, the
catalog for an explicit template (parameters checked so 132000/132005 never reach the API), for a marketing
template the guest's own choice in WhatsApp (a stop refuses it), the price, the hotel's marketing budget,
and the hotel's quiet hours for scheduled and batch sends. A message is refused with a reason (HTTP 409)
when it can never be sent as asked; otherwise it is queued and accounted for.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from cloudapi.inbound import TemplateStatusUpdate
from cloudapi.outbound import PhoneNumberRequiredError, check_template_recipient
from cloudapi.templates import CatalogTemplate, parameter_problems
from cloudapi.window import EntryPoints, window_state
from connectors.whatsapp.automations.consent import confirmation, is_opt_out
from connectors.whatsapp.automations.outbox import Outbox
from connectors.whatsapp.automations.outbox_records import LANE_MARKETING, LANE_REPLY, LANE_TRANSACTIONAL, NewMessage
from connectors.whatsapp.automations.quiet_hours import next_allowed
from connectors.whatsapp.automations.requests import MessageRequest, Refusal
from connectors.whatsapp.costs import Charge, RateCard, entry_points_of, month_bounds, price
from connectors.whatsapp.sending import Recipient, Sender
from connectors.whatsapp.settings import AutomationSettings
from connectors.whatsapp.store import (
    GatewayStore,
    InboundRecord,
    LastInbound,
    conversations,
    marketing_stopped,
    messages,
)
from connectors.whatsapp.templates import HOLDING_STATUSES, TemplateCatalog, TemplateEvent, TemplateNews
from hotel.facts import Hotel
from hotel.language import detect_language, language_of_number
from hotel.template_choice import ChoiceError, FreeText, TemplateChoice, choose_message

log = logging.getLogger(__name__)
DECISIONS_PER_TURN = 25
"""A batch of thousands is decided in turns of this many, so the sends already due keep their slots."""


@dataclass(frozen=True)
class GuestFacts:
    """What the gateway knows of a guest when deciding a message: `opted_out` of every automation message (an
    opt-out word), `marketing_stopped` in WhatsApp (`store.guest_preferences`: marketing templates only)."""

    last_inbound: LastInbound | None
    opted_out: bool
    language: str
    entry_points: EntryPoints = field(default_factory=EntryPoints)
    marketing_stopped: bool = False


def lane_of(body: Mapping[str, Any], category: str | None) -> int:
    if body.get("type") != "template":
        return LANE_REPLY
    return LANE_MARKETING if category == "MARKETING" else LANE_TRANSACTIONAL


def holdable(template: CatalogTemplate) -> bool:
    return template.approved or template.status in HOLDING_STATUSES


class Automations:
    """Decides and queues automation messages for one gateway process."""

    def __init__(
        self,
        store: GatewayStore,
        outbox: Outbox,
        catalog: TemplateCatalog,
        card: RateCard,
        hotels: Mapping[str, Hotel],
        settings: AutomationSettings,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.catalog = catalog
        self.card = card
        self.hotels = hotels
        self.settings = settings
        self._clock = clock

    # --- deciding --------------------------------------------------------------------------------------

    async def filed(self, requests: Sequence[MessageRequest]) -> list[MessageRequest]:
        """The requests with each guest under their key: a phone number a guest first known by a BSUID gave
        later (or the reverse) names that guest's one thread, window and consent (`store.guest_ids`)."""
        by_business: dict[str, set[str]] = {}
        for request in requests:
            by_business.setdefault(request.business_id, set()).add(request.guest.wa_id)
        keys = {
            (business, identity): key
            for business, identities in by_business.items()
            for identity, key in (await self.store.guest_keys(business, sorted(identities))).items()
        }
        return [
            request
            if keys[(request.business_id, request.guest.wa_id)] == request.guest.wa_id
            else replace(request, guest=replace(request.guest, wa_id=keys[(request.business_id, request.guest.wa_id)]))
            for request in requests
        ]

    async def guest_facts(self, business_id: str, wa_ids: Sequence[str]) -> dict[str, GuestFacts]:
        """Window, consent (a marketing stop even of a guest who never wrote), language and free entry points
        of many guests of one number: one query per 500 guests. The language is the one of the guest's last
        message when it was text (what the assistant answered in), else their number's."""
        unique = sorted(set(wa_ids))
        last_message = sa.and_(
            messages.c.direction == "inbound",
            messages.c.wamid == conversations.c.last_inbound_wamid,
            messages.c.type == "text",
        )
        facts: dict[str, GuestFacts] = {}
        async with self.store.connect() as connection:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                query = (
                    sa.select(
                        conversations.c.wa_id,
                        conversations.c.last_inbound_at,
                        conversations.c.last_inbound_wamid,
                        conversations.c.phone,
                        messages.c.text,
                    )
                    .select_from(conversations.outerjoin(messages, last_message))
                    .where(conversations.c.business_id == business_id, conversations.c.wa_id.in_(chunk))
                )
                for row in await connection.execute(query):
                    last = (
                        LastInbound(row.last_inbound_at, row.last_inbound_wamid, row.phone)
                        if row.last_inbound_at
                        else None
                    )
                    language = detect_language(row.text, None, row.wa_id) if row.text else language_of_number(row.wa_id)
                    facts[row.wa_id] = GuestFacts(last, False, language)
            opted_out = await self.outbox.opted_out(business_id, unique, connection) if facts else set()
            now = self._clock()
            referred = await entry_points_of(connection, business_id, unique, now, now) if facts else {}
            stopped = await marketing_stopped(connection, business_id, unique)
        return {
            wa_id: replace(
                facts[wa_id],
                opted_out=wa_id in opted_out,
                entry_points=referred.get(wa_id, EntryPoints()),
                marketing_stopped=wa_id in stopped,
            )
            if wa_id in facts
            else GuestFacts(None, False, language_of_number(wa_id), marketing_stopped=wa_id in stopped)
            for wa_id in unique
        }

    async def service_used(self, business_id: str, moment: float) -> int:
        """Service (non-template) messages this number sent in `moment`'s month: the free tier's count."""
        since, until = month_bounds(moment)
        query = sa.select(sa.func.count()).where(
            messages.c.direction == "outbound",
            messages.c.business_id == business_id,
            messages.c.type != "template",
            messages.c.state == "accepted",
            messages.c.created_at >= since,
            messages.c.created_at < until,
        )
        async with self.store.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def decide(
        self,
        request: MessageRequest,
        origin: str,
        facts: GuestFacts,
        scheduled_by_batch: bool = False,
        service_used: int | None = None,
    ) -> NewMessage | Refusal:
        """The queued form of an accepted request, or why it is refused."""
        hotel = self.hotels[request.business_id]
        now = self._clock()
        due = max(now, request.send_at) if request.send_at is not None else now
        wa_id = request.guest.wa_id
        if facts.opted_out:
            return Refusal(
                409,
                "opted_out",
                "the guest opted out of automation messages (wrote an opt-out word); "
                "they receive them again once they write to the hotel",
            )
        last = facts.last_inbound.at if facts.last_inbound else None
        window_open = window_state(last, due).open
        language = request.language or facts.language
        templates = await self.catalog.templates_of(hotel.business_account_id)
        chosen = self._content(request, language, window_open, templates)
        if isinstance(chosen, Refusal):
            return chosen
        body, template, purpose_language = chosen
        category = template.category if template else None
        if category == "MARKETING" and facts.marketing_stopped:
            return Refusal(
                409,
                "opted_out",
                "the guest stopped marketing messages from this number in WhatsApp; "
                "they receive them again once they resume them there (utility templates still go)",
            )
        try:
            check_template_recipient(category or "", (facts.last_inbound and facts.last_inbound.phone) or wa_id)
        except PhoneNumberRequiredError as error:
            return Refusal(422, "phone_number_required", str(error))
        kind = category.lower() if category else "service"
        if service_used is None and kind == "service":
            service_used = await self.service_used(request.business_id, due)
        in_entry_point = facts.entry_points.open_at(due)
        charge = price(self.card, kind, request.guest.region, window_open, due, service_used or 0, in_entry_point)
        if category == "MARKETING":
            refusal = await self._over_budget(request.business_id, charge, due)
            if refusal is not None:
                return refusal
        if (request.send_at is not None or scheduled_by_batch) and not request.urgent:
            due = next_allowed(due, hotel.timezone, hotel.quiet_start, hotel.quiet_end)
        held = template is not None and not template.approved
        return NewMessage(
            business_id=request.business_id,
            wa_id=wa_id,
            region=request.guest.region,
            origin=origin,
            body=body,
            lane=lane_of(body, category),
            urgent=request.urgent,
            due_at=due,
            state="held" if held else "queued",
            purpose=request.purpose,
            purpose_values=dict(request.purpose_values) if request.purpose_values else None,
            language=purpose_language,
            template_name=template.name if template else None,
            template_language=template.language if template else None,
            category=category,
            in_window=window_open,
            charge=charge,
        )

    def _content(
        self, request: MessageRequest, language: str, window_open: bool, templates: Sequence[CatalogTemplate]
    ) -> tuple[dict[str, Any], CatalogTemplate | None, str] | Refusal:
        if request.text is not None:
            if not window_open:
                return Refusal(
                    409,
                    "window_closed",
                    "free text needs the customer service window open (the guest wrote in the last 24 hours) when "
                    "it is due; send a template or a purpose instead",
                )
            return {"type": "text", "text": {"body": request.text, "preview_url": True}}, None, language
        if request.template is not None:
            wanted = request.template
            template = next((t for t in templates if t.name == wanted.name and t.language == wanted.language), None)
            if template is None or not holdable(template):
                state = f"is {template.status}" if template else "does not exist"
                return Refusal(
                    422,
                    "unknown_template",
                    f"template {wanted.name} in {wanted.language} {state}; "
                    "only APPROVED templates are sent (GET /api/v1/templates lists them)",
                )
            problems = parameter_problems(template, wanted.parameters)
            if problems:
                return Refusal(422, "template_parameters", "; ".join(problems))
            choice = TemplateChoice(template.name, template.language, template.category, wanted.parameters)
            return choice.message(), template, template.language
        assert request.purpose is not None
        assert request.purpose_values is not None
        try:
            picked = choose_message(
                request.purpose,
                language,
                window_open,
                [replace(t, status="APPROVED") if holdable(t) else t for t in templates],
                request.purpose_values,
            )
        except ChoiceError as error:
            return Refusal(409, "no_template", error.reason)
        if isinstance(picked, FreeText):
            return picked.message(), None, language
        template = next(t for t in templates if t.name == picked.name and t.language == picked.language)
        problems = parameter_problems(template, picked.parameters)
        if problems:
            return Refusal(422, "template_parameters", "; ".join(problems))
        return picked.message(), template, template.language

    async def _over_budget(
        self, business_id: str, charge: Charge, moment: float, extra: Decimal = Decimal(0)
    ) -> Refusal | None:
        budget = self.settings.marketing_budgets.get(business_id)
        if budget is None or charge.amount is None:
            return None
        since, until = month_bounds(moment)
        spent = await self.outbox.marketing_spent(business_id, since, until) + extra
        if spent + charge.amount > budget:
            return Refusal(
                409,
                "budget_exceeded",
                f"this marketing message ({charge.amount} {charge.currency}) would take the month's marketing spend "
                f"to {spent + charge.amount} {charge.currency}, over the hotel's budget of {budget}",
            )
        return None

    async def decide_batch(self, business_id: str, requests: Sequence[MessageRequest], origin: str) -> list[NewMessage]:
        """Every message of a batch, refused ones included (state `refused` with the reason), so the batch
        accounts for each."""
        requests = await self.filed(requests)
        facts = await self.guest_facts(business_id, [r.guest.wa_id for r in requests])
        service = await self.service_used(business_id, self._clock())
        decided: list[NewMessage] = []
        marketing = Decimal(0)
        for position, request in enumerate(requests):
            if position % DECISIONS_PER_TURN == 0:
                await asyncio.sleep(0)
            outcome = await self.decide(request, origin, facts[request.guest.wa_id], True, service)
            if isinstance(outcome, NewMessage) and outcome.category == "MARKETING" and outcome.charge:
                refusal = await self._over_budget(business_id, outcome.charge, outcome.due_at, marketing)
                if refusal is None:
                    marketing += outcome.charge.amount or Decimal(0)
                else:
                    outcome = refusal
            if isinstance(outcome, Refusal):
                decided.append(self._refused(request, origin, outcome))
            else:
                if outcome.body.get("type") != "template":
                    service += 1
                decided.append(outcome)
        return decided

    def _refused(self, request: MessageRequest, origin: str, refusal: Refusal) -> NewMessage:
        return NewMessage(
            business_id=request.business_id,
            wa_id=request.guest.wa_id,
            region=request.guest.region,
            origin=origin,
            body={},
            lane=LANE_TRANSACTIONAL,
            urgent=request.urgent,
            due_at=self._clock(),
            state="refused",
            purpose=request.purpose,
            error_title=f"{refusal.code}: {refusal.message}",
        )

    async def queue_batch(
        self, business_id: str, requests: Sequence[MessageRequest], origin: str
    ) -> tuple[str, list[NewMessage]]:
        decided = await self.decide_batch(business_id, requests, origin)
        batch_id = uuid.uuid4().hex
        await self.outbox.add_batch(batch_id, business_id, origin, decided, self._clock())
        return batch_id, decided

    # --- what guests and Meta tell the gateway ---------------------------------------------------------

    async def guest_messages(self, records: Sequence[InboundRecord], sender: Sender | None) -> list[InboundRecord]:
        """Record opt-outs (and answer them), opt guests back in when they write again; returns the messages
        still for the bot (an opt-out word is the gateway's to answer)."""
        for_bot: list[InboundRecord] = []
        by_business: dict[str, list[InboundRecord]] = {}
        for record in records:
            by_business.setdefault(record.business_id, []).append(record)
        for business_id, items in by_business.items():
            opted_out = await self.outbox.opted_out(business_id, [r.wa_id for r in items])
            for record in items:
                if record.type == "text" and is_opt_out(record.text):
                    await self.outbox.set_consent(business_id, record.wa_id, True, record.wa_timestamp)
                    log.info("guest opted out of automations on %s (message %s)", business_id, record.wamid)
                    await self._confirm(record, sender)
                    await self.store.finish_dispatch(record.wamid)
                    continue
                if record.wa_id in opted_out:
                    await self.outbox.set_consent(business_id, record.wa_id, False, record.wa_timestamp)
                    opted_out.discard(record.wa_id)
                    log.info("guest wrote again to %s: opted back in to automations", business_id)
                for_bot.append(record)
        return for_bot

    async def _confirm(self, record: InboundRecord, sender: Sender | None) -> None:
        if sender is None:
            return
        language = detect_language(record.text, None, record.wa_id)
        body = {"type": "text", "text": {"body": confirmation(language)}}
        last = LastInbound(record.wa_timestamp, record.wamid)
        await sender.send(Recipient(record.business_id, record.wa_id), body, origin="gateway", last_inbound=last)

    async def template_updates(self, updates: Sequence[TemplateNews]) -> None:
        """Apply template webhooks: a status (an approved template releases the messages held for it), a
        quality score or a category notice (`TemplateCatalog.apply_review`)."""
        for update in updates:
            if not isinstance(update, TemplateStatusUpdate):
                await self.catalog.apply_review(update)
                continue
            if not (update.waba_id and update.name and update.language):
                continue
            status = update.event.upper()
            await self.catalog.apply(
                TemplateEvent(update.waba_id, update.name, update.language, status, update.category)
            )
            log.info("template %s (%s) is now %s", update.name, update.language, status)
            if status == "APPROVED":
                numbers = [h.phone_number_id for h in self.hotels.values() if h.business_account_id == update.waba_id]
                released = await self.outbox.release_held(update.name, update.language, numbers, self._clock())
                if released:
                    log.info("released %d messages held for template %s (%s)", released, update.name, update.language)
