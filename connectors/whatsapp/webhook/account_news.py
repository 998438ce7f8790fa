"""What a webhook says beside guest messages and statuses, read into what the store and the catalog record, and
logged at its gravity: guests' marketing preferences, events of the business account, template news (status,
quality score, category), and the guests' edits and deletions (`amendments`).

`BatchNews` gathers them over the webhooks of one claim for the store's batch transaction. Pure but for the
log lines: a ban, a violation or a restriction of the account is an error (the hotel's messages are at
stake); the rest is information, a RED quality score a warning (Meta pauses the template next).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Final

from cloudapi.inbound import AccountUpdate, UserPreference, WebhookBatch
from cloudapi.user_ids import conversation_key
from connectors.whatsapp.store import AccountEvent, Amendment, MarketingPreference
from connectors.whatsapp.templates import TemplateNews
from connectors.whatsapp.webhook.amendments import without_amendments

log = logging.getLogger(__name__)

GRAVE_ACCOUNT_EVENTS: Final = frozenset(
    {"DISABLED_UPDATE", "ACCOUNT_VIOLATION", "ACCOUNT_RESTRICTION", "ACCOUNT_DELETED"}
)
"""Meta's account events that stop or threaten the hotel's messaging: a ban (or its schedule), a policy
violation, a restriction (e.g. no business-initiated messages until a date), the account deleted."""
REINSTATED: Final = "REINSTATE"
"""The ban state of a `DISABLED_UPDATE` that lifts a ban: good news, not an error."""


def preference_guest_key(preference: UserPreference) -> str | None:
    """The guest a marketing preference names before the store files it: their phone number, else their
    business-scoped user id (`cloudapi.user_ids.conversation_key`); the store then keeps it under the key the
    guest is filed by (`store.guest_ids`)."""
    return conversation_key(preference.wa_id, preference.user_id)


def marketing_preferences(preferences: Sequence[UserPreference]) -> list[MarketingPreference]:
    """The stops and resumes of marketing messages, each for its business number and guest; a preference
    of another kind (Meta may add some) is logged and left in the inbox."""
    records = []
    for preference in preferences:
        guest = preference_guest_key(preference)
        if not (preference.stops_marketing or preference.resumes_marketing) or not preference.phone_number_id:
            log.info("user preference %s=%s not used", preference.category, preference.value)
            continue
        assert guest is not None  # the parser gives a preference a wa_id or a user_id, never neither
        records.append(
            MarketingPreference(
                business_id=preference.phone_number_id,
                wa_id=guest,
                stopped=preference.stops_marketing,
                changed_at=preference.timestamp,
                user_id=preference.user_id,
                detail=preference.detail,
            )
        )
        log.info("a guest of %s %s marketing messages", preference.phone_number_id, preference.value)
    return records


def account_event_level(update: AccountUpdate) -> int:
    """How loud an account event is logged."""
    if update.event == "DISABLED_UPDATE" and update.ban_state == REINSTATED:
        return logging.WARNING
    return logging.ERROR if update.event in GRAVE_ACCOUNT_EVENTS else logging.INFO


def account_events(updates: Sequence[AccountUpdate]) -> list[AccountEvent]:
    """Each account event as the store keeps it, logged at its gravity with what Meta said of it."""
    events = []
    for update in updates:
        body = json.dumps(update.raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        log.log(account_event_level(update), "WhatsApp Business Account %s: %s %s", update.waba_id, update.event, body)
        events.append(AccountEvent(update.waba_id, update.event, update.time, body))
    return events


def template_news(batch: WebhookBatch) -> list[TemplateNews]:
    """The batch's template webhooks for the catalog, the quality and category ones logged here (status
    updates are logged with the rest of the batch)."""
    for quality in batch.template_quality_updates:
        level = logging.WARNING if quality.new_score.upper() == "RED" else logging.INFO
        log.log(level, "template %s (%s) quality is now %s", quality.name, quality.language, quality.new_score)
    for change in batch.template_category_updates:
        if change.impending:
            log.info(
                "template %s (%s) becomes %s at %s (announced, not yet applied)",
                change.name,
                change.language,
                change.correct_category,
                change.update_timestamp,
            )
        else:
            log.info("template %s (%s) is now %s", change.name, change.language, change.new_category)
    return [*batch.template_updates, *batch.template_quality_updates, *batch.template_category_updates]


class BatchNews:
    """What the webhooks of one claim carry beside guest messages and statuses, gathered for the store."""

    def __init__(self) -> None:
        self.amendments: list[Amendment] = []
        self.preferences: list[MarketingPreference] = []
        self.account_events: list[AccountEvent] = []

    def take(self, batch: WebhookBatch) -> WebhookBatch:
        """Gather `batch`'s news, and give it back without its edits and revokes, which are never turns."""
        if batch.preferences:
            self.preferences.extend(marketing_preferences(batch.preferences))
        if batch.account_updates:
            self.account_events.extend(account_events(batch.account_updates))
        batch, amendments = without_amendments(batch)
        self.amendments.extend(amendments)
        return batch
