"""The golden Meta-shaped deliveries (tests/fixtures/webhooks) and the ids they share: both the tests of single
messages (test_inbound_messages) and of whole deliveries (test_inbound_deliveries) read them, so they are
defined once."""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
PNID = "106540352242922"
WABA = "102290129340398"
GUEST = "34612345678"
GUEST_BSUID = "ES.13491208655302741918"
GUEST_PARENT_BSUID = "ES.ENT.11815799212886844830"
USERNAME_GUEST_BSUID = "ES.77120943318820556104"
USERNAME_GUEST_PARENT_BSUID = "ES.ENT.45508812937706621390"
ALL_FIXTURES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def wamid(tag: str) -> str:
    """The message ids of the fixtures: a real wamid's shape with `tag` inside."""
    return f"wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBQz{tag}QUFCQ0RFRjAxMjM0NTY3ODkwAA=="


def load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
