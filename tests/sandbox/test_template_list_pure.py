"""The template list, pure: Meta's filters, `fields`, `summary` and paging links that keep the query."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.catalog import Catalog
from sandbox.errors import GraphError
from sandbox.template_list import TEMPLATE_LIMIT, template_list, template_query

TEMPLATES = Catalog.load().templates("2000000001")
URL = "http://sandbox/v23.0/2000000001/message_templates"


def listed(**args: str) -> dict[str, Any]:
    return template_list(TEMPLATES, template_query(args), URL, args)


def names(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(t["name"], t["language"]) for t in answer["data"]}


def test_without_parameters_a_page_of_every_field() -> None:
    answer = listed()
    assert len(answer["data"]) == len(TEMPLATES) == 10
    assert set(answer["data"][0]) == {"name", "parameter_format", "components", "language", "status", "category", "id"}
    assert "summary" not in answer
    assert "next" not in answer["paging"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"category": "MARKETING"}, {("winter_offer", "es"), ("winter_offer", "en")}),
        ({"category": "marketing,AUTHENTICATION"}, {("winter_offer", "es"), ("winter_offer", "en")}),
        ({"category": '["MARKETING"]', "language": "en"}, {("winter_offer", "en")}),
        ({"name": "Payment_Request"}, {("payment_request", "es"), ("payment_request", "en")}),
        ({"name": "payment"}, set()),
        ({"status": "PAUSED"}, set()),
        ({"content": "winter", "language": "en"}, {("winter_offer", "en")}),
        ({"name_or_content": "reopen", "language": "es"}, {("reopen_conversation", "es")}),
    ],
)
def test_filters_select_as_metas_do(args: dict[str, str], expected: set[tuple[str, str]]) -> None:
    assert names(listed(**args, limit="100")) == expected


def test_fields_return_only_those_fields_and_the_id() -> None:
    answer = listed(fields="name,status", limit="2")
    assert [set(t) for t in answer["data"]] == [{"name", "status", "id"}] * 2
    assert list(listed(fields="components{type,text},language")["data"][0]) == ["components", "language", "id"]
    assert set(listed(fields="quality_score,name")["data"][0]) == {"name", "id"}


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("true", {"total_count": 2}),
        ("total_count,message_template_limit", {"total_count": 2, "message_template_limit": TEMPLATE_LIMIT}),
        (
            "total_count,message_template_count,message_template_limit,are_translations_complete",
            {
                "total_count": 2,
                "message_template_count": 5,
                "message_template_limit": TEMPLATE_LIMIT,
                "are_translations_complete": True,
            },
        ),
    ],
)
def test_summary_holds_the_fields_asked_for(summary: str, expected: dict[str, Any]) -> None:
    assert listed(summary=summary, category="MARKETING")["summary"] == expected
    assert "summary" not in listed(summary="false")


def test_a_name_missing_a_language_makes_translations_incomplete() -> None:
    one_language = [t for t in TEMPLATES if not (t.name == "winter_offer" and t.language == "en")]
    args = {"summary": "are_translations_complete"}
    assert template_list(one_language, template_query(args), URL, args)["summary"] == {
        "are_translations_complete": False
    }


def test_paging_links_keep_the_query_and_walk_every_page_once() -> None:
    args = {"fields": "name,language", "category": "UTILITY", "limit": "3", "summary": "total_count"}
    seen: list[tuple[str, str]] = []
    page = template_list(TEMPLATES, template_query(args), URL, args)
    pages = [page]
    while "next" in page["paging"]:
        following = {k: v[0] for k, v in parse_qs(urlsplit(page["paging"]["next"]).query).items()}
        assert {k: following[k] for k in ("fields", "category", "summary", "limit")} == {
            k: args[k] for k in ("fields", "category", "summary", "limit")
        }
        page = template_list(TEMPLATES, template_query(following), URL, following)
        pages.append(page)
    for each in pages:
        seen.extend((t["name"], t["language"]) for t in each["data"])
        assert each["summary"] == {"total_count": 8}
    assert len(seen) == len(set(seen)) == 8
    assert [len(p["data"]) for p in pages] == [3, 3, 2]
    back = {k: v[0] for k, v in parse_qs(urlsplit(pages[-1]["paging"]["previous"]).query).items()}
    assert template_list(TEMPLATES, template_query(back), URL, back)["data"] == pages[1]["data"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"fields": "name,colour"}, "nonexisting field (colour)"),
        ({"summary": "total_count,size"}, "Unknown summary field (size)"),
        ({"limit": "many"}, "Invalid paging parameter"),
        ({"after": "not a cursor"}, "Invalid paging parameter"),
        ({"status": '["APPROVED", 1]'}, "an array of strings"),
        ({"status": "[APPROVED"}, "Invalid filter value"),
    ],
)
def test_bad_parameters_get_code_100_naming_them(args: dict[str, str], fragment: str) -> None:
    with pytest.raises(GraphError) as refused:
        template_query(args)
    assert refused.value.code == 100
    assert fragment in refused.value.details
