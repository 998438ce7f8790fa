"""The sandbox's pure parts: request validation, limits, webhook building and signing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.addressing import normalise_recipient
from sandbox.catalog import Catalog
from sandbox.errors import GraphError
from sandbox.identities import Identity
from sandbox.limits import PairLimiter, ThroughputLimiter
from sandbox.validation import Outbound, ReadReceipt, validate_request
from sandbox.webhooks import encode, guest_message, sign

CATALOG = Catalog.load()
MIRADOR = CATALOG.numbers["1000000001"]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
KEYS = st.sampled_from(
    ["messaging_product", "to", "recipient", "type", "text", "interactive", "template", "image", "status", "context"]
)


def validate(body: Any) -> Outbound | ReadReceipt:
    return validate_request(body, MIRADOR, CATALOG, lambda media_id: ("image/jpeg", 1000) if media_id == "42" else None)


def test_signature_matches_a_known_answer_vector() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    expected = "sha256=913cea235cb673f466a0582c763b0bb96410f81ab66a376a326c45d9e9f4f041"
    assert sign(body, "sandbox-app-secret") == expected


def test_encoded_webhooks_keep_non_ascii_text_as_utf8() -> None:
    assert encode({"body": "¿Qué tal?"}) == '{"body":"¿Qué tal?"}'.encode()


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6) | JSON)
def test_any_json_is_either_accepted_or_refused_with_a_graph_error(body: Any) -> None:
    try:
        outcome: Any = validate(body)
    except GraphError as error:
        outcome = error
    assert isinstance(outcome, (Outbound, ReadReceipt, GraphError))
    if isinstance(outcome, GraphError):
        assert outcome.body()["error"]["code"] == outcome.code


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000))
def test_text_bodies_are_accepted_exactly_up_to_4096_characters(text: str) -> None:
    body = {"messaging_product": "whatsapp", "to": "34612345678", "type": "text", "text": {"body": text}}
    if 0 < len(text) <= 4096:
        assert validate(body).preview == text
    else:
        with pytest.raises(GraphError):
            validate(body)


@pytest.mark.parametrize(
    ("raw", "wa_id"),
    [("+34 612 34 56 78", "34612345678"), ("34-612-345-678", "34612345678"), ("+44 (7700) 900123", "447700900123")],
)
def test_recipients_are_normalised_as_meta_accepts_them(raw: str, wa_id: str) -> None:
    assert normalise_recipient(raw) == wa_id


@pytest.mark.parametrize("raw", ["", "abc", "+34 612", "1234567890123456"])
def test_impossible_recipients_are_refused(raw: str) -> None:
    with pytest.raises(GraphError):
        normalise_recipient(raw)


def test_templates_render_their_parameters_in_order() -> None:
    body = {
        "messaging_product": "whatsapp",
        "to": "34612345678",
        "type": "template",
        "template": {
            "name": "payment_request",
            "language": {"code": "es"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Lucía"},
                        {
                            "type": "currency",
                            "currency": {"fallback_value": "289,40 €", "code": "EUR", "amount_1000": 289400},
                        },
                        {"type": "text", "text": "https://pay.example.com/MDP-4F7K2Q"},
                    ],
                }
            ],
        },
    }
    outbound = validate(body)
    assert isinstance(outbound, Outbound)
    assert outbound.preview == (
        "Hola Lucía, su reserva tiene un pago pendiente de 289,40 €. Puede completarlo aquí: https://pay.example.com/MDP-4F7K2Q"
    )


def test_throughput_limiter_allows_the_limit_per_second_window() -> None:
    limiter = ThroughputLimiter(limit=3)
    assert [limiter.allow("n", 100.0 + i * 0.1) for i in range(4)] == [True, True, True, False]
    assert limiter.allow("other", 100.35)
    assert limiter.allow("n", 101.05)


def test_pair_limiter_refills_one_message_per_interval() -> None:
    limiter = PairLimiter(burst=2, interval=6.0)
    assert [limiter.allow("n", "g", 0.0) for _ in range(3)] == [True, True, False]
    assert not limiter.allow("n", "g", 5.0)
    assert limiter.allow("n", "g", 6.5)
    assert limiter.allow("n", "other", 6.5)


def test_guest_messages_get_metas_common_fields() -> None:
    lucia = Identity(wa_id="34612345678", name="Lucía")
    message = guest_message({"type": "text", "text": {"body": "Hola"}}, lucia, "wamid.X", 1795000000.7)
    assert message == {
        "from": "34612345678",
        "id": "wamid.X",
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": "Hola"},
    }
    assert json.loads(encode(message)) == message
