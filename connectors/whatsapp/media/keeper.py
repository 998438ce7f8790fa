"""The media keeper: downloads guests' media in the background, keeps agents' attachments, serves both's bytes,
and deletes what is past the retention.

A guest's media id can be downloaded for 7 days, its URL for 5 minutes after `GET /{media-id}`, so the keeper
fetches as soon as a batch is recorded (`wake`), never in the bot's way: the message has gone to the bot
already. Each download is checked against what Meta said (`file_size`, `sha256`, the webhook's `sha256`) and
against Meta's size limit for its kind. A download that fails is retried in the call by the Graph client's
retry policy, then durably: the row stays `pending` with its reason and a later `next_attempt_at`, for this
process's next round or any other's (`media_files.claimed_until` keeps two from taking it at once), until
the media id is older than WhatsApp keeps it. A sweep every `sweep_seconds` finds media messages that have no
row (a process that stopped between recording a batch and waking its keeper), retries what is due, and
applies `GATEWAY_MEDIA_RETENTION_DAYS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from cloudapi.graph import GraphClient, MediaInfo, MediaTooLargeError
from connectors.whatsapp.media.backends import MediaBackend
from connectors.whatsapp.media.records import MEDIA_KINDS, MediaRecord, MediaRecords, new_media_id, pending_row
from connectors.whatsapp.store import GatewayStore, InboundRecord

log = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_BYTES = {"image": 5 * MB, "video": 16 * MB, "audio": 16 * MB, "document": 100 * MB, "sticker": 500 * 1024}
"""Meta's limits per kind (WHATSAPP.md §5; a sticker's is an animated one's, a static one's being 100 KB)."""
MEDIA_ID_LIFETIME = 7 * 24 * 3600.0
"""How long WhatsApp lets a media id be downloaded: a row still pending after this has failed for good."""
CLAIM_SECONDS = 300.0
MAX_RETRY_SECONDS = 6 * 3600.0


class MediaUnavailableError(Exception):
    """A file the keeper cannot give: its `record.state` says why (pending, refused, failed, expired)."""

    def __init__(self, record: MediaRecord) -> None:
        super().__init__(record.reason or record.state)
        self.record = record


class _RefusedError(Exception):
    """A file past its kind's size limit: recorded refused, never tried again."""


