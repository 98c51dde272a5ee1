"""`a2a-server call`, run as a person runs it: in a terminal (a pty), against a live server
of ours and the official SDK's. The answer shows while it is generated, tools and tickets as
they happen, and the exit code says how the task ended."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from a2a_server.runner.demo import DemoRunner
from tests.conftest import LiveServer, free_port
from tests.proto import validate_stream_response
from tests.schema import validate_result
from tests.terminal import Terminal

CALL = [sys.executable, "-m", "a2a_server", "call"]
STATE_LINE = r"● (\S+)\s+task (\S+)\s+context (\S+)"


@pytest.fixture
def demo(live_server: Callable[..., LiveServer]) -> LiveServer:
    """Our demo agent, streaming a word every 50 ms, its build settling after half a second."""
    return live_server(runner=DemoRunner(token_delay=0.05, build_seconds=0.5))


@pytest.fixture
def sdk() -> Iterator[LiveServer]:
    """a2a-sdk 1.3.0's server (1.0, and 0.3 through its compat layer) with the echo agent."""
    from conformance.sdk_echo import build_app

    port = free_port()
    server = LiveServer(build_app(f"http://127.0.0.1:{port}/", slow_seconds=30), port)
    server.start()
    yield server
    server.stop()


def call(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`call` with its output to a pipe (no terminal: plain lines)."""
    return subprocess.run([*CALL, *args], capture_output=True, text=True, timeout=60, input=stdin,
                          check=False)


def _working_tasks(url: str) -> list[dict[str, Any]]:
    reply = httpx.post(url, headers={"A2A-Version": "1.0"}, json={
        "jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {"status": "TASK_STATE_WORKING"}})
    return reply.json()["result"]["tasks"]  # type: ignore[no-any-return]


def test_the_answer_streams_into_the_terminal_while_the_task_works(demo: LiveServer) -> None:
    words = " ".join(f"w{i}" for i in range(60))  # about three seconds of streaming
    term = Terminal([*CALL, demo.url, words])
    try:
        term.expect(r"You said: w0 w1 w2 w3 w4 w5")
        assert "w59" not in term.text
        assert len(_working_tasks(demo.url)) == 1, "the text arrived before the turn ended"
        assert term.wait() == 0
        state = re.search(STATE_LINE, term.text)
        assert state and state.group(1) == "completed", term.text
        assert "w58 w59" in term.text
        assert "\x1b[" in term.raw, "a terminal gets rich's rendering"
    finally:
        term.close()


def test_tools_and_tickets_appear_as_lines_in_order(demo: LiveServer) -> None:
    term = Terminal([*CALL, demo.url, "build website"])
    try:
        term.expect(r"⏳ build-\w+ pending \(build")
        assert "Build of website finished" not in term.text  # the ticket is still pending
        term.expect(r"✓ build-\w+ resolved \(build\)")
        assert term.wait() == 0
        text = term.text
        order = [text.index(s) for s in ("· step 1", "⚙ build", "⏳ build-", "Started building",
                                         "▸ build result", "✓ build-", "Build of website finished", "● completed")]
        assert order == sorted(order), text
    finally:
        term.close()


def test_exit_codes(demo: LiveServer) -> None:
    done = call(demo.url, "calc 12*(3+4)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:4] == [
        "[step] 1", '[tool] calculator {"expression": "12*(3+4)"}',
        '[tool] calculator ok → {"value": 84}', "12*(3+4) = 84"]
    assert "\x1b" not in done.stdout, "no escape codes into a pipe"
    failed = call(demo.url, "fail")
    assert failed.returncode == 1 and "[failed] The demo agent was asked to fail" in failed.stdout
    asked = call(demo.url, "ask me")
    assert asked.returncode == 2 and "[input-required] Happy to. What should I call you?" in asked.stdout
    unreachable = call(f"http://127.0.0.1:{free_port()}", "hello")
    assert unreachable.returncode == 3 and "could not connect" in unreachable.stderr
    broken = call(demo.url, "broken tool")
    assert broken.returncode == 0 and "[tool] broken failed: the broken tool always fails" in broken.stdout


def test_ctrl_c_cancels_the_task_and_exits_1(demo: LiveServer) -> None:
    term = Terminal([*CALL, demo.url, " ".join(f"w{i}" for i in range(200))])
    try:
        term.expect(r"w3 w4")
        term.interrupt()
        assert term.wait() == 1
        assert re.search(r"● canceled\s+task", term.text), term.text
    finally:
        term.close()


def test_json_prints_the_raw_frames_one_per_line(demo: LiveServer) -> None:
    done = call(demo.url, "--json", "time")
    assert done.returncode == 0
    bodies = [json.loads(line) for line in done.stdout.splitlines()]
    for body in bodies:
        validate_stream_response(body["result"])
    assert "task" in bodies[0]["result"]
    assert bodies[-1]["result"]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert any("tool_started" in json.dumps(b) for b in bodies)
    old = call(demo.url, "--json", "--protocol", "0.3", "hello")
    frames = [json.loads(line)["result"] for line in old.stdout.splitlines()]
    for frame in frames:
        validate_result(frame)
    assert frames[-1]["final"] is True and frames[-1]["status"]["state"] == "completed"
    sent = call(demo.url, "--json", "--send", "hello")
    (only,) = sent.stdout.splitlines()
    assert json.loads(only)["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"


def test_task_and_context_continue_where_they_were(demo: LiveServer) -> None:
    asked = call(demo.url, "ask me")
    task_id = re.search(r"\[input-required\] task (\S+)", asked.stdout).group(1)  # type: ignore[union-attr]
    answered = call(demo.url, "--task", task_id, "Ada")
    assert answered.returncode == 0
    assert "Nice to meet you, Ada!" in answered.stdout
    assert "What should I call you" not in answered.stdout, "the earlier turn is not shown again"
    first = call(demo.url, "--protocol", "0.3", "my name is Grace")
    context = re.search(r"context (\S+)", first.stdout).group(1)  # type: ignore[union-attr]
    second = call(demo.url, "--context", context, "what is my name")
    assert "Your name is Grace." in second.stdout and f"context {context}" in second.stdout


def test_send_waits_for_a_deferred_ticket(demo: LiveServer) -> None:
    for protocol in ("1.0", "0.3"):
        done = call(demo.url, "--send", "--protocol", protocol, "build website")
        assert done.returncode == 0, done.stderr
        assert "Started building website" in done.stdout
        assert "Build of website finished: success." in done.stdout
        assert done.stdout.count("Started building") == 1, "polling shows only what is new"


def test_text_from_stdin(demo: LiveServer) -> None:
    done = call(demo.url, "-", stdin="hello from a pipe\n")
    assert "You said: hello from a pipe" in done.stdout


def test_chat_keeps_the_context_and_answers_questions_in_place(demo: LiveServer) -> None:
    term = Terminal([*CALL, demo.url])
    try:
        term.expect(r"try: time · calc 12\*\(3\+4\)")
        term.expect("you› ")
        term.type("my name is Ada\r")
        term.expect(r"I will remember that\.")
        term.expect(r"(?s)● completed.*you› ")
        term.type("ask me\r")
        term.expect(r"\? Happy to\. What should I call you\?")
        term.expect(r"(?s)● input-required.*you› ")
        term.type("Countess\r")
        term.expect("Nice to meet you, Countess!")
        term.expect(r"(?s)Countess!.*● completed.*you› ")
        term.type("what is my name\r")
        term.expect(r"Your name is Ada\.")
        term.type("/quit\r")
        assert term.wait() == 0
        contexts = set(re.findall(r"context (\S+)", term.text))
        assert len(contexts) == 1, "one conversation"
    finally:
        term.close()


def test_against_the_official_sdk_server(sdk: LiveServer) -> None:
    for protocol in ("1.0", "0.3"):
        term = Terminal([*CALL, sdk.url, "--protocol", protocol, "hello sdk"])
        try:
            term.expect("echo: hello sdk")
            assert term.wait() == 0
            assert re.search(r"● completed\s+task", term.text), term.text
        finally:
            term.close()
    asked = call(sdk.url, "conformance:input-required")
    assert asked.returncode == 2 and "What is your answer?" in asked.stdout
    task_id = re.search(r"\[input-required\] task (\S+)", asked.stdout).group(1)  # type: ignore[union-attr]
    answered = call(sdk.url, "--task", task_id, "42")
    assert answered.returncode == 0 and "echo: 42" in answered.stdout
    frames = call(sdk.url, "--json", "hi")
    for line in frames.stdout.splitlines():
        validate_stream_response(json.loads(line)["result"])
    slow = Terminal([*CALL, sdk.url, "slow one"])  # the SDK's echo waits 30 s: Ctrl-C cancels it
    try:
        deadline = time.monotonic() + 10
        while not _working_tasks(sdk.url):
            assert time.monotonic() < deadline, slow.text
            time.sleep(0.05)
        slow.interrupt()
        assert slow.wait() == 1
        assert re.search(r"● canceled\s+task", slow.text), slow.text
    finally:
        slow.close()
