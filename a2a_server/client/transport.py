"""JSON-RPC calls and Server-Sent Events streams to one endpoint, over httpx.

The client's errors, translated here where httpx's enter (nothing above sees an httpx error):

    ClientError
     +-- Unreachable   no A2A answer at all: no connection, a timeout, an HTTP error status
     |                 (401, 404, ...), or a body that is not JSON-RPC (`call` exits 3)
     +-- RpcError      the agent answered with a JSON-RPC error (`call` exits 1)

Streams are read as they arrive, event by event: a server may answer a streaming method with
plain JSON (an error found before the first frame) or with an SSE stream whose events are
JSON-RPC responses; both are handled. Comments (keep-alives) are skipped.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

__all__ = ["ClientError", "RpcError", "Transport", "Unreachable", "result_of"]


class ClientError(Exception):
    """Talking to the agent failed; the message says how, in one line."""


class Unreachable(ClientError):
    """No A2A answer: the agent could not be reached or did not speak JSON-RPC."""


class RpcError(ClientError):
    """A JSON-RPC error from the agent."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error {code}: {message}")
        self.code = code


def result_of(body: Any) -> Any:
    """The `result` of a JSON-RPC response, or its error raised as `RpcError`."""
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0":
        raise Unreachable(f"not a JSON-RPC response: {str(body)[:120]}")
    error = body.get("error")
    if isinstance(error, dict):
        raise RpcError(error.get("code", 0), str(error.get("message", "")))
    return body.get("result")


class Transport:
    """One endpoint URL, its headers (protocol version, credentials) and an HTTP client."""

    def __init__(self, url: str, headers: dict[str, str], *, timeout: float = 30.0) -> None:
        self.url = url
        self.headers = headers
        # reads on a stream may wait long (a deferred tool, a slow model): only connecting
        # and unary calls are bounded
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, read=None), headers=headers)
        self.timeout = timeout
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """A unary call: the JSON-RPC response body (an error in it is the caller's to raise)."""
        try:
            response = self.http.post(self.url, json=self._envelope(method, params),
                                      timeout=httpx.Timeout(self.timeout, read=None))
        except httpx.HTTPError as exc:
            raise Unreachable(_why(exc, self.url)) from None
        _check_status(response)
        return _json(response.content, response.headers.get("content-type", ""))

    def stream(self, method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A streaming call: each JSON-RPC response body, as its event arrives."""
        headers = {"Accept": "text/event-stream, application/json"}
        try:
            with self.http.stream("POST", self.url, json=self._envelope(method, params),
                                  headers=headers) as response:
                _check_status(response)
                kind = response.headers.get("content-type", "")
                if not kind.startswith("text/event-stream"):
                    yield _json(response.read(), kind)
                    return
                for data in sse_data(response.iter_lines()):
                    yield _json(data.encode(), "application/json")
        except httpx.HTTPError as exc:
            raise Unreachable(_why(exc, self.url)) from None

    def _envelope(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": f"call-{next(self._ids)}", "method": method, "params": params}


def sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The `data` of each Server-Sent Event in `lines` (multi-line data joined by newlines)."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment: a keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


def _check_status(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    hint = " (give credentials with --api-key or --bearer)" if response.status_code in (401, 403) else ""
    raise Unreachable(f"HTTP {response.status_code} {response.reason_phrase} from {response.url}{hint}")


def _json(content: bytes, content_type: str) -> dict[str, Any]:
    try:
        body = json.loads(content)
    except ValueError:
        raise Unreachable(f"the endpoint answered {content_type or 'something'} that is not JSON") from None
    if not isinstance(body, dict):
        raise Unreachable("the endpoint answered JSON that is not a JSON-RPC response")
    return body


def _why(exc: httpx.HTTPError, url: str) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {url}"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection to {url} broke off"
    return f"{type(exc).__name__} talking to {url}: {exc}"
