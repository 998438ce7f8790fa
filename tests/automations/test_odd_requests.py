"""What the schemathesis run (tests/channel/test_openapi_fuzz.py) found, pinned down: ids and query strings
no handler expected get the documented 4xx with a `problem` body, never a 500 or Sanic's HTML page."""

from __future__ import annotations

import httpx
import pytest

from tests.support import MIRADOR


@pytest.mark.parametrize("message_id", ["abc", "null,null", "0", "-1", "4294967296", "99999999999999999999"])
async def test_an_id_no_message_can_have_is_404(api: httpx.AsyncClient, message_id: str) -> None:
    answer = await api.get(f"/messages/{message_id}")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_a_month_with_a_trailing_newline_is_refused(api: httpx.AsyncClient) -> None:
    answer = await api.get("/reports/costs", params={"business": MIRADOR, "month": "2026-12\n"})

    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["error"]["problems"]] == ["month"]
