"""The media store in an S3 bucket, over real HTTP: moto's S3 in server mode on loopback stands in for AWS (or
MinIO), reached through boto3 with nothing but the standard AWS environment variables, as in production."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from connectors.whatsapp.tokens import parse_tokens
from tests.channel.agents_api import AgentsApi
from tests.channel.test_media import JPEG, TOKENS, guest_sends, media_of, upload
from tests.gateway_support import GatewayServer, MovableClock, RecordingBot, database_url, empty_database, settings_for
from tests.support import SandboxClient, free_port

BUCKET = "hotel-media"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """moto's S3 on a free loopback port, the AWS variables pointing at it, and an empty bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    httpx.post(f"http://127.0.0.1:{port}/moto-api/reset")  # moto keeps its buckets in the process, across servers
    client = boto3.session.Session().client("s3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield client
    server.stop()


@pytest.fixture
async def server(
    db_kind: str, tmp_path: Path, bot: RecordingBot, clock: MovableClock, sandbox: SandboxClient, s3: object
) -> AsyncIterator[GatewayServer]:
    url = database_url(db_kind, tmp_path)
    if db_kind == "postgresql":
        await empty_database(url)
    settings = settings_for(
        sandbox.base_url,
        url,
        api_tokens=parse_tokens(TOKENS),
        media_url=f"s3://{BUCKET}/guests",
        media_retention_days=30,
    )
    gateway = GatewayServer(settings, bot, clock)
    await gateway.start()
    await sandbox.configure(webhook_url=gateway.webhook_url)
    yield gateway
    await gateway.stop()


async def test_a_guests_photo_is_kept_in_the_bucket_served_back_and_expired(
    server: GatewayServer, sandbox: SandboxClient, s3: object, clock: MovableClock
) -> None:
    desk = AgentsApi(server.url, "desk-secret")
    try:
        wamid = await guest_sends(sandbox, await upload(sandbox, JPEG, "image/jpeg"))
        media = await media_of(desk, wamid)
        assert media["state"] == "kept"
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]  # type: ignore[attr-defined]
        assert len(keys) == 1
        assert keys[0].startswith("guests/1000000001/")
        assert keys[0].endswith(media["id"])
        stored = s3.get_object(Bucket=BUCKET, Key=keys[0])  # type: ignore[attr-defined]
        assert stored["Body"].read() == JPEG
        assert stored["ContentType"] == "image/jpeg"
        answer = await desk.http.get(f"/media/{media['id']}")
        assert hashlib.sha256(answer.content).hexdigest() == media["sha256"]
        keeper = server.channel.gateway.media
        assert keeper is not None
        clock.offset += 31 * 86400
        await keeper.expire()
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # type: ignore[attr-defined]
        assert (await desk.get(f"/media/{media['id']}")).status_code == 409
    finally:
        await desk.close()
