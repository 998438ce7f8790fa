"""From the webhook to the bot: `intake` stores each verified webhook before the 200 (that is what a 200
means), `processing` reads the stored webhooks after it, records messages and statuses once, and gives each
guest message to the bot in WhatsApp's order, one conversation at a time; `account_news` and `amendments`
read what else a webhook says (marketing preferences, account events, template news, guests' edits and
deletions, which never reach the bot) into the store's records.

Imports the store, the settings, the template catalog's names and `cloudapi`; the bot and what screens its
messages are handed in.
"""

from connectors.whatsapp.webhook.intake import Intake
from connectors.whatsapp.webhook.processing import BotHandler, InboxProcessor

__all__ = ["BotHandler", "InboxProcessor", "Intake"]
