"""Which page of a Graph API list comes next: Meta's `paging.next` URL, or its `after` cursor where `next`
is not a URL, and the end where a page has no `next` (even an empty page may have one)."""

from __future__ import annotations

from cloudapi.graph import next_page

URL = "http://graph.test/v23.0/2000000001/message_templates"


def test_the_next_url_is_followed_as_given() -> None:
    following = f"{URL}?limit=100&after=QQ"
    page = {"data": [{}], "paging": {"cursors": {"before": "MA", "after": "QQ"}, "next": following}}
    assert next_page(URL, page) == (following, {})


def test_a_next_that_is_not_a_url_is_asked_for_with_the_after_cursor() -> None:
    page = {"data": [], "paging": {"cursors": {"after": "QQ"}, "next": True}}
    assert next_page(f"{URL}?limit=100", page) == (URL, {"limit": "100", "after": "QQ"})


def test_a_page_without_next_is_the_last() -> None:
    assert next_page(URL, {"data": [{}], "paging": {"cursors": {"before": "MA", "after": "QQ"}}}) is None
    assert next_page(URL, {"data": []}) is None
    assert next_page(URL, {"data": [], "paging": "garbage"}) is None
