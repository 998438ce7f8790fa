"""The Graph client's media calls, against Meta's answers scripted with aioresponses (the Graph client is on
aiohttp): `GET /{media-id}` read into `MediaInfo`, the download retried by the one retry policy after a 5xx and
stopped past its size cap; and the media settings' checks."""

from __future__ import annotations

import re

import pytest
from aioresponses import aioresponses

from cloudapi.errors import GraphApiError
from cloudapi.graph import GraphClient, GraphConfig, MediaInfo, MediaTooLargeError
from connectors.whatsapp.media.backends import FileBackend, S3Backend, backend_for
from connectors.whatsapp.settings import SettingsError, load_settings

GRAPH = "https://graph.example"
CDN = "https://lookaside.example/whatsapp_business/attachments/?mid=1"
META = {"WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_ACCESS_TOKEN": "a"}


async def _no_sleep(_: float) -> None:
    return None


def _client() -> GraphClient:
    return GraphClient(GraphConfig(api_url=GRAPH, access_token="token", max_attempts=3), sleep=_no_sleep)


async def test_media_info_is_read_from_metas_answer() -> None:
    client = _client()
    answer = {"messaging_product": "whatsapp", "url": CDN, "mime_type": "image/jpeg", "sha256": "ab", "file_size": 12}
    with aioresponses() as meta:
        meta.get(f"{GRAPH}/v23.0/123", payload=answer)
        assert await client.media_info("123") == MediaInfo("123", CDN, "image/jpeg", "ab", 12)
        meta.get(f"{GRAPH}/v23.0/124", payload={"id": "124"})
        with pytest.raises(GraphApiError, match="Unexpected answer"):
            await client.media_info("124")
    await client.close()


async def test_a_download_is_retried_after_a_5xx_with_the_token() -> None:
    client = _client()
    with aioresponses() as meta:
        meta.get(CDN, status=500, payload={"error": {"code": 131000, "message": "(#131000) Something went wrong"}})
        meta.get(CDN, body=b"\xff\xd8\xffjpeg")
        assert await client.download(CDN, max_bytes=100) == b"\xff\xd8\xffjpeg"
        sent = [call for key, calls in meta.requests.items() for call in calls]
    assert len(sent) == 2
    await client.close()


async def test_a_download_past_its_cap_stops_and_is_not_retried() -> None:
    client = _client()
    with aioresponses() as meta:
        meta.get(re.compile(r"https://lookaside\.example/.*"), body=b"x" * 1000, repeat=True)
        with pytest.raises(MediaTooLargeError):
            await client.download(CDN, max_bytes=999)
        assert sum(len(calls) for calls in meta.requests.values()) == 1
    await client.close()


def test_the_media_store_is_a_folder_by_default_or_a_bucket() -> None:
    settings = load_settings(None, META)
    assert settings.media_url.endswith("/var/media")
    assert settings.media_retention_days == 0
    assert isinstance(backend_for(settings.media_url), FileBackend)
    bucket = backend_for("s3://hotel-media/guests/")
    assert isinstance(bucket, S3Backend)
    assert (bucket.bucket, bucket.prefix) == ("hotel-media", "guests")
    assert load_settings(None, {**META, "GATEWAY_MEDIA_RETENTION_DAYS": "90"}).media_retention_days == 90


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GATEWAY_MEDIA_URL", "ftp://files/x"),
        ("GATEWAY_MEDIA_URL", "s3:///no-bucket"),
        ("GATEWAY_MEDIA_RETENTION_DAYS", "-1"),
        ("GATEWAY_MEDIA_RETRY_SECONDS", "0"),
    ],
)
def test_an_unusable_media_setting_stops_the_gateway_with_its_name(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(None, {**META, variable: value})


def test_a_media_key_cannot_leave_the_folder(tmp_path: object) -> None:
    backend = FileBackend(tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="leaves"):
        backend._path("../../etc/passwd")
