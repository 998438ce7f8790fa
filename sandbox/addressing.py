"""Who a send is for: `to` (a phone number) or, from 2026, `recipient` (a BSUID or parent BSUID).

Meta's rules (the "Business-scoped user IDs" page, May 2026): `to` wins when both are given, and the answer
is then a phone send's; a send to a BSUID answers `contacts[]` with `input` and `user_id` and no `wa_id`; the
status webhooks of every send name the guest's BSUID (`recipient_user_id`) and name the phone number
(`recipient_id`) when the send went to it or the phone number is known (the contact book). A BSUID put in `to`
is not refused: partners saw a 200 and a message that never arrived, Meta having read the digits after the
country code as a phone number (Chatwoot PR #15150), so the sandbox accepts it the same way and delivers
nothing, which a gateway test sees as a message its guest never got.

Pure: a request body in, an `Addressee` out, or a `GraphError` with the code Meta gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.errors import GraphError, invalid
from sandbox.identities import Identity, is_bsuid, is_parent_bsuid

_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class Addressee:
    """The recipient a send names, as the answer's `contacts[]` echoes it.

    `wa_id` is the phone number a send to `to` goes to; `user_id` the BSUID (or parent BSUID) of a send to
    `recipient`; `lost` marks a BSUID in `to`, which Meta accepts and never delivers.
    """

    input: str
    wa_id: str | None = None
    user_id: str | None = None
    lost: bool = False

    @property
    def to_phone(self) -> bool:
        return self.wa_id is not None

    @property
    def guest_id(self) -> str:
        """The id the send finds its guest by: the phone number, else the BSUID."""
        return self.wa_id or self.user_id or self.input

    def answer_contact(self) -> dict[str, str]:
        """The send answer's `contacts[]` entry: `wa_id` only for a phone send, `user_id` only for a BSUID one."""
        contact = {"input": self.input}
        if self.wa_id is not None:
            contact["wa_id"] = self.wa_id
        if self.user_id is not None:
            contact["user_id"] = self.user_id
        return contact


def addressee_of(body: dict[str, Any]) -> Addressee:
    """The recipient of a send body: `to` when present (Meta's precedence), else `recipient`."""
    to, recipient = body.get("to"), body.get("recipient")
    if to is None and recipient is not None:
        if not (is_bsuid(recipient) or is_parent_bsuid(recipient)):
            raise GraphError(131009, f"Param recipient ({recipient!r}) is not a valid business-scoped user ID.")
        return Addressee(input=recipient, user_id=recipient)
    if is_bsuid(to) or is_parent_bsuid(to):
        digits = to.rsplit(".", 1)[1]
        if digits.isdigit():
            return Addressee(input=to, wa_id=digits, lost=True)
    return Addressee(input=to, wa_id=normalise_recipient(to))


def normalise_recipient(to: Any) -> str:
    """The wa_id of `to`: digits only, as Meta accepts `+`, spaces, dashes and brackets."""
    if not isinstance(to, str) or not to.strip():
        raise invalid("The parameter to (a phone number) or recipient (a business-scoped user ID) is required.")
    digits = _PHONE_PUNCTUATION.sub("", to).removeprefix("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise GraphError(131009, f"Param to ({to!r}) is not a valid phone number.")
    return digits


def status_recipient(addressee: Addressee, known: Identity | None) -> Identity:
    """Whom the status webhooks of a send name: the ids the send used, completed with what the sandbox knows
    of the guest; a parent BSUID the send used is named as the parent, the guest's own BSUID as the user."""
    known = known or Identity()
    used = addressee.user_id
    return Identity(
        wa_id=addressee.wa_id or known.wa_id,
        user_id=known.user_id or (used if is_bsuid(used) else None),
        parent_user_id=known.parent_user_id or (used if is_parent_bsuid(used) else None),
        username=known.username,
        name=known.name,
    )
