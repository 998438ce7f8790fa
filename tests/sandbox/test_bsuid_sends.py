"""Sends to guests with a username over real HTTP, as Meta's "Business-scoped user IDs" page has them: `recipient`
in place of `to`, the answer without `wa_id`, status webhooks naming the BSUID, 131062 for an authentication
template, and a BSUID put in `to` accepted and never delivered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.sandbox.catalogs import with_login_code
from tests.support import LUCIA, MIRADOR, Received, SandboxClient, SandboxProcess, WebhookReceiver, statuses_of

PABLO = "US.13491208655302741918"
PABLO_PARENT = "US.ENT.11815799212886844830"
PABLO_PHONE = "16505551234"
TEXT = {"type": "text", "text": {"body": "Tenemos habitación el sábado."}}
REMINDER = {
    "type": "template",
    "template": {
        "name": "reservation_reminder",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": t} for t in ("Pablo", "18/12/2026", "Hotel Mirador del Puerto")
                ],
            }
        ],
    },
}


def value_of(webhook: Received) -> dict[str, Any]:
    return webhook.payload["entry"][0]["changes"][0]["value"]


def statuses_in(webhooks: list[Received], wamid: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each status of `wamid`, with the `contacts[]` of the webhook that carried it."""
    return [
        (status, value_of(w).get("contacts", []))
        for w in webhooks
        for status in value_of(w)["statuses"]
        if status["id"] == wamid
    ]


