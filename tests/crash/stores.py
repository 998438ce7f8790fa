"""The two stores a crash matrix runs on, and the harness's own view of the gateway store.

SQLite keeps both the gateway store and Rasa's tracker store in files of the run's folder; PostgreSQL gets two
fresh databases per run (created with the credentials of `TEST_POSTGRES_URL`, dropped afterwards), so a run
never shares state with the test suites that use `gateway_test`.

The view reads the store with a synchronous engine of its own while the Rasa server writes to it, and can
stall it: holding a write lock for a moment before a kill is a database hiccup, which freezes the gateway
mid-work so that the kill lands in the middle of every phase at once.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from connectors.whatsapp.store.schema import inbox, messages

StoreKind = Literal["sqlite", "postgresql"]
FINISHED_STATES = frozenset({"handled", "held"})
"""Inbound states of a guest message the gateway is done with; any other state is work still to do."""


@dataclass(frozen=True)
class InboundRow:
    state: str
    created_at: float


@dataclass(frozen=True)
class StoreSnapshot:
    """What the gateway store held at one moment: its guest messages, the wamids of the business messages it
    recorded, and the raw webhooks of its inbox."""

    inbound: dict[str, InboundRow]
    outbound_wamids: frozenset[str]
    inbox_bodies: tuple[bytes, ...]

    def unfinished(self) -> set[str]:
        return {wamid for wamid, row in self.inbound.items() if row.state not in FINISHED_STATES}

    def in_inbox(self, wamid: str) -> bool:
        needle = wamid.encode()
        return any(needle in body for body in self.inbox_bodies)


@dataclass(frozen=True)
class StoreTarget:
    """Where one run's Rasa server keeps the gateway store and its trackers."""

    kind: StoreKind
    gateway_url: str
    tracker_dialect: str
    tracker_url: str
    view_url: str

    def rasa_environment(self) -> dict[str, str]:
        return {
            "GATEWAY_DATABASE_URL": self.gateway_url,
            "TRACKER_STORE_DIALECT": self.tracker_dialect,
            "TRACKER_STORE_URL": self.tracker_url,
        }


def postgres_admin_url() -> str | None:
    """TEST_POSTGRES_URL in the plain `postgresql://` form psycopg2 takes, or None when it is unset."""
    url = os.environ.get("TEST_POSTGRES_URL")
    return url.replace("postgres://", "postgresql://", 1) if url else None


@contextmanager
def store_target(kind: StoreKind, folder: Path) -> Iterator[StoreTarget]:
    """The run's stores, made empty for it and (PostgreSQL) dropped after it."""
    if kind == "sqlite":
        gateway, tracker = folder / "gateway.db", folder / "tracker.db"
        yield StoreTarget(
            kind, f"sqlite+aiosqlite:///{gateway}", "sqlite", f"sqlite:///{tracker}", f"sqlite:///{gateway}"
        )
        return
    admin = postgres_admin_url()
    if admin is None:
        raise RuntimeError("TEST_POSTGRES_URL is not set: the PostgreSQL crash matrix needs a server")
    prefix = f"crash_{secrets.token_hex(4)}"
    names = (f"{prefix}_gateway", f"{prefix}_tracker")
    _admin(admin, *(f'CREATE DATABASE "{name}"' for name in names))
    try:
        gateway = _database_url(admin, "postgresql+asyncpg", names[0])
        tracker = _database_url(admin, "postgresql", names[1])
        view = _database_url(admin, "postgresql+psycopg2", names[0])
        yield StoreTarget(kind, gateway, "postgresql", tracker, view)
    finally:
        _admin(admin, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


def _database_url(admin: str, driver: str, database: str) -> str:
    """The admin URL's server and credentials, with another driver and database (the password kept, which
    `str(URL)` would mask on SQLAlchemy 2)."""
    return make_url(admin).set(drivername=driver, database=database).render_as_string(hide_password=False)


def _admin(url: str, *statements: str) -> None:
    engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


class StoreView:
    """The harness's reads of the gateway store, and the stall it puts on it."""

    def __init__(self, target: StoreTarget) -> None:
        self._kind = target.kind
        # The stall's connection is taken and given back from different worker threads.
        options = {"check_same_thread": False} if target.kind == "sqlite" else {}
        self._engine = sa.create_engine(target.view_url, poolclass=NullPool, connect_args=options)

    def snapshot(self) -> StoreSnapshot:
        """The store as committed now; before the gateway created its schema, an empty one."""
        if not sa.inspect(self._engine).has_table("messages"):
            return StoreSnapshot({}, frozenset(), ())
        with self._engine.connect() as connection:
            inbound = connection.execute(
                sa.select(messages.c.wamid, messages.c.state, messages.c.created_at).where(
                    messages.c.direction == "inbound"
                )
            ).all()
            outbound = connection.execute(
                sa.select(messages.c.wamid).where(messages.c.direction == "outbound", messages.c.wamid.is_not(None))
            ).scalars()
            bodies = connection.execute(sa.select(inbox.c.body)).scalars().all()
            return StoreSnapshot(
                {r.wamid: InboundRow(r.state, r.created_at) for r in inbound}, frozenset(outbound), tuple(bodies)
            )

    def hold_writes(self) -> Any:
        """Take the store's write lock and keep it (SQLite: the database's; PostgreSQL: the inbox's and the
        messages' tables), so every write of the gateway waits; give the returned connection to `release`."""
        raw = self._engine.raw_connection()
        cursor = raw.cursor()
        if self._kind == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("LOCK TABLE inbox, messages IN SHARE ROW EXCLUSIVE MODE")
        cursor.close()
        return raw

    @staticmethod
    def release(raw: Any) -> None:
        raw.rollback()
        raw.close()

    def close(self) -> None:
        self._engine.dispose()
