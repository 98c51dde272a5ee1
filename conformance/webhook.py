"""A webhook receiver of the suite's own (`--webhook-host HOST`), so the push checks can see
what an agent delivers: the path, headers and body of each POST.

Optional: the agent under test must be able to reach HOST, which the suite cannot know, so
without the option the delivery checks are skipped. A plain asyncio server (one request per
connection, answered 200), because the suite needs nothing more and must not pull in a web
framework for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

__all__ = ["Delivery", "Webhook"]


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class Webhook:
    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def wait(self, path: str, seconds: float) -> Delivery | None:
        """The first delivery to `path`, waiting up to `seconds` for it."""
        async with self._arrived:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait_for(lambda: self._first(path) is not None), seconds)
            return self._first(path)

    def _first(self, path: str) -> Delivery | None:
        return next((d for d in self.deliveries if d.path == path), None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            headers = {}
            for line in lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body = await _read_chunked(reader)
            else:
                body = await reader.readexactly(int(headers.get("content-length") or 0))
            path = request_line.split(" ")[1] if request_line.count(" ") >= 2 else "/"
            async with self._arrived:
                self.deliveries.append(Delivery(path, headers, body))
                self._arrived.notify_all()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, ConnectionError):
            pass  # a broken request is no delivery
        finally:
            writer.close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readline()
