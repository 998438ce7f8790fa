"""The automations API's limits on a request: the reader enforces them (`automations.requests`) and the
OpenAPI description states them (`api.openapi.automations`), from this one place.

A text's limit is WhatsApp's own (`cloudapi.outbound.TEXT_MAX`).
"""

from __future__ import annotations

from cloudapi.outbound import TEXT_MAX

__all__ = ["BATCH_MAX", "IDEMPOTENCY_KEY_MAX", "LANGUAGE_MAX", "TEXT_MAX"]

BATCH_MAX = 10_000
"""Messages in one batch."""
LANGUAGE_MAX = 15
"""Characters of a language code (`es`, `pt_BR`, `zh_Hant_HK`...)."""
IDEMPOTENCY_KEY_MAX = 256
"""Characters of an Idempotency-Key header."""
