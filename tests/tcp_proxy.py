"""A loopback TCP proxy a test can cut and restore: a database server "going away" without touching it.

The PostgreSQL server is shared by every test (and by people working beside them), so an outage cannot be
made by stopping it. The gateway is pointed at this proxy instead, and `cut` does what a server that went
away does to its clients: every open connection is dropped at once (in the middle of a query if one is
under way) and new ones are refused, until `restore` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["TcpProxy"]

CHUNK_BYTES = 64 * 1024


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`, byte for byte, until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def is_cut(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        """Listen on a free port (the first time) or on the same port again (after a cut)."""
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections (nothing listens any more) and drop every open one, both ways."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def restore(self) -> None:
        """Accept connections again, on the port the client was given."""
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """One client connection: open its own connection to the target and copy bytes both ways until
        either side closes (or `cut` aborts both)."""
        self.accepted += 1
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        self._writers.add(client_writer)
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
            except OSError:
                client_writer.transport.abort()
                return
            self._writers.add(server_writer)
            try:
                await asyncio.gather(
                    _copy(client_reader, server_writer), _copy(server_reader, client_writer), return_exceptions=True
                )
            finally:
                self._writers.discard(server_writer)
                server_writer.transport.abort()
        finally:
            self._writers.discard(client_writer)
            client_writer.transport.abort()
            self._links.discard(task)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then close the other side too (half-open links keep nothing alive)."""
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await reader.read(CHUNK_BYTES):
            writer.write(chunk)
            await writer.drain()
    writer.transport.abort()
