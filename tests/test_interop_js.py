"""Interoperability: the official TypeScript client, @a2a-js/sdk 1.3.0 from the npm registry,
in its default mode, against our server over real HTTP.

Its default client refused our 0.3-only card outright ("No compatible transport found"): it
reads only `supportedInterfaces`. `tests/js/tour.mjs` drives every method through it (send,
get, list, a stream with tool events, push configs, resubscribe, cancel, errors) and prints
one JSON line per step, checked here; the webhook it registers is a real receiver. The npm
packages come from `npm ci` in tests/js (.ci/run does it).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from a2a_server.runner.demo import DemoRunner
from tests.conftest import LiveServer, free_port, wait_for
from tests.proto import validate_stream_response, validate_v1
from tests.receiver import Receiver

pytestmark = pytest.mark.anyio

HERE = Path(__file__).parent / "js"


def _node_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "@a2a-js" / "sdk").exists():
        return "run `npm ci` in tests/js (.ci/run does) to install @a2a-js/sdk"
    return None


async def _tour(base: str, slow: str, webhook: str) -> dict[str, dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(HERE / "tour.mjs"), base, slow, webhook,
        cwd=HERE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    steps = {line["step"]: line for line in map(json.loads, out.decode().splitlines())}
    assert proc.returncode == 0 and "done" in steps, (steps.get("failed"), err.decode()[-2000:])
    return steps


async def test_the_typescript_client_in_its_default_mode(
    live_server: Callable[..., LiveServer],
) -> None:
    reason = _node_ready()
    if reason:
        pytest.skip(reason)
    receiver = Receiver()
    hooks = LiveServer(receiver.app, free_port())
    hooks.start()
    try:
        # "build ..." parks its task working on a deferred build for a minute
        server = live_server(runner=DemoRunner(token_delay=0.001, build_seconds=60),
                             coalesce_ms=0, push_allow_hosts="127.0.0.1")
        steps = await _tour(server.url, "build site", f"{hooks.url}/js")
        await wait_for(lambda: _got(receiver, "/js"))  # the cancel was pushed, as 1.0 wants it
    finally:
        hooks.stop()

    assert steps["transport"] == {"step": "transport", "name": "JsonRpcTransport", "version": "1.0"}
    sent = steps["send"]["task"]
    validate_v1("Task", sent)
    assert sent["status"]["state"] == "TASK_STATE_COMPLETED"
    assert "".join(p["text"] for a in sent["artifacts"] for p in a["parts"]) == "2+3*4 = 14"
    assert len(steps["get"]["task"]["history"]) == 1
    listed = steps["list"]  # a page of one, newest first: the streamed task
    assert listed["ids"] == [steps["stream"]["events"][0]["task"]["id"]]
    assert listed["next"] and listed["total"] == 2

    events = steps["stream"]["events"]
    for event in events:
        validate_stream_response(event)
    assert next(iter(events[0])) == "task"
    assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    tools = [p["data"]["type"] for e in events if "statusUpdate" in e
             for p in e["statusUpdate"]["status"].get("message", {}).get("parts", []) if "data" in p]
    assert ["tool_started", "tool_completed"] == [t for t in tools if t.startswith("tool_")]

    push = steps["push"]
    assert push["created"]["authentication"] == {"scheme": "Bearer", "credentials": "js-secret"}
    assert push["got"] == push["created"] and push["listed"] == ["js"]

    cancel = steps["cancel"]
    assert cancel["task"]["status"]["state"] == "TASK_STATE_CANCELED"
    resubscribed = cancel["resubscribed"]
    assert next(iter(resubscribed[0])) == "task"
    assert resubscribed[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_CANCELED"
    pushed = receiver.at("/js")[-1]
    assert pushed.headers["authorization"] == "Bearer js-secret"
    validate_stream_response(pushed.task)

    errors = steps["errors"]
    assert (errors["get"]["name"], errors["get"]["code"]) == ("TaskNotFoundError", -32001)
    assert (errors["cancel"]["name"], errors["cancel"]["code"]) == ("TaskNotCancelableError", -32002)
    assert errors["subscribe"]["name"] == "UnsupportedOperationError"


async def _got(receiver: Receiver, path: str) -> bool:
    return bool(receiver.at(path))
