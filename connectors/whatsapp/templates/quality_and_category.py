"""What Meta says of a template after approval, beside its status: its quality score
(`message_template_quality_update`) and its category (`template_category_update`), as the catalog keeps them.

A category is what a send of the template costs, so its changes are kept with their time: the cost report
prices each send by the category the template had when it was sent (`category_at`), and a change never
reprices the sends before it. Meta announces an automated change 24 hours ahead (an impending notice: the
category the template will have, and when), then sends a second notice when the change is made; the first
is recorded as upcoming and never applied, since a review the business asks for may still cancel it, and the
second applies it (Meta's `template_category_update` reference, updated 11 Nov 2025).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from cloudapi.inbound import TemplateCategoryUpdate, TemplateQualityUpdate, TemplateStatusUpdate
from connectors.whatsapp.store import metadata

TemplateNews = TemplateStatusUpdate | TemplateQualityUpdate | TemplateCategoryUpdate
"""Every template webhook the catalog applies."""

template_category_changes = sa.Table(
    "template_category_changes",
    metadata,
    sa.Column("waba_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("changed_at", sa.BigInteger, primary_key=True),
    sa.Column("previous_category", sa.String(32)),
    sa.Column("new_category", sa.String(32), nullable=False),
)
"""The completed category changes of each template, `changed_at` being Meta's time of the notice; a
redelivered notice is the same row."""


@dataclass(frozen=True)
class CategoryChange:
    """A template's category changed at `changed_at` (Unix seconds) from `previous_category` (None when Meta
    did not say) to `new_category`."""

    previous_category: str | None
    new_category: str
    changed_at: int


def category_at(changes: Sequence[CategoryChange], current: str, moment: float) -> str:
    """The category a template had at `moment`: the one it changed from at the first change after `moment`,
    else (no change since) `current`. A send in the very second of a change has the new category."""
    later = [change for change in changes if change.changed_at > moment]
    if not later:
        return current
    return min(later, key=lambda change: change.changed_at).previous_category or current


@dataclass(frozen=True)
class TemplateReview:
    """A template's quality score (GREEN, YELLOW, RED or UNKNOWN; None before Meta sent one) and the category
    change Meta announced for it, not made yet."""

    quality_score: str | None
    upcoming_category: str | None
    upcoming_at: int | None

    def upcoming(self, now: float) -> dict[str, str | int | None] | None:
        """The announced change while its time is ahead (or Meta gave none); after it, either Meta's second
        notice has applied it or it did not happen (a review kept the category), so it is no longer news."""
        if self.upcoming_category is None or (self.upcoming_at is not None and self.upcoming_at <= now):
            return None
        return {"category": self.upcoming_category, "at": self.upcoming_at}
