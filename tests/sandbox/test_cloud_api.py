"""The sandbox's Cloud API over real HTTP: every send type accepted, every refusal in Meta's shape."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support import ALAMEDA, LUCIA, MIRADOR, OLIVER, WABA, SandboxClient, WebhookReceiver, status_in, statuses_of

WINDOW = 24 * 60 * 60

BUTTONS = {
    "type": "button",
    "body": {"text": "¿Necesita parking?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "parking_yes", "title": "Sí"}},
            {"type": "reply", "reply": {"id": "parking_no", "title": "No"}},
        ]
    },
}
LIST = {
    "type": "list",
    "header": {"type": "text", "text": "Servicios"},
    "body": {"text": "Elija una opción"},
    "footer": {"text": "Hotel Mirador del Puerto"},
    "action": {
        "button": "Ver opciones",
        "sections": [
            {"title": "Comida", "rows": [{"id": "breakfast", "title": "Desayuno", "description": "07:30-10:30"}]},
            {"title": "Coche", "rows": [{"id": "parking", "title": "Parking"}]},
        ],
    },
}


def template(name: str, language: str, *parameters: str) -> dict[str, Any]:
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}],
        },
    }


def assert_graph_error(response: Any, http_status: int, code: int) -> dict[str, Any]:
    """The response is Meta's error body for `code`; returns the `error` object."""
    assert response.status_code == http_status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert error["fbtrace_id"]
    if code not in (190,) and error["type"] == "OAuthException":
        assert error["message"].startswith(f"(#{code}) ")
        assert error["error_data"]["messaging_product"] == "whatsapp"
        assert error["error_data"]["details"]
    return error


SENDS = {
    "text": {"type": "text", "text": {"body": "El check-in es a partir de las 15:00.", "preview_url": False}},
    "reply buttons": {"type": "interactive", "interactive": BUTTONS},
    "list": {"type": "interactive", "interactive": LIST},
    "image by link": {"type": "image", "image": {"link": "https://example.com/map.png", "caption": "Mapa"}},
    "document by link": {"type": "document", "document": {"link": "https://example.com/f.pdf", "filename": "f.pdf"}},
    "audio by link": {"type": "audio", "audio": {"link": "https://example.com/welcome.ogg"}},
    "video by link": {"type": "video", "video": {"link": "https://example.com/tour.mp4", "caption": "Tour"}},
    "location": {
        "type": "location",
        "location": {"latitude": 36.7196, "longitude": -4.4200, "name": "Mirador", "address": "Paseo Marítimo 12"},
    },
    "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Recepción"}}]},
    "template": template("reservation_reminder", "es", "Lucía", "18/12/2026", "Hotel Mirador del Puerto"),
}


@pytest.mark.parametrize("kind", SENDS)
async def test_each_send_type_is_accepted_with_metas_response(sandbox: SandboxClient, kind: str) -> None:
    await sandbox.guest_says(LUCIA, "Hola")
    response = await sandbox.send({"to": "+34 612 34 56 78", **SENDS[kind]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+34 612 34 56 78", "wa_id": LUCIA}]
    assert body["messages"][0]["id"].startswith("wamid.")
    thread = await sandbox.thread(LUCIA, MIRADOR)
    assert thread[-1]["wamid"] == body["messages"][0]["id"]
    assert thread[-1]["type"] == SENDS[kind]["type"]


async def test_media_by_uploaded_id_and_reaction_and_mark_as_read(sandbox: SandboxClient) -> None:
    guest_wamid = await sandbox.guest_says(LUCIA, "¿Me manda el plano?")
    upload = await sandbox.http.post(
        f"/v23.0/{MIRADOR}/media",
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("plano.png", b"\x89PNG fake", "image/png")},
        headers={"Authorization": "Bearer sandbox-access-token"},
    )
    assert upload.status_code == 200, upload.text
    media_id = upload.json()["id"]
    sent = await sandbox.send({"to": LUCIA, "type": "image", "image": {"id": media_id, "caption": "Plano"}})
    assert sent.status_code == 200, sent.text
    reaction = await sandbox.send(
        {"to": LUCIA, "type": "reaction", "reaction": {"message_id": guest_wamid, "emoji": "👍"}}
    )
    assert reaction.status_code == 200, reaction.text

    read = await sandbox.send({"status": "read", "message_id": guest_wamid, "typing_indicator": {"type": "text"}})
    assert read.json() == {"success": True}
    thread = await sandbox.thread(LUCIA, MIRADOR)
    assert next(e for e in thread if e["wamid"] == guest_wamid)["read_by_business"] is True

    unknown = await sandbox.send({"to": LUCIA, "type": "image", "image": {"id": "999"}})
    assert_graph_error(unknown, 400, 131053)


async def test_wrong_token_gets_190(sandbox: SandboxClient) -> None:
    response = await sandbox.send({"to": LUCIA, **SENDS["text"]}, token="not-the-token")
    error = assert_graph_error(response, 401, 190)
    assert "error_data" not in error


async def test_unknown_phone_number_id_gets_metas_object_error(sandbox: SandboxClient) -> None:
    response = await sandbox.send({"to": LUCIA, **SENDS["text"]}, number="1999999999")
    error = assert_graph_error(response, 400, 100)
    assert error["error_subcode"] == 33
    assert "1999999999" in error["message"]


INVALID = {
    "no messaging_product": ({"messaging_product": None, "to": LUCIA, **SENDS["text"]}, "messaging_product"),
    "text too long": ({"to": LUCIA, "type": "text", "text": {"body": "x" * 4097}}, "4096"),
    "four buttons": (
        {
            "to": LUCIA,
            "type": "interactive",
            "interactive": {
                **BUTTONS,
                "action": {"buttons": [{"type": "reply", "reply": {"id": str(i), "title": "t"}} for i in range(4)]},
            },
        },
        "between 1 and 3",
    ),
    "button title too long": (
        {
            "to": LUCIA,
            "type": "interactive",
            "interactive": {
                **BUTTONS,
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]},
            },
        },
        "20",
    ),
    "eleven list rows": (
        {
            "to": LUCIA,
            "type": "interactive",
            "interactive": {
                **LIST,
                "action": {
                    "button": "Ver",
                    "sections": [{"title": "A", "rows": [{"id": str(i), "title": f"r{i}"} for i in range(11)]}],
                },
            },
        },
        "at most 10 rows",
    ),
    "media with id and link": ({"to": LUCIA, "type": "image", "image": {"id": "1", "link": "https://x/y.png"}}, "one"),
    "caption on audio": (
        {"to": LUCIA, "type": "audio", "audio": {"link": "https://x/a.ogg", "caption": "c"}},
        "caption",
    ),
    "latitude out of range": (
        {"to": LUCIA, "type": "location", "location": {"latitude": 91, "longitude": 0}},
        "latitude",
    ),
    "unknown type": ({"to": LUCIA, "type": "poll", "poll": {}}, "type must be one of"),
    "missing to": ({"type": "text", "text": {"body": "hola"}}, "to"),
}