class MediaKeeper:
    """One per gateway process: a loop woken by each recorded batch (and every `sweep_seconds` for the sweep),
    the records it works from, and the backend that holds the bytes."""

    def __init__(
        self,
        store: GatewayStore,
        graph: GraphClient,
        backend: MediaBackend,
        clock: Callable[[], float] = time.time,
        sweep_seconds: float = 30.0,
        retry_seconds: float = 30.0,
        retention_days: float = 0.0,
    ) -> None:
        self.records = MediaRecords(store)
        self.backend = backend
        self._graph = graph
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._retry_seconds = retry_seconds
        self._retention_days = retention_days
        self._seen: list[str] = []
        self._sweep_floor = 0
        self._previous_top = 0
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, grace: float = 5.0) -> None:
        """Let a round under way finish for `grace` seconds, then cancel it: a download cut short loses nothing,
        its row stays pending and its claim lapses for the next process."""
        self._stopping.set()
        self._wakeup.set()
        if self._loop is not None:
            _, unfinished = await asyncio.wait({self._loop}, timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)

    def wake(self, recorded: Sequence[InboundRecord]) -> None:
        """A batch was recorded: fetch its guests' media now (the processor calls this, and never waits)."""
        wamids = [record.wamid for record in recorded if record.type in MEDIA_KINDS]
        if wamids:
            self._seen.extend(wamids)
            self._wakeup.set()

    async def _run(self) -> None:
        last_sweep = 0.0
        while not self._stopping.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._sweep_seconds)
            self._wakeup.clear()
            if self._stopping.is_set():
                return
            try:
                wamids, self._seen = self._seen, []
                if time.monotonic() - last_sweep >= self._sweep_seconds:
                    last_sweep = time.monotonic()
                    await self.sweep()
                else:
                    await self.discover(wamids)
                    await self.fetch_due()
            except Exception:
                log.exception("the media keeper's round failed; the next one tries again")

    async def sweep(self) -> None:
        """Rows for media messages that have none, downloads that are due, then the retention."""
        await self.discover(None)
        await self.fetch_due()
        await self.expire()

    async def discover(self, wamids: Sequence[str] | None) -> None:
        """Give a pending row to each stored guest media message without one: of `wamids`, or (the sweep) of
        the messages stored since the sweep before last. The sweeps overlap by one, so a message whose batch
        committed after a later one's (ids are given at insert, on PostgreSQL by concurrent transactions) is
        still seen; a process's first two sweeps read every message of the media ids' lifetime."""
        if wamids is not None and not wamids:
            return
        now = self._clock()
        if wamids is None:
            top = await self.records.newest_message_id()
            floor, self._sweep_floor, self._previous_top = self._sweep_floor, self._previous_top, top
            found = await self.records.unrecorded(now - MEDIA_ID_LIFETIME, after_id=floor)
        else:
            found = await self.records.unrecorded(now - MEDIA_ID_LIFETIME, wamids)
        await self.records.add([pending_row(message, _meta(message), now) for message in found])

    async def fetch_due(self) -> None:
        """Download every due pending file this process could claim, in parallel, and wait for them."""
        claimed = await self.records.claim_due(self._clock(), CLAIM_SECONDS)
        await asyncio.gather(*(self._fetch(record) for record in claimed))

    async def _fetch(self, record: MediaRecord) -> None:
        try:
            data, info = await self._download(record)
        except _RefusedError as refusal:
            log.warning("media %s of message %s refused: %s", record.id, record.message_id, refusal)
            await self.records.update(record.id, state="refused", reason=str(refusal), claimed_until=None)
            return
        except Exception as error:
            await self._failed(record, _describe(error))
            return
        mime_type = info.mime_type or record.claimed_mime_type or "application/octet-stream"
        key = _storage_key(record.business_id, record.id, self._clock())
        await self.backend.put(key, data, mime_type)
        await self.records.update(
            record.id,
            state="kept",
            reason=None,
            mime_type=mime_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=key,
            kept_at=self._clock(),
            attempts=record.attempts + 1,
            claimed_until=None,
        )
        log.info("media %s of message %s kept (%d bytes)", record.id, record.message_id, len(data))

    async def _download(self, record: MediaRecord) -> tuple[bytes, MediaInfo]:
        """The checked bytes of a guest's media: `_RefusedError` past the size limit, ValueError on a mismatch."""
        if not record.graph_media_id:
            raise _RefusedError("the webhook named no media id")
        limit = MAX_BYTES.get(record.kind, MAX_BYTES["document"])
        info = await self._graph.media_info(record.graph_media_id)
        if info.file_size is not None and info.file_size > limit:
            raise _RefusedError(f"{info.file_size} bytes, past WhatsApp's limit of {limit} for a {record.kind}")
        try:
            data = await self._graph.download(info.url, limit)
        except MediaTooLargeError as error:
            raise _RefusedError(f"{error}, past WhatsApp's limit of {limit} for a {record.kind}") from error
        if info.file_size is not None and len(data) != info.file_size:
            raise ValueError(f"got {len(data)} bytes where WhatsApp said {info.file_size}")
        digest = hashlib.sha256(data).hexdigest()
        for said in (info.sha256, record.expected_sha256):
            if said and said.lower() != digest:
                raise ValueError(f"the bytes' sha256 {digest} is not the {said} WhatsApp gave")
        return data, info

    async def _failed(self, record: MediaRecord, reason: str) -> None:
        """Try again later, each time twice as late; give up once WhatsApp no longer keeps the media id."""
        now = self._clock()
        attempts = record.attempts + 1
        if now - record.created_at >= MEDIA_ID_LIFETIME:
            log.error("media %s of message %s failed for good: %s", record.id, record.message_id, reason)
            await self.records.update(record.id, state="failed", reason=reason, attempts=attempts, claimed_until=None)
            return
        delay = min(MAX_RETRY_SECONDS, self._retry_seconds * 2 ** (attempts - 1))
        log.warning(
            "media %s of message %s not fetched (%s); again in %.0fs", record.id, record.message_id, reason, delay
        )
        await self.records.update(
            record.id, reason=reason, attempts=attempts, next_attempt_at=now + delay, claimed_until=None
        )

    async def expire(self) -> None:
        """Delete the files kept longer than the retention (0: keep them), marking their rows expired."""
        if self._retention_days <= 0:
            return
        cutoff = self._clock() - self._retention_days * 86400
        for record in await self.records.kept_before(cutoff):
            if record.storage_key:
                await self.backend.delete(record.storage_key)
            await self.records.update(record.id, state="expired", reason="past the retention", storage_key=None)
            log.info("media %s deleted: kept past %g days", record.id, self._retention_days)

    async def keep(
        self,
        data: bytes,
        mime_type: str,
        filename: str | None,
        business_id: str,
        wa_id: str,
        message_id: int | None,
        kind: str = "document",
        direction: str = "outbound",
        caption: str | None = None,
    ) -> MediaRecord:
        """Keep a file the gateway already has (an agent's attachment): stored, and recorded `kept` at once."""
        record_id, now = new_media_id(), self._clock()
        key = _storage_key(business_id, record_id, now)
        await self.backend.put(key, data, mime_type)
        row: dict[str, Any] = {
            "id": record_id,
            "business_id": business_id,
            "wa_id": wa_id,
            "message_id": message_id,
            "direction": direction,
            "kind": kind,
            "mime_type": mime_type,
            "claimed_mime_type": mime_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "filename": filename,
            "caption": caption,
            "storage_key": key,
            "state": "kept",
            "attempts": 0,
            "created_at": now,
            "kept_at": now,
        }
        await self.records.insert(row)
        kept = await self.records.get(record_id)
        assert kept is not None
        return kept

    async def read(self, record: MediaRecord) -> bytes:
        """The bytes of a kept file; `MediaUnavailableError` for one that is not (or no longer) kept."""
        if record.state != "kept" or not record.storage_key:
            raise MediaUnavailableError(record)
        return await self.backend.get(record.storage_key)


def _meta(message: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(message.get("meta") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _storage_key(business_id: str, record_id: str, now: float) -> str:
    """`<business>/<yyyy-mm>/<id>`: a hotel's files together, a month's apart, and never a guest's file name."""
    return f"{business_id}/{time.strftime('%Y-%m', time.gmtime(now))}/{record_id}"


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
