"""The template catalog of each WhatsApp Business Account as the gateway keeps it: synced through the Graph
client, stored with each template's status, updated by status webhooks. Agents and automations choose from
it; what a template is (and the checks of its parameters) is `cloudapi.templates`.

Imports the store and `cloudapi`.
"""

from connectors.whatsapp.templates.catalog import HOLDING_STATUSES, TemplateCatalog, TemplateEvent

__all__ = ["HOLDING_STATUSES", "TemplateCatalog", "TemplateEvent"]
