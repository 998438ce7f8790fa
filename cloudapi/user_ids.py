"""The ids a WhatsApp user has towards a business: a phone number (`wa_id`, digits with the country code) and,
from 2026, a business-scoped user id (BSUID). Pure.

A BSUID is the user's ISO 3166 alpha-2 country code, a dot and up to 128 letters or digits
(`US.13491208655302741918`), scoped to one business portfolio; a parent BSUID, shared by linked portfolios,
has `ENT.` after the country (`US.ENT.11815799212886844830`). Meta shares one with every message since April
2026, while a guest who adopted a username may come without a phone number. A number never holds a letter or
a dot, so the two can be told apart by their form: that decides whether a send is addressed `to` (a number)
or `recipient` (a BSUID, `cloudapi.outbound.addressed`).
"""

import re

__all__ = ["conversation_key", "is_bsuid"]

_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def is_bsuid(value: str) -> bool:
    """Whether `value` is written as a BSUID or a parent BSUID, whole: Meta refuses one whose country code,
    dot or characters were changed, so nothing is trimmed or recased here."""
    return _BSUID.fullmatch(value) is not None


def conversation_key(wa_id: str | None, user_id: str | None) -> str | None:
    """The id a guest's conversation is kept under: the phone number when it is known, else the BSUID; None
    when neither is.

    The number first because the gateway's conversations, windows and consents were all keyed by it before
    BSUIDs existed, and Meta keeps sending it while the business writes to the guest at least every 30 days.
    The key of one guest can still change: a guest known only by a BSUID may later come with their number,
    and a username guest's number stops coming after 30 days of silence. Whoever stores conversations must
    therefore remember each (number, BSUID) pair Meta sends together and find the guest by either."""
    return wa_id or user_id
