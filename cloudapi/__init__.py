"""What WhatsApp's Cloud API is, apart from any bot or hotel: the webhooks it sends (`inbound`, parsed
whole, unknown values kept as unknown), the messages it takes (`outbound`), the files it takes as each
message kind (`media_kinds`), the customer service window and free entry points (`window`), signatures
(`signatures`), its errors as a typed tree (`errors`), the Graph API client (`graph`), message templates
(`templates`), guests' phone numbers (`phones`) and the ids a guest has towards a
business, phone number or business-scoped user id (`user_ids`).

Everything but `graph` is pure. It imports nothing of the project, so the gateway, the action server and
the hotel domain may all use it; each module lists its public names in its own `__all__`.
"""

__all__ = [
    "errors",
    "graph",
    "inbound",
    "media_kinds",
    "outbound",
    "phones",
    "signatures",
    "templates",
    "user_ids",
    "window",
]
