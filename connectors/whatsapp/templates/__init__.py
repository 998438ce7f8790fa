"""The template catalog of each WhatsApp Business Account as the gateway keeps it: synced through the Graph
client, stored with each template's status, updated by status webhooks, and by Meta's quality scores and
category changes (`quality_and_category`, with each template's category at any time, for the costs). Agents
and automations choose from it; what a template is (and the checks of its parameters) is `cloudapi.templates`.

Imports the store and `cloudapi`.
"""

from connectors.whatsapp.templates.catalog import HOLDING_STATUSES, TemplateCatalog, TemplateEvent
from connectors.whatsapp.templates.quality_and_category import (
    CategoryChange,
    TemplateNews,
    TemplateReview,
    category_at,
)

__all__ = [
    "HOLDING_STATUSES",
    "CategoryChange",
    "TemplateCatalog",
    "TemplateEvent",
    "TemplateNews",
    "TemplateReview",
    "category_at",
]
