"""API tokens: parsing `GATEWAY_API_TOKENS`, hashing, and matching a bearer header."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.whatsapp.tokens import TokenSpecError, authenticate, parse_tokens

SPEC = (
    "frontdesk-mirador:agent:1000000001:mirador-secret,"
    "frontdesk-all:agent:*:all-secret,"
    f"crm:automation:1000000001+1000000002:sha256:{hashlib.sha256(b'crm-secret').hexdigest()}"
)


def test_entries_parse_into_roles_scopes_and_digests_only() -> None:
    mirador, everyone, crm = parse_tokens(SPEC)
    assert (mirador.name, mirador.role, mirador.hotels) == ("frontdesk-mirador", "agent", frozenset({"1000000001"}))
    assert everyone.hotels is None
    assert everyone.may_act_for("1000000002")
    assert crm.role == "automation"
    assert crm.hotels == frozenset({"1000000001", "1000000002"})
    assert not mirador.may_act_for("1000000002")
    assert "mirador-secret" not in repr(mirador)


def test_a_presented_token_matches_its_entry_whether_configured_plain_or_hashed() -> None:
    tokens = parse_tokens(SPEC)
    assert authenticate("Bearer mirador-secret", tokens).name == "frontdesk-mirador"
    assert authenticate("bearer crm-secret", tokens).name == "crm"
    assert authenticate("Bearer sha256:" + hashlib.sha256(b"crm-secret").hexdigest(), tokens) is None
    assert authenticate("Bearer wrong", tokens) is None
    assert authenticate("Basic mirador-secret", tokens) is None
    assert authenticate(None, tokens) is None
    assert authenticate("Bearer ", tokens) is None


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("frontdesk:agent:*", "name:role:hotels:secret"),
        ("frontdesk:admin:*:x", "role must be agent or automation"),
        ("a:agent:*:x,a:automation:*:y", "used twice"),
        ("a:agent:*:sha256:abc", "64 hex digits"),
    ],
)
def test_a_bad_entry_is_refused_with_what_to_fix(spec: str, complaint: str) -> None:
    with pytest.raises(TokenSpecError, match=complaint):
        parse_tokens(spec)


def test_an_empty_spec_means_no_tokens() -> None:
    assert parse_tokens("") == ()
    assert parse_tokens(" , ") == ()


@given(st.text())
def test_any_header_is_answered_without_raising(header: str) -> None:
    found = authenticate(header, parse_tokens(SPEC))
    assert found is None or header.split()[-1] in ("mirador-secret", "all-secret", "crm-secret")