async def test_a_send_to_a_bsuid_reaches_the_guest_and_its_statuses_name_the_bsuid(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await sandbox.guest_says(PABLO, "Hi", username="@pablo", name="Pablo")
    response = await sandbox.send({"recipient": PABLO, **TEXT})
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": PABLO, "user_id": PABLO}]
    wamid = response.json()["messages"][0]["id"]
    [outbound] = [e for e in await sandbox.thread(PABLO, MIRADOR) if e["direction"] == "outbound"]
    assert (outbound["wamid"], outbound["guest"], outbound["user_id"], outbound["wa_id"]) == (wamid, PABLO, PABLO, None)

    webhooks = await receiver.wait_for(statuses_of(wamid), count=3)
    assert all(w.signature_valid for w in webhooks)
    seen = statuses_in(webhooks, wamid)
    assert [status["status"] for status, _ in seen] == ["sent", "delivered", "read"]
    for status, contacts in seen:
        assert status["recipient_user_id"] == PABLO
        assert "recipient_id" not in status
        assert contacts[0]["user_id"] == PABLO
        assert "wa_id" not in contacts[0]
    assert [contacts[0]["profile"] for _, contacts in seen] == [
        {"name": "Pablo"},
        {"name": "Pablo", "username": "@pablo"},
        {"name": "Pablo", "username": "@pablo"},
    ]


async def test_once_the_phone_number_is_known_statuses_name_it_too(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await sandbox.guest_says(PABLO, "Hi", phone=PABLO_PHONE, parent_user_id=PABLO_PARENT)
    response = await sandbox.send({"recipient": PABLO_PARENT, **TEXT})
    assert response.json()["contacts"] == [{"input": PABLO_PARENT, "user_id": PABLO_PARENT}]
    wamid = response.json()["messages"][0]["id"]
    [(sent, contacts)] = statuses_in(await receiver.wait_for(statuses_of(wamid)), wamid)
    assert (sent["recipient_id"], sent["recipient_user_id"], sent["recipient_parent_user_id"]) == (
        PABLO_PHONE,
        PABLO,
        PABLO_PARENT,
    )
    assert (contacts[0]["wa_id"], contacts[0]["user_id"], contacts[0]["parent_user_id"]) == (
        PABLO_PHONE,
        PABLO,
        PABLO_PARENT,
    )


async def test_to_takes_precedence_over_recipient(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(PABLO, "Hi", phone=PABLO_PHONE)
    response = await sandbox.send({"to": f"+{PABLO_PHONE}", "recipient": PABLO, **TEXT})
    assert response.json()["contacts"] == [{"input": f"+{PABLO_PHONE}", "wa_id": PABLO_PHONE}]
    thread = await sandbox.thread(PABLO)
    assert thread[-1]["wamid"] == response.json()["messages"][0]["id"]


async def test_a_bsuid_in_to_is_accepted_and_never_delivered(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    await sandbox.guest_says(PABLO, "Hi")
    response = await sandbox.send({"to": PABLO, **TEXT})
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": PABLO, "wa_id": "13491208655302741918"}]
    wamid = response.json()["messages"][0]["id"]
    assert [e["direction"] for e in await sandbox.thread(PABLO)] == ["inbound"]
    [lost] = await sandbox.thread("13491208655302741918")
    assert (lost["wamid"], lost["status"]) == (wamid, "accepted")
    await asyncio.sleep(0.3)
    assert [r for r in receiver.received if statuses_of(wamid)(r)] == []


async def test_a_bsuid_no_guest_has_gets_a_failed_status_without_contacts(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    unknown = "US.99999999999999999999"
    free_form = await sandbox.send({"recipient": unknown, **TEXT})
    assert free_form.json()["error"]["code"] == 131047
    response = await sandbox.send({"recipient": unknown, **REMINDER})
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["message_status"] == "accepted"
    wamid = response.json()["messages"][0]["id"]
    [(failed, contacts)] = statuses_in(await receiver.wait_for(statuses_of(wamid)), wamid)
    assert (failed["status"], failed["recipient_user_id"], failed["errors"][0]["code"]) == ("failed", unknown, 131026)
    assert "recipient_id" not in failed
    assert contacts == []


async def test_a_failed_send_to_the_phone_number_names_no_bsuid(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    await sandbox.guest_says(LUCIA, "Hola", user_id="ES.1349120865")
    await sandbox.configure(undeliverable=[LUCIA])
    response = await sandbox.send({"to": LUCIA, **REMINDER})
    wamid = response.json()["messages"][0]["id"]
    [(failed, contacts)] = statuses_in(await receiver.wait_for(statuses_of(wamid)), wamid)
    assert (failed["status"], failed["recipient_id"]) == ("failed", LUCIA)
    assert "recipient_user_id" not in failed
    assert contacts == []


@pytest.mark.parametrize(
    ("body", "code"),
    [({"recipient": "US-1349"}, 131009), ({"recipient": LUCIA}, 131009), ({"to": "US.ABC"}, 131009), ({}, 100)],
)
async def test_impossible_recipients_are_refused(sandbox: SandboxClient, body: dict[str, Any], code: int) -> None:
    response = await sandbox.send({**body, **TEXT})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.fixture(scope="module")
def login_code_sandbox(receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox whose catalog has an authentication template, which the sample catalog does not ship."""
    directory = tmp_path_factory.mktemp("login_code")
    process = SandboxProcess(receiver.url, directory / "sandbox.log", SANDBOX_CATALOG=str(with_login_code(directory)))
    yield process
    process.stop()


@pytest.fixture
async def login_code(login_code_sandbox: SandboxProcess) -> AsyncIterator[SandboxClient]:
    client = SandboxClient(login_code_sandbox.url)
    await client.reset()
    yield client
    await client.http.aclose()


async def test_an_authentication_template_to_a_bsuid_gets_131062(login_code: SandboxClient) -> None:
    code = {
        "type": "template",
        "template": {
            "name": "login_code",
            "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "482913"}]}],
        },
    }
    await login_code.guest_says(PABLO, "Hi", phone=PABLO_PHONE)
    refused = await login_code.send({"recipient": PABLO, **code})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["message"]) == (
        131062,
        "(#131062) Business-scoped User ID (BSUID) recipients are not supported for this message.",
    )
    assert (
        error["error_data"]["details"]
        == "Business-scoped User ID (BSUID) recipients are not supported for this message."
    )
    accepted = await login_code.send({"to": PABLO_PHONE, "recipient": PABLO, **code})
    assert accepted.status_code == 200, accepted.text
