"""The action server's view of the approved templates: read from the sandbox's Graph API like from Meta's,
every page followed, kept for a while, and a clear error when it cannot be read."""

from __future__ import annotations

from typing import Any

import pytest

from actions.catalog import CACHE_SECONDS, CatalogUnavailableError, GraphTemplateCatalog
from cloudapi.graph import GraphClient, GraphConfig
from tests.support import ACCESS_TOKEN, WABA, SandboxProcess


def graph(url: str, token: str) -> GraphClient:
    return GraphClient(GraphConfig(api_url=url, access_token=token))


async def test_every_template_of_the_account_is_listed_across_pages(sandbox_process: SandboxProcess) -> None:
    catalog = GraphTemplateCatalog(graph(sandbox_process.url, ACCESS_TOKEN))
    try:
        templates = await catalog.templates(WABA)
    finally:
        await catalog.close()
    names = {(t.name, t.language) for t in templates}
    for name in ("reservation_reminder", "payment_request", "checkin_instructions", "reopen_conversation"):
        assert {(name, "es"), (name, "en")} <= names
    payment = next(t for t in templates if (t.name, t.language) == ("payment_request", "en"))
    assert payment.approved
    assert payment.parameter_count == 3


class CountingGraph(GraphClient):
    """The real client, counting the template lists it asks the Graph API for."""

    requests = 0

    async def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        self.requests += 1
        return await super().list_templates(waba_id)


async def test_the_list_is_kept_for_a_while(sandbox_process: SandboxProcess) -> None:
    now = [0.0]
    transport = CountingGraph(GraphConfig(api_url=sandbox_process.url, access_token=ACCESS_TOKEN))
    catalog = GraphTemplateCatalog(transport, clock=lambda: now[0])
    try:
        first = await catalog.templates(WABA)
        now[0] = CACHE_SECONDS - 1
        assert await catalog.templates(WABA) is first
        assert transport.requests == 1
        now[0] = CACHE_SECONDS + 1
        assert await catalog.templates(WABA) == first
        assert transport.requests == 2
    finally:
        await catalog.close()


@pytest.mark.parametrize(
    ("token", "waba", "reason"),
    [("wrong-token", WABA, "answered 401"), (ACCESS_TOKEN, "2999999999", "answered 400")],
)
async def test_a_refusal_is_an_error_that_says_why(
    sandbox_process: SandboxProcess, token: str, waba: str, reason: str
) -> None:
    catalog = GraphTemplateCatalog(graph(sandbox_process.url, token))
    try:
        with pytest.raises(CatalogUnavailableError, match=reason):
            await catalog.templates(waba)
    finally:
        await catalog.close()


async def test_without_the_graph_api_settings_the_catalog_says_what_is_missing() -> None:
    catalog = GraphTemplateCatalog(None)
    with pytest.raises(CatalogUnavailableError, match="WHATSAPP_API_URL and WHATSAPP_ACCESS_TOKEN"):
        await catalog.templates(WABA)
    await catalog.close()
