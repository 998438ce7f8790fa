"""Rasa's conversation lock store named by one URL, `LOCK_STORE_URL`: in memory for one server, Redis for several.

endpoints.yml names this class as its `lock_store` type, so the same file serves `make run` (`memory://`, one
process) and `make cluster` (`redis://host:port/db`, every replica taking one conversation's turn at a time).
Rasa's own `redis` type wants host, port and db apart, which one URL setting cannot fill. Rasa glue: it is
constructed by Rasa from the endpoint configuration.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

__all__ = ["LockStoreFromUrl", "redis_arguments"]

IN_MEMORY = frozenset({"", "memory://", "in_memory"})


def redis_arguments(url: str) -> dict[str, Any]:
    """The keyword arguments of Rasa's `RedisLockStore` for a `redis://` or `rediss://` URL (pure); the
    database defaults to 1, as Rasa's does."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"LOCK_STORE_URL={url!r} must be memory:// or a redis://host:port/db URL")
    database = parts.path.lstrip("/") or "1"
    if not database.isdigit():
        raise ValueError(f"LOCK_STORE_URL={url!r}: the database after the last / must be a number")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(database),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


class LockStoreFromUrl(LockStore):
    """Constructed by Rasa with the `lock_store` endpoint config; is the in-memory or the Redis lock store."""

    def __new__(cls, endpoint_config: EndpointConfig) -> LockStore:  # type: ignore[misc]
        url = (endpoint_config.url or "").strip()
        if url in IN_MEMORY:
            return InMemoryLockStore()
        return RedisLockStore(**redis_arguments(url), key_prefix=endpoint_config.kwargs.get("key_prefix"))
