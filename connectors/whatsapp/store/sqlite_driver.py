"""SQLAlchemy's aiosqlite adapter, with statements run in the event loop's own thread.

aiosqlite runs every SQLite call on a thread of its own, and SQLAlchemy's adapter makes a separate call for
each step: open a cursor, execute, fetch, close, commit, roll back. Each call is a trip to that thread and
back, which waits for the OS to schedule the thread and for the GIL; in the Rasa server, whose event loop
runs the bot's NLU and policies in 20-40 ms stretches, a trip took from 0.1 ms to over 10 ms, and a
transaction held SQLite's one writer lock across all of its trips. Recording a guest's message took 19
trips: on SQLite the channel added 8 to 25 ms to the bot's answer time, against 2 to 7 ms on PostgreSQL.

A statement on the gateway's small tables takes tens of microseconds, so here it simply runs where it is
called, in the loop's thread: no trips, and a transaction is never stretched by other work. Bulk statements
(an `executemany` of more than `INLINE_ROWS` rows: a batch of statuses, a thousand automation outcomes; or
more than `INLINE_PARAMETERS` parameters: the facts of a thousand guests) still go to aiosqlite's thread, in
one trip: SQLite releases the GIL while it works, so on a second core they run beside the event loop instead
of holding it (inline, they cut the automation sends at 1,000/s from about 95 % of the limit to 60 %).
aiosqlite also opens and closes connections. A commit or rollback with no transaction open on SQLite's side
(after a read, or the rollback SQLAlchemy does on every connection it gets back) is skipped.

What it costs: a long query (a report over months of messages) holds the event loop for as long as it runs,
and a write waiting for another process's write lock waits in the loop (`busy_timeout`); SQLite is the
embedded, single-machine default, and PostgreSQL is the database to scale out.

It leans on pinned internals: SQLAlchemy 1.4's `AsyncAdapt_aiosqlite_*` classes and the sqlite3 connection
aiosqlite keeps. Every store test runs through it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_only

_Outcome = tuple[Any, list[Any], int | None, int]
INLINE_ROWS = 8
"""An `executemany` of more rows than this goes to aiosqlite's thread..."""
INLINE_PARAMETERS = 64
"""...and so does a statement with more parameters than this (an IN list of a thousand guests)."""


def _bulk(parameters: Any, many: bool) -> bool:
    if many:
        return len(parameters) > INLINE_ROWS
    return parameters is not None and len(parameters) > INLINE_PARAMETERS


def _statement(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """Execute, fetch every row, close the cursor: (description, rows, lastrowid, rowcount)."""
    cursor: sqlite3.Cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


async def _done(outcome: _Outcome) -> _Outcome:
    """SQLAlchemy's async engine insists that each statement awaits something: this, which never waits."""
    return outcome


class _InlineCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: str, parameters: Any, many: bool) -> None:
        try:
            if _bulk(parameters, many):
                trip = self._connection._execute(_statement, self._connection, operation, parameters, many)
            else:
                trip = _done(_statement(self._connection, operation, parameters, many))
            outcome = self.await_(trip)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
            return
        description, rows, lastrowid, rowcount = outcome
        self.description = description
        self._rows = rows
        if description:
            self.lastrowid = self.rowcount = -1
        else:
            self.lastrowid, self.rowcount = lastrowid, rowcount


class _InlineConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> Any:
        return super().cursor(server_side) if server_side else _InlineCursor(self)

    def _open(self) -> sqlite3.Connection | None:
        """SQLite's connection when a transaction is open on it; None when there is nothing to end."""
        raw: sqlite3.Connection | None = self._connection._connection
        return raw if raw is not None and raw.in_transaction else None

    def commit(self) -> None:
        raw = self._open()
        if raw is not None:
            try:
                raw.commit()
            except Exception as error:
                self._handle_exception(error)

    def rollback(self) -> None:
        raw = self._open()
        if raw is not None:
            try:
                raw.rollback()
            except Exception as error:
                self._handle_exception(error)


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as `module=` to `create_async_engine` for a `sqlite+aiosqlite` URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> _InlineConnection:
        kwargs.pop("async_fallback", None)
        kwargs["check_same_thread"] = False  # opened on aiosqlite's thread, used in the loop's
        connection = self.aiosqlite.connect(*args, **kwargs)
        connection.daemon = True
        return _InlineConnection(self, await_only(connection))
