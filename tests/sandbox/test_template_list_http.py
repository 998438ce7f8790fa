"""The template list over real HTTP: `fields`, `summary`, filters, paging links that keep the query, and the
gateway's own Graph client reading the whole catalog."""

from __future__ import annotations

from typing import Any

from cloudapi.graph import GraphClient, GraphConfig
from tests.support import ACCESS_TOKEN, WABA, SandboxClient

AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


async def templates(sandbox: SandboxClient, **params: Any) -> Any:
    return await sandbox.http.get(f"/v23.0/{WABA}/message_templates", params=params, headers=AUTH)


async def test_fields_and_summary_as_meta_answers_them(sandbox: SandboxClient) -> None:
    response = await templates(
        sandbox, fields="name,language", summary="total_count,message_template_limit", category="UTILITY", limit=50
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert {tuple(t) for t in answer["data"]} == {("name", "language", "id")}
    assert len(answer["data"]) == 8
    assert answer["summary"] == {"total_count": 8, "message_template_limit": 250}


async def test_filters_combine(sandbox: SandboxClient) -> None:
    answer = (await templates(sandbox, status="APPROVED,PAUSED", language="en", name="winter_offer")).json()
    assert [(t["name"], t["language"], t["category"]) for t in answer["data"]] == [("winter_offer", "en", "MARKETING")]
    paused = await sandbox.http.post("/sandbox/templates/winter_offer/en/status", json={"status": "PAUSED"})
    assert paused.status_code == 200
    assert [t["status"] for t in (await templates(sandbox, status="PAUSED")).json()["data"]] == ["PAUSED"]


async def test_following_next_keeps_the_filters_and_fields(sandbox: SandboxClient) -> None:
    page = (await templates(sandbox, category="UTILITY", fields="name", limit=3)).json()
    seen = [t["name"] for t in page["data"]]
    while "next" in page["paging"]:
        page = (await sandbox.http.get(page["paging"]["next"], headers=AUTH)).json()
        assert all(set(t) == {"name", "id"} for t in page["data"])
        seen.extend(t["name"] for t in page["data"])
    assert len(seen) == 8
    assert "winter_offer" not in seen


async def test_unknown_fields_get_code_100(sandbox: SandboxClient) -> None:
    response = await templates(sandbox, fields="name,colour")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert "colour" in error["error_data"]["details"]


async def test_the_gateways_graph_client_reads_the_whole_catalog(sandbox: SandboxClient) -> None:
    client = GraphClient(GraphConfig(api_url=sandbox.base_url, access_token=ACCESS_TOKEN))
    try:
        listed = await client.list_templates(WABA)
    finally:
        await client.close()
    assert len(listed) == 10
    assert {t["category"] for t in listed} == {"UTILITY", "MARKETING"}
