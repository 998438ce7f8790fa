"""What Meta tells a business outside its conversations, as frozen values: the review, quality score and
category of its templates, events of its WhatsApp Business Account, and a guest's own choice to stop or
resume marketing messages.

Each names the business account (`waba_id`) and, where Meta gives it, when the webhook was triggered (`time`,
Unix seconds, from `entry[].time`). How they are read from Meta's JSON is `cloudapi.inbound.account_parsing`
(and `cloudapi.inbound.parsing` for the preferences, which ride with a phone number's contacts).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """A template's review or quality event (`message_template_status_update`), e.g. APPROVED or PAUSED."""

    waba_id: str | None
    time: int | None
    event: str
    template_id: str | None
    name: str | None
    language: str | None
    reason: str | None
    category: str | None


@dataclass(frozen=True)
class TemplateQualityUpdate:
    """A template's quality score changed (`message_template_quality_update`): GREEN, YELLOW, RED or UNKNOWN
    (pending). A RED template is paused by Meta at its next low-quality event, so this is the warning."""

    waba_id: str | None
    time: int | None
    template_id: str | None
    name: str | None
    language: str | None
    previous_score: str | None
    new_score: str


@dataclass(frozen=True)
class TemplateCategoryUpdate:
    """Meta recategorised a template (`template_category_update`), which changes what each send costs.

    Two notices exist. An impending change (`correct_category` set) says the template becomes
    `correct_category` at `update_timestamp`; `new_category` is then still its *current* category. A completed
    change says it went from `previous_category` to `new_category`.
    """

    waba_id: str | None
    time: int | None
    template_id: str | None
    name: str | None
    language: str | None
    new_category: str | None
    previous_category: str | None = None
    correct_category: str | None = None
    update_timestamp: int | None = None

    @property
    def impending(self) -> bool:
        """Whether the change is still to come (Meta announces it 24 hours before)."""
        return self.correct_category is not None


@dataclass(frozen=True)
class VolumeTier:
    """The volume-based pricing tier a business reached for a category (`volume_tier_info`), e.g. utility
    messages in a region, effective for a month."""

    pricing_category: str | None
    tier: str | None
    effective_month: str | None
    region: str | None
    tier_update_time: int | None


@dataclass(frozen=True)
class AccountRestriction:
    """One restriction Meta put on the account (`restriction_info[]`), e.g. no business-initiated messages,
    until `expiration` (Unix seconds)."""

    restriction_type: str
    expiration: int | None


@dataclass(frozen=True)
class AccountUpdate:
    """An event of the WhatsApp Business Account (`account_update`), e.g. DISABLED_UPDATE, ACCOUNT_VIOLATION,
    ACCOUNT_RESTRICTION, VOLUME_BASED_PRICING_TIER_UPDATE, ACCOUNT_DELETED or a partner event.

    What matters to a business that sends messages is typed: the ban state and date, the violation, the
    restrictions, the primary country and the pricing tier. Partner and onboarding events carry more
    (`waba_info`, certification, eligibility), so `raw` keeps the whole value as Meta sent it, to be stored and
    logged.
    """

    waba_id: str | None
    time: int | None
    event: str
    raw: Mapping[str, Any]
    ban_state: str | None = None
    ban_date: str | None = None
    violation_type: str | None = None
    restrictions: tuple[AccountRestriction, ...] = ()
    country: str | None = None
    volume_tier: VolumeTier | None = None


@dataclass(frozen=True)
class UserPreference:
    """A guest's own choice, made in WhatsApp, about a kind of message (`user_preferences`): `category`
    `marketing_messages` with `value` `stop` or `resume` (Meta may add values). A stop means no marketing
    template will reach them (131050) until they resume.

    The guest is `wa_id` and/or their business-scoped `user_id` (and `parent_user_id`), completed from the
    change's contacts when the item leaves them out; never neither. `timestamp` is Unix seconds.
    """

    waba_id: str | None
    phone_number_id: str | None
    wa_id: str | None
    user_id: str | None
    category: str
    value: str
    detail: str | None = None
    timestamp: int | None = None
    parent_user_id: str | None = None

    @property
    def stops_marketing(self) -> bool:
        return self.category == "marketing_messages" and self.value == "stop"

    @property
    def resumes_marketing(self) -> bool:
        return self.category == "marketing_messages" and self.value == "resume"
