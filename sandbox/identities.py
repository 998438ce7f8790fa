"""Who a guest is: a phone number, a business-scoped user id (BSUID), or both.

From 2026 a WhatsApp user with a username may reach a business with only a BSUID: an ISO 3166 country code,
a period and up to 128 letters and digits (`US.13491208655302741918`), scoped to one business portfolio; a
managed business's portfolios may share a parent id with `ENT.` after the country (`US.ENT.11815799212886844830`).
Meta keeps a contact book that ties the phone number and the BSUID of a user once both were seen; the sandbox
plays it with `Identities`, so a guest known by either id is one guest: one thread, one window, one pair limit.
Pure bookkeeping, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

PHONE = re.compile(r"^\d{6,15}$")
"""A guest's phone number as webhooks carry it: digits, country code first."""
BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,128}$")
PARENT_BSUID = re.compile(r"^[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}$")
_IDS = ("wa_id", "user_id", "parent_user_id")


def is_bsuid(value: object) -> bool:
    """A portfolio's BSUID (not a parent one)."""
    return isinstance(value, str) and BSUID.match(value) is not None


def is_parent_bsuid(value: object) -> bool:
    return isinstance(value, str) and PARENT_BSUID.match(value) is not None


@dataclass(frozen=True)
class Identity:
    """The ids a guest is known by and the names WhatsApp shows for them; any id may be missing, never all."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    name: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id this guest can be looked up by, the phone number first."""
        return tuple(value for value in (self.wa_id, self.user_id, self.parent_user_id) if value)


class IdentityConflictError(ValueError):
    """Two ids that belong to different guests were named as one guest; the message says which."""


def merged(known: Identity, given: Identity) -> Identity:
    """`known` completed with `given`: an id is set once and never changes (a user who changes number gets a
    new BSUID from Meta, so a new guest), while the username and profile name follow the latest message."""
    for name in _IDS:
        old, new = getattr(known, name), getattr(given, name)
        if old and new and old != new:
            raise IdentityConflictError(
                f"the guest known by {', '.join(known.ids)} already has {name} {old}, not {new}"
            )
    return Identity(**{f.name: getattr(given, f.name) or getattr(known, f.name) for f in fields(Identity)})


class Identities:
    """Meta's contact book as the sandbox keeps it: every id a guest wrote with leads to that guest's key.

    The key is the id the guest was first seen with (the phone number when a message carries both), so a
    thread keeps its key when the guest later shows the other id.
    """

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}
        self._known: dict[str, Identity] = {}

    def key_of(self, any_id: str | None) -> str | None:
        """The key of the guest with this id (phone number, BSUID or parent BSUID), None if unknown."""
        return self._keys.get(any_id) if any_id else None

    def known(self, key: str) -> Identity | None:
        return self._known.get(key)

    def record(self, identity: Identity) -> str:
        """Remember a guest who wrote with `identity`; returns the guest's key. Raises `IdentityConflictError`
        (and remembers nothing) when its ids belong to different guests, or one of them to a guest who
        already has another id of that kind."""
        if not identity.ids:
            raise ValueError("a guest has a phone number, a user id or both")
        keys = {self._keys[i] for i in identity.ids if i in self._keys}
        if len(keys) > 1:
            raise IdentityConflictError(
                f"{' and '.join(identity.ids)} belong to different guests ({', '.join(sorted(keys))})"
            )
        key = keys.pop() if keys else identity.ids[0]
        known = merged(self._known.get(key, Identity()), identity)
        self._known[key] = known
        self._keys.update(dict.fromkeys(known.ids, key))
        return key

    def clear(self) -> None:
        self._keys.clear()
        self._known.clear()