@pytest.mark.parametrize("case", INVALID)
async def test_invalid_bodies_get_100_with_details(sandbox: SandboxClient, case: str) -> None:
    await sandbox.guest_says(LUCIA, "Hola")
    body, detail = INVALID[case]
    response = await sandbox.send(body)
    error = assert_graph_error(response, 400, 100)
    assert detail in error["error_data"]["details"]


async def test_malformed_json_gets_100(sandbox: SandboxClient) -> None:
    response = await sandbox.http.post(
        f"/v23.0/{MIRADOR}/messages", content=b"{not json", headers={"Authorization": "Bearer sandbox-access-token"}
    )
    assert_graph_error(response, 400, 100)


async def test_free_form_to_a_guest_who_never_wrote_gets_131047(sandbox: SandboxClient) -> None:
    response = await sandbox.send({"to": OLIVER, **SENDS["text"]})
    error = assert_graph_error(response, 400, 131047)
    assert error["message"] == "(#131047) Re-engagement message"


async def test_window_opens_on_a_guest_message_and_closes_after_24_hours(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(OLIVER, "Hi there")
    assert (await sandbox.send({"to": OLIVER, **SENDS["text"]})).status_code == 200

    await sandbox.advance(WINDOW - 5)
    assert (await sandbox.send({"to": OLIVER, **SENDS["text"]})).status_code == 200

    await sandbox.advance(6)
    assert_graph_error(await sandbox.send({"to": OLIVER, **SENDS["text"]}), 400, 131047)
    reminder = template("reservation_reminder", "en", "Oliver", "2 Dec 2026", "Hotel Mirador del Puerto")
    assert (await sandbox.send({"to": OLIVER, **reminder})).status_code == 200

    await sandbox.guest_says(OLIVER, "Thanks!")
    assert (await sandbox.send({"to": OLIVER, **SENDS["text"]})).status_code == 200


async def test_windows_are_per_business_number(sandbox: SandboxClient) -> None:
    await sandbox.guest_says(LUCIA, "Hola", to=MIRADOR)
    assert (await sandbox.send({"to": LUCIA, **SENDS["text"]}, number=MIRADOR)).status_code == 200
    assert_graph_error(await sandbox.send({"to": LUCIA, **SENDS["text"]}, number=ALAMEDA), 400, 131047)


async def test_window_error_can_arrive_as_a_failed_status(sandbox: SandboxClient, receiver: WebhookReceiver) -> None:
    await sandbox.configure(window_errors="async")
    response = await sandbox.send({"to": OLIVER, **SENDS["text"]})
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    [failed] = await receiver.wait_for(statuses_of(wamid))
    status = status_in(failed, wamid)
    assert status["status"] == "failed"
    assert status["errors"][0]["code"] == 131047


async def test_template_with_wrong_parameter_count_gets_132000(sandbox: SandboxClient) -> None:
    response = await sandbox.send({"to": LUCIA, **template("payment_request", "es", "Lucía")})
    error = assert_graph_error(response, 400, 132000)
    assert "(1)" in error["error_data"]["details"]
    assert "(3)" in error["error_data"]["details"]


@pytest.mark.parametrize(
    ("name", "language"), [("booking_confirmed", "es"), ("payment_request", "fr"), ("payment_request", "es_ES")]
)
async def test_unknown_template_or_language_gets_132001(sandbox: SandboxClient, name: str, language: str) -> None:
    response = await sandbox.send({"to": LUCIA, **template(name, language, "a", "b", "c")})
    error = assert_graph_error(response, 404, 132001)
    assert name in error["error_data"]["details"]


async def test_paused_template_gets_132015_and_a_template_status_webhook(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    changed = await sandbox.http.post("/sandbox/templates/winter_offer/en/status", json={"status": "PAUSED"})
    assert changed.json()["status"] == "PAUSED"
    [update] = await receiver.wait_for(
        lambda r: (
            r.payload["entry"][0]["changes"][0]["field"] == "message_template_status_update"
            and r.payload["entry"][0]["changes"][0]["value"]["message_template_name"] == "winter_offer"
        )
    )
    assert update.signature_valid
    assert update.payload["entry"][0]["changes"][0]["value"]["event"] == "PAUSED"
    response = await sandbox.send({"to": OLIVER, **template("winter_offer", "en", "Oliver", "15")})
    assert_graph_error(response, 400, 132015)


async def test_throughput_above_the_limit_gets_130429(sandbox: SandboxClient) -> None:
    await sandbox.configure(throughput_limit=5)
    guests = [f"3461100{i:04d}" for i in range(8)]
    reminder = template("reservation_reminder", "es", "Ana", "18/12/2026", "Hotel Mirador del Puerto")
    responses = await asyncio.gather(*(sandbox.send({"to": g, **reminder}) for g in guests))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 5
    refused = [r for r in responses if r.status_code != 200]
    assert len(refused) == 3
    for response in refused:
        assert_graph_error(response, 429, 130429)


async def test_pair_rate_limit_gets_131056(sandbox: SandboxClient) -> None:
    await sandbox.configure(pair_burst=3, pair_interval=6)
    await sandbox.guest_says(LUCIA, "Hola")
    for _ in range(3):
        assert (await sandbox.send({"to": LUCIA, **SENDS["text"]})).status_code == 200
    assert_graph_error(await sandbox.send({"to": LUCIA, **SENDS["text"]}), 429, 131056)
    await sandbox.advance(6.5)
    assert (await sandbox.send({"to": LUCIA, **SENDS["text"]})).status_code == 200


async def test_undeliverable_guest_gets_a_failed_status_with_131026(
    sandbox: SandboxClient, receiver: WebhookReceiver
) -> None:
    reminder = template("reservation_reminder", "es", "Ana", "18/12/2026", "Hotel Mirador del Puerto")
    response = await sandbox.send({"to": "34600000000", **reminder})
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    [failed] = await receiver.wait_for(statuses_of(wamid))
    assert failed.signature_valid
    status = status_in(failed, wamid)
    assert status["status"] == "failed"
    assert status["recipient_id"] == "34600000000"
    assert status["errors"][0]["code"] == 131026
    assert status["errors"][0]["title"] == "Message undeliverable"
    assert status["errors"][0]["error_data"]["details"]


async def test_fault_injection_answers_500_with_131000(sandbox: SandboxClient) -> None:
    await sandbox.configure(fault_error_rate=1.0)
    assert_graph_error(await sandbox.send({"to": LUCIA, **SENDS["template"]}), 500, 131000)
    await sandbox.configure(fault_error_rate=0.0, fault_delay_rate=1.0, fault_delay_ms=300)
    started = asyncio.get_running_loop().time()
    assert (await sandbox.send({"to": LUCIA, **SENDS["template"]})).status_code == 200
    assert asyncio.get_running_loop().time() - started >= 0.3


async def test_management_api_lists_the_catalog_with_filters_and_paging(sandbox: SandboxClient) -> None:
    auth = {"Authorization": "Bearer sandbox-access-token"}
    everything = (
        await sandbox.http.get(f"/v23.0/{WABA}/message_templates", params={"limit": 100}, headers=auth)
    ).json()
    names = {(t["name"], t["language"]) for t in everything["data"]}
    expected = {
        "reservation_reminder",
        "payment_request",
        "checkin_instructions",
        "reopen_conversation",
        "winter_offer",
    }
    assert names == {(n, lang) for n in expected for lang in ("es", "en")}
    assert all(t["status"] == "APPROVED" for t in everything["data"])
    marketing = (
        await sandbox.http.get(f"/v23.0/{WABA}/message_templates", params={"category": "MARKETING"}, headers=auth)
    ).json()
    assert {t["name"] for t in marketing["data"]} == {"winter_offer"}

    first = (await sandbox.http.get(f"/v23.0/{WABA}/message_templates", params={"limit": 4}, headers=auth)).json()
    assert len(first["data"]) == 4
    second = (await sandbox.http.get(first["paging"]["next"], headers=auth)).json()
    assert {t["id"] for t in first["data"]}.isdisjoint({t["id"] for t in second["data"]})
    unknown = await sandbox.http.get("/v23.0/2999999999/message_templates", headers=auth)
    assert_graph_error(unknown, 400, 100)
