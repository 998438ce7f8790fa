"""The WhatsApp Cloud API channel for Rasa, and the gateway it serves from every Rasa replica.

From the bottom up (a package imports only those below it; `tests/unit/test_layout.py` checks it):
- `settings`, `tokens`: the typed settings, read once at start-up, and the API tokens;
- `store`: the gateway store (SQLite or PostgreSQL), its tables and typed records;
- `templates`: the synced template catalog; `sending`: the sender with the window guard;
- `bot_input`, `webhook`: what the bot is given of a message; from the raw webhook to the bot (intake
  before the 200, processing after);
- `handoff`: who holds a thread (bot, queue, agent), one code path for every change;
- `costs`: the rate card, pricing rules, free entry points and the monthly report;
- `api`: what every API route shares (tokens, errors, `me`, the OpenAPI description);
- `media`: guests' media downloaded and kept (a folder or an S3 bucket), agents' attachments, their route;
- `automations`: the automations API, its queue, workers and shared rate limits;
- `agents`: the agents' desk, their API, the event stream and the console;
- `routes`, `gateway`: every route, and the parts of one process built together;
- `channel`, `tracker_control`: the thin Rasa glue.
WhatsApp itself is `cloudapi`, the hotel domain `hotel`; neither imports anything here, and nothing here
imports the action server (`actions`).
"""

__all__ = [
    "agents",
    "api",
    "automations",
    "bot_input",
    "channel",
    "costs",
    "gateway",
    "handoff",
    "media",
    "routes",
    "sending",
    "settings",
    "store",
    "templates",
    "tokens",
    "tracker_control",
    "webhook",
]
