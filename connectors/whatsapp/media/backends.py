"""Where kept files live: a folder (`var/media/` by default) or an S3-compatible bucket.

`GATEWAY_MEDIA_URL` chooses: a path or `file://` URL for a folder, `s3://bucket/prefix` for a bucket. The
bucket is reached with boto3 and the standard AWS environment variables (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, and `AWS_ENDPOINT_URL` for a server that is not AWS: MinIO,
Ceph, moto); boto3's calls block, so they run in a worker thread, off the event loop. Keys are the records'
own (`<business>/<yyyy-mm>/<id>`): the backends never see a guest's file name.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = ["FileBackend", "MediaBackend", "S3Backend", "backend_for"]


class MediaBackend(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; `FileNotFoundError` when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Delete `key`; one already gone is no error (a sweep may run twice)."""
        ...


class FileBackend:
    """Files under a folder, each written to a temporary name and renamed, so none is ever seen half-written."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media key {key!r} leaves the media folder")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


class S3Backend:
    """Objects in a bucket under a prefix, through one boto3 client (thread-safe) made at start-up."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        import boto3  # only a gateway with an s3:// media store pays for importing it

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client or boto3.session.Session().client("s3")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes:
        def read() -> bytes:
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            except self._client.exceptions.NoSuchKey as error:
                raise FileNotFoundError(key) from error
            return answer["Body"].read()

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=self._key(key))


def backend_for(url: str) -> MediaBackend:
    """The backend a `GATEWAY_MEDIA_URL` names (validated by the settings)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        return S3Backend(parts.netloc, parts.path)
    return FileBackend(Path(parts.path if parts.scheme == "file" else url))
