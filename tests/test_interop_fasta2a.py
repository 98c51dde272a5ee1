"""Interoperability: the client of fasta2a 2.1.1 (Pydantic's A2A package) against our
server over real HTTP: it fetches and validates our card, sends, streams and gets.

It speaks a pre-1.0 draft dialect: 0.3 method names, kind-less parts, results looked for in
1.0's wrappers (see `a2a_server/protocol/draft.py`). Before, it rejected our card (skills
without inputModes/outputModes, no supportedInterfaces) and we refused its kind-less parts
with -32602; and a plain 0.3 answer reads as an empty result in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fasta2a.client import A2AClient
from fasta2a.schema import Message

from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio


def _message(text: str) -> Message:
    return Message(role="user", parts=[{"text": text}], message_id=str(uuid.uuid4()))


async def test_fasta2a_client_fetches_the_card_sends_streams_and_gets(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(coalesce_ms=0)
    client = A2AClient(server.url, fetch_card=True)  # validates our card with its own model
    assert client.agent_card["name"] == "a2a-server demo agent"
    assert str(client.http_client.base_url).rstrip("/") == server.url

    sent = await client.send_message(_message("calc 2+3*4"))
    task = sent["result"]["task"]
    assert task["status"]["state"] == "completed"
    answer = "".join(p["text"] for a in task["artifacts"] for p in a["parts"])
    assert answer == "2+3*4 = 14"

    events = [event["result"] async for event in client.stream_message(_message("time"))]
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "task" and kinds[-1] == "status_update", kinds
    assert "artifact_update" in kinds
    assert events[-1]["status_update"]["status"]["state"] == "completed"
    streamed = "".join(p["text"] for e in events if "artifact_update" in e
                       for p in e["artifact_update"]["artifact"]["parts"])
    assert streamed.startswith("It is ")

    got = await client.get_task(task["id"])
    assert got["result"]["id"] == task["id"] and got["result"]["status"]["state"] == "completed"
    unknown = await client.get_task(str(uuid.uuid4()))
    assert unknown["error"] == {"code": -32001, "message": "Task not found"}
    await client.http_client.aclose()
