"""The hotel assistant's action server (`rasa run actions --actions actions`).

rasa-sdk imports every module of this package and registers each `Action` subclass it finds: the answers and
the hand-off (`actions`), the hotel's other facts (`topics`), the stays to change or cancel (`change_requests`);
what the actions read of the channel's metadata (`guest`), the approved templates (`catalog`) and the
settings (`settings`) live in modules with no rasa-sdk import. The hotel's facts, reservations and answers
come from `hotel`, WhatsApp's rules from `cloudapi`: nothing of the gateway (`connectors`) is imported here.
"""

__all__ = ["actions", "catalog", "change_requests", "guest", "settings", "topics"]
