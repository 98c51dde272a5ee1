"""Reviewer repros for runner/openai.py."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from a2a_server.runner.tools import Deferred, tool
from tests.client import rpc, send
from tests.conftest import in_process, wait_for
from tests.fake_openai import Calls, Text
from tests.test_openai_runner import fake, runner  # noqa: F401

pytestmark = pytest.mark.anyio


def _check_openai_transcript(messages: list[dict[str, Any]]) -> None:
    """OpenAI's rule: an assistant message with tool_calls must be followed by one tool
    message per tool_call_id before anything else."""
    for i, m in enumerate(messages):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            want = {c["id"] for c in m["tool_calls"]}
            got = set()
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                got.add(messages[j]["tool_call_id"])
                j += 1
            assert got == want, f"assistant tool_calls {sorted(want)} answered by {sorted(got)}"


async def test_resume_after_deferred_keeps_every_tool_message(fake) -> None:  # noqa: F811
    server, url = fake
    release = asyncio.Event()

    @tool
    def start_build(target: str) -> Deferred:
        """Starts a build."""
        async def work() -> str:
            await release.wait()
            return "green"
        return Deferred(work=work)

    @tool
    def lookup(q: str) -> str:
        """Looks something up."""
        return f"found {q}"

    server.add(
        # the deferred call comes first, an ordinary call second, in one step
        Calls([("start_build", '{"target": "docs"}'), ("lookup", '{"q": "x"}')]),
        Text(["Building."]),
        Text(["Green."]),
    )
    async with in_process(runner=runner(url, [start_build, lookup])) as client:
        task = await send(client, "build and look up")
        assert task["status"]["state"] == "working"
        _check_openai_transcript(server.messages(1))  # the step after the tools: fine
        release.set()

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] in ("completed", "failed") else None

        await wait_for(done)
    print(json.dumps(server.messages(2)[-3:], indent=1))
    _check_openai_transcript(server.messages(2))  # the resume turn's request


async def test_parked_transcript_is_forgotten_when_the_task_ends(fake) -> None:  # noqa: F811
    server, url = fake

    @tool
    def approve(amount: int) -> Deferred:
        """Ask a human."""
        return Deferred()

    r = runner(url, [approve])
    server.add(Calls([("approve", '{"amount": 1}')]), Text(["Waiting."]))
    async with in_process(runner=r) as client:
        task = await send(client, "pay")
        assert task["status"]["state"] == "working"
        canceled = (await rpc(client, "tasks/cancel", {"id": task["id"]}))["result"]
        assert canceled["status"]["state"] == "canceled"
    print("parked after cancel:", list(r._parked))
    assert task["id"] not in r._parked, "the canceled task's transcript stays in memory forever"
