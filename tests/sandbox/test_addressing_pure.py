"""Sends to guests with a username, pure: `to` or `recipient`, Meta's answer, 131062, and the ids status webhooks
name (Meta's "Business-scoped user IDs" page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.addressing import Addressee, addressee_of, status_recipient
from sandbox.catalog import Catalog
from sandbox.errors import GraphError
from sandbox.identities import Identity
from sandbox.validation import Outbound, validate_request
from sandbox.webhooks import status_contact, status_item, statuses_webhook
from tests.sandbox.catalogs import with_login_code

CATALOG = Catalog.load()
MIRADOR = CATALOG.numbers["1000000001"]
LUCIA = "34612345678"
BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"
TEXT = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "Hola"}}


@pytest.mark.parametrize(
    ("body", "addressee", "answer"),
    [
        (
            {"to": "+34 612 34 56 78"},
            Addressee("+34 612 34 56 78", wa_id=LUCIA),
            {"input": "+34 612 34 56 78", "wa_id": LUCIA},
        ),
        ({"recipient": BSUID}, Addressee(BSUID, user_id=BSUID), {"input": BSUID, "user_id": BSUID}),
        ({"recipient": PARENT}, Addressee(PARENT, user_id=PARENT), {"input": PARENT, "user_id": PARENT}),
        ({"to": LUCIA, "recipient": BSUID}, Addressee(LUCIA, wa_id=LUCIA), {"input": LUCIA, "wa_id": LUCIA}),
        (
            {"to": BSUID},
            Addressee(BSUID, wa_id="13491208655302741918", lost=True),
            {"input": BSUID, "wa_id": "13491208655302741918"},
        ),
    ],
)
def test_the_recipient_and_the_answer_follow_metas_rules(
    body: dict[str, Any], addressee: Addressee, answer: dict[str, str]
) -> None:
    assert addressee_of(body) == addressee
    assert addressee.answer_contact() == answer


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 100),
        ({"recipient": "US13491208655302741918"}, 131009),
        ({"recipient": LUCIA}, 131009),
        ({"recipient": 7}, 131009),
        ({"to": "US.ABC"}, 131009),
        ({"to": None, "recipient": None}, 100),
    ],
)
def test_impossible_recipients_get_metas_codes(body: dict[str, Any], code: int) -> None:
    with pytest.raises(GraphError) as refused:
        addressee_of(body)
    assert refused.value.code == code


@given(st.dictionaries(st.sampled_from(["to", "recipient"]), st.none() | st.text(max_size=30) | st.integers()))
def test_any_addressing_is_an_addressee_or_a_graph_error(body: dict[str, Any]) -> None:
    try:
        outcome: Addressee | GraphError = addressee_of(body)
    except GraphError as error:
        outcome = error
    assert isinstance(outcome, Addressee) or outcome.code in (100, 131009)


def auth_template(addressing: dict[str, str]) -> dict[str, Any]:
    parameters = [{"type": "text", "text": "482913"}]
    return {
        "messaging_product": "whatsapp",
        **addressing,
        "type": "template",
        "template": {
            "name": "login_code",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": parameters}],
        },
    }


def test_an_authentication_template_to_a_bsuid_only_gets_131062(tmp_path: Path) -> None:
    catalog = Catalog.load(with_login_code(tmp_path))
    with pytest.raises(GraphError) as refused:
        validate_request(auth_template({"recipient": BSUID}), MIRADOR, catalog, lambda _: False)
    assert refused.value.code == 131062
    assert refused.value.body()["error"]["error_data"]["details"] == (
        "Business-scoped User ID (BSUID) recipients are not supported for this message."
    )
    sent = validate_request(auth_template({"to": LUCIA, "recipient": BSUID}), MIRADOR, catalog, lambda _: False)
    assert isinstance(sent, Outbound)
    assert sent.addressee.wa_id == LUCIA


def test_other_messages_go_to_a_bsuid() -> None:
    sent = validate_request({**TEXT, "recipient": BSUID}, MIRADOR, CATALOG, lambda _: False)
    assert isinstance(sent, Outbound)
    assert sent.addressee == Addressee(BSUID, user_id=BSUID)


KNOWN = Identity(wa_id="34600111222", user_id=BSUID, parent_user_id=PARENT, username="@pablo", name="Pablo")


@pytest.mark.parametrize(
    ("addressee", "known", "recipient"),
    [
        (Addressee(LUCIA, wa_id=LUCIA), None, Identity(wa_id=LUCIA)),
        (Addressee(BSUID, user_id=BSUID), None, Identity(user_id=BSUID)),
        (Addressee(PARENT, user_id=PARENT), None, Identity(parent_user_id=PARENT)),
        (Addressee(BSUID, user_id=BSUID), KNOWN, KNOWN),
        (Addressee(PARENT, user_id=PARENT), KNOWN, KNOWN),
        (Addressee("34600111222", wa_id="34600111222"), KNOWN, KNOWN),
    ],
)
def test_statuses_name_the_ids_the_send_used_and_those_the_sandbox_knows(
    addressee: Addressee, known: Identity | None, recipient: Identity
) -> None:
    assert status_recipient(addressee, known) == recipient


def test_status_items_follow_metas_bsuid_rules() -> None:
    bsuid_only = Identity(user_id=BSUID, name="Pablo")
    assert status_item("wamid.A", "sent", 10, bsuid_only, to_phone=False) == {
        "id": "wamid.A",
        "status": "sent",
        "timestamp": "10",
        "recipient_user_id": BSUID,
    }
    both = status_item("wamid.A", "read", 10, KNOWN, to_phone=True)
    assert (both["recipient_id"], both["recipient_user_id"], both["recipient_parent_user_id"]) == (
        "34600111222",
        BSUID,
        PARENT,
    )
    failed_to_phone = status_item("wamid.A", "failed", 10, KNOWN, to_phone=True, errors=[{"code": 131026}])
    assert "recipient_user_id" not in failed_to_phone
    assert "recipient_parent_user_id" not in failed_to_phone
    assert status_item("wamid.A", "failed", 10, KNOWN, to_phone=False)["recipient_user_id"] == BSUID
    assert status_item("wamid.A", "sent", 10, Identity(wa_id=LUCIA)) == {
        "id": "wamid.A",
        "status": "sent",
        "timestamp": "10",
        "recipient_id": LUCIA,
    }


def test_status_contacts_are_for_known_bsuids_with_the_username_from_delivered_on() -> None:
    assert status_contact(Identity(wa_id=LUCIA, name="Lucía"), "delivered") is None
    assert status_contact(KNOWN, "failed") is None
    assert status_contact(KNOWN, "sent") == {
        "profile": {"name": "Pablo"},
        "wa_id": "34600111222",
        "user_id": BSUID,
        "parent_user_id": PARENT,
    }
    assert status_contact(KNOWN, "delivered")["profile"] == {"name": "Pablo", "username": "@pablo"}


def test_a_batch_names_each_guest_once_with_the_username_when_any_status_had_it() -> None:
    sent, read = status_contact(KNOWN, "sent"), status_contact(KNOWN, "read")
    value = statuses_webhook(MIRADOR, [{"id": "a"}, {"id": "b"}], [sent, read, sent])["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [read]
    plain = statuses_webhook(MIRADOR, [{"id": "a"}])["entry"][0]["changes"][0]["value"]
    assert "contacts" not in plain
