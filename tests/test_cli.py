"""The console script, settings from flags and environment, and loading user runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from a2a_server.cli import main
from a2a_server.runner.demo import DemoRunner
from a2a_server.runner.loader import RunnerLoadError, load_runner
from a2a_server.settings import Settings
from tests.conftest import free_port

# what MODULE:ATTR loading finds in this module
factory = DemoRunner
instance = DemoRunner(token_delay=0)
not_a_runner = object()


def test_settings_env_then_overrides() -> None:
    env = {"A2A_SERVER_PORT": "9001", "A2A_SERVER_LENIENT_MESSAGES": "true", "A2A_SERVER_COALESCE_MS": "0"}
    s = Settings.from_env(env)
    assert (s.port, s.lenient_messages, s.coalesce_ms) == (9001, True, 0.0)
    assert Settings.from_env(env, port=9002, lenient_messages=None).port == 9002
    with pytest.raises(ValueError, match="A2A_SERVER_PORT"):
        Settings.from_env({"A2A_SERVER_PORT": "eighty"})
    with pytest.raises(ValueError, match="true or false"):
        Settings.from_env({"A2A_SERVER_LENIENT_MESSAGES": "maybe"})


def test_rpc_url() -> None:
    assert Settings(host="0.0.0.0", port=80).rpc_url == "http://127.0.0.1:80/"
    assert Settings(host="::1", port=80).rpc_url == "http://[::1]:80/"
    assert Settings(public_url="https://x.example/a2a").rpc_url == "https://x.example/a2a"


def test_load_runner() -> None:
    assert isinstance(load_runner("demo"), DemoRunner)
    assert isinstance(load_runner("tests.test_cli:factory"), DemoRunner)
    assert load_runner("tests.test_cli:instance") is instance
    for bad, why in [
        ("nope", "MODULE:ATTR"),
        ("tests.nothing_here:x", "cannot import"),
        ("tests.test_cli:missing", "no attribute"),
        ("tests.test_cli:not_a_runner", "not a runner"),
    ]:
        with pytest.raises(RunnerLoadError, match=why):
            load_runner(bad)


def test_card_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card", "--port", "9100", "--agent", "conformance"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["url"] == "http://127.0.0.1:9100/"
    assert card["skills"][0]["id"] == "conformance"


def test_bad_agent_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card", "--agent", "no.such.module:x"]) == 2
    assert "cannot import" in capsys.readouterr().err


def test_serve_command_end_to_end(tmp_path: Path) -> None:
    """`a2a-server serve` as a user runs it: env for the port, then a real request (in a
    folder of its own: the default store is a2a-server.db in the working directory)."""
    port = free_port()
    env = {**os.environ, "A2A_SERVER_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "a2a_server", "serve", "--agent", "demo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                card = httpx.get(f"{url}/.well-known/agent-card.json").json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("server did not start") from None
                time.sleep(0.1)
        assert card["url"] == f"{url}/"
        body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": {
            "kind": "message", "role": "user", "messageId": "cli-1", "parts": [{"kind": "text", "text": "calc 6*7"}]}}}
        task = httpx.post(url, json=body, timeout=30).json()["result"]
        assert task["status"]["state"] == "completed"
        assert task["artifacts"][0]["parts"][0]["text"] == "6*7 = 42"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_readme_lists_every_setting() -> None:
    """The settings table in the README names every flag, with its environment variable."""
    import dataclasses
    from pathlib import Path

    from a2a_server.settings import Settings, env_name

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for f in dataclasses.fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        assert f"| `{flag}` | `{env_name(f.name)}` |" in readme, f"README: no row for {flag}"
