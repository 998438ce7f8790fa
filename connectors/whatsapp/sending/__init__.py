"""Sending a business message: the window guard (free text only inside the 24-hour window, templates
always), the Graph API call and its record in the store, whoever sends (the bot, an agent, the handoff).

Imports the store and `cloudapi`.
"""

from connectors.whatsapp.sending.sender import AGENT_TOOK_OVER, Recipient, Sender, SendOutcome, summary

__all__ = ["AGENT_TOOK_OVER", "Recipient", "SendOutcome", "Sender", "summary"]
