"""API bearer tokens: who may call the gateway's API, in which role, for which hotels.

Configured by `GATEWAY_API_TOKENS`, a comma-separated list of `name:role:hotels:secret` entries:
- `role` is `agent` (front desk: the agents' API and console) or `automation` (outbound sends);
- `hotels` is `*` for every business number, or phone number ids joined by `+` (`1000000001+1000000002`);
- `secret` is the token itself, or better `sha256:<hex digest of the token>` so the plain token is never
  written in a config file.
Only SHA-256 digests are kept in memory, and a presented token is compared against every digest in constant
time. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Final, Literal

Role = Literal["agent", "automation"]
ROLES: Final[tuple[Role, ...]] = ("agent", "automation")
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class TokenSpecError(ValueError):
    """`GATEWAY_API_TOKENS` cannot be read; the message names the entry and what to fix."""


@dataclass(frozen=True)
class ApiToken:
    name: str
    role: Role
    hotels: frozenset[str] | None
    """The business phone number ids this token may act for; None for all of them."""
    digest: bytes = field(repr=False)

    def may_act_for(self, business_id: str) -> bool:
        return self.hotels is None or business_id in self.hotels


def digest_of(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def parse_tokens(spec: str) -> tuple[ApiToken, ...]:
    """The tokens of a `GATEWAY_API_TOKENS` value; raises `TokenSpecError` on the first bad entry."""
    tokens: list[ApiToken] = []
    for position, entry in enumerate(item.strip() for item in spec.split(",")):
        if not entry:
            continue
        parts = entry.split(":", 3)
        if len(parts) != 4 or not all(parts):
            raise TokenSpecError(f"GATEWAY_API_TOKENS entry {position + 1} must read name:role:hotels:secret")
        name, role, hotels, secret = parts
        if role not in ROLES:
            raise TokenSpecError(f"GATEWAY_API_TOKENS entry {name!r}: role must be agent or automation, not {role!r}")
        if any(token.name == name for token in tokens):
            raise TokenSpecError(f"GATEWAY_API_TOKENS: the name {name!r} is used twice")
        tokens.append(ApiToken(name, role, _hotels(hotels), _secret_digest(name, secret)))  # type: ignore[arg-type]
    return tuple(tokens)


def authenticate(authorization: str | None, tokens: tuple[ApiToken, ...]) -> ApiToken | None:
    """The token an `Authorization: Bearer ...` header presents, or None. Every digest is compared, so the
    time taken does not tell which entry (if any) nearly matched."""
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    digest = digest_of(presented.strip())
    found = None
    for token in tokens:
        if hmac.compare_digest(digest, token.digest):
            found = token
    return found


def _hotels(value: str) -> frozenset[str] | None:
    return None if value == "*" else frozenset(part for part in value.split("+") if part)


def _secret_digest(name: str, secret: str) -> bytes:
    if secret.startswith("sha256:"):
        hex_digest = secret[len("sha256:") :].lower()
        if not _HEX_DIGEST.match(hex_digest):
            raise TokenSpecError(f"GATEWAY_API_TOKENS entry {name!r}: sha256: must be followed by 64 hex digits")
        return bytes.fromhex(hex_digest)
    return digest_of(secret)
