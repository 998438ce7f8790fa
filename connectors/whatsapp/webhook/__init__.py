"""From the webhook to the bot: `intake` stores each verified webhook before the 200 (that is what a 200
means), `processing` reads the stored webhooks after it, records messages and statuses once, and gives each
guest message to the bot in WhatsApp's order, one conversation at a time.

Imports the store, the settings and `cloudapi`; the bot and what screens its messages are handed in.
"""

from connectors.whatsapp.webhook.intake import Intake
from connectors.whatsapp.webhook.processing import BotHandler, InboxProcessor

__all__ = ["BotHandler", "InboxProcessor", "Intake"]
