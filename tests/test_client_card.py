"""`a2a-server card URL`: any agent's card found, checked against both versions' shapes with
the project's own models (the CLI ships without the official schema), and shown readably
with every problem and its field path."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from a2a_server.app import public_card
from a2a_server.client.cards import card_problems
from a2a_server.runner.demo import DemoRunner
from a2a_server.settings import Settings
from conformance.checks.v1_card import ONLY_0_3
from tests.conftest import LiveServer, free_port
from tests.proto import validate_v1
from tests.schema import validate
from tests.terminal import Terminal

CARD = [sys.executable, "-m", "a2a_server", "card"]


def card_cmd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "A2A_SPEC_DIR": "/nonexistent"}  # as a user has it: no ../shared
    return subprocess.run([*CARD, *args], capture_output=True, text=True, timeout=60, env=env,
                          cwd=cwd, check=False)


@pytest.fixture
def serve_cards() -> Iterator[Callable[..., LiveServer]]:
    """A small real server answering the card paths with the given JSON (None: 404)."""
    started: list[LiveServer] = []

    def start(card: Any = None, legacy: Any = None) -> LiveServer:
        def answer(body: Any) -> Any:
            async def endpoint(request: Any) -> JSONResponse:
                return JSONResponse(body, status_code=200 if body is not None else 404)
            return endpoint

        app = Starlette(routes=[Route("/.well-known/agent-card.json", answer(card)),
                                Route("/.well-known/agent.json", answer(legacy))])
        server = LiveServer(app, free_port())
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _ours(form: str = "merged") -> dict[str, Any]:
    return public_card(Settings(card_format=form), DemoRunner())


def _broken() -> dict[str, Any]:
    card = copy.deepcopy(_ours())
    del card["skills"][1]["tags"]
    del card["supportedInterfaces"][0]["protocolVersion"]
    card["capabilities"]["streaming"] = "yes"
    card["iconUrl"] = 7
    return card


def test_our_cards_have_no_problems() -> None:
    for form in ("merged", "1.0", "0.3"):
        assert card_problems(_ours(form)) == [], form


def test_every_problem_is_listed_with_its_path() -> None:
    found = {(p.version, p.path, p.message) for p in card_problems(_broken())}
    assert ("0.3", "skills[1].tags", "required, missing") in found
    assert ("1.0", "skills[1].tags", "required, missing") in found
    assert ("1.0", "supportedInterfaces[0].protocolVersion", "required, missing") in found
    assert ("0.3", "capabilities.streaming", "Input should be a valid boolean") in found
    assert ("1.0", "iconUrl", "Input should be a valid string") in found
    # the official schema and the proto reject the same card (the models are faithful)
    with pytest.raises(AssertionError):
        validate("AgentCard", _broken())
    with pytest.raises(AssertionError):
        validate_v1("AgentCard", {k: v for k, v in _broken().items() if k not in ONLY_0_3})


def test_a_field_of_the_other_version_is_a_problem_only_where_it_does_not_belong() -> None:
    v1 = _ours("1.0")
    v1["security"] = [{"apiKey": []}]  # a 0.3 field in a card with no 0.3 part
    assert [(p.version, p.path) for p in card_problems(v1)] == [("1.0", "security")]
    assert [p.path for p in card_problems({"name": "x"})] == ["(root)"]
    assert card_problems([1]) and card_problems([1])[0].message == "the card is not a JSON object"


def test_card_of_our_server(live_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = live_server(runner=DemoRunner())
    done = card_cmd(server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"card: {server.url}/.well-known/agent-card.json" in out
    assert "name: a2a-server demo agent" in out
    assert f"JSONRPC 1.0: {server.url}/" in out and f"JSONRPC 0.3: {server.url}/" in out
    assert "Calculator (calculator): Evaluates arithmetic" in out and "try: calc 12*(3+4)" in out
    assert "valid 0.3 card" in out and "valid 1.0 card" in out
    as_json = json.loads(card_cmd(server.url, "--json").stdout)
    assert as_json["problems"] == [] and as_json["card"]["name"] == DemoRunner.name


def test_card_of_the_official_sdk_server() -> None:
    from conformance.sdk_echo import build_app

    port = free_port()
    server = LiveServer(build_app(f"http://127.0.0.1:{port}/"), port)
    server.start()
    try:
        done = card_cmd(server.url)
        assert done.returncode == 0, done.stdout
        assert "name: SDK Echo Agent" in done.stdout and "valid 1.0 card" in done.stdout
    finally:
        server.stop()


def test_a_broken_card_lists_its_problems_and_exits_1(serve_cards: Callable[..., LiveServer]) -> None:
    server = serve_cards(_broken())
    done = card_cmd(server.url)
    assert done.returncode == 1
    assert "problem (0.3) skills[1].tags: required, missing" in done.stdout
    assert "problem (1.0) supportedInterfaces[0].protocolVersion: required, missing" in done.stdout
    assert "valid" not in done.stdout.replace("Input should be a valid", "")
    problems = json.loads(card_cmd(server.url, "--json").stdout)["problems"]
    assert {"version": "1.0", "path": "skills[1].tags", "message": "required, missing"} in problems


def test_the_legacy_path_and_no_card(serve_cards: Callable[..., LiveServer]) -> None:
    legacy = serve_cards(card=None, legacy=_ours("0.3"))
    done = card_cmd(legacy.url)
    assert done.returncode == 0 and "/.well-known/agent.json" in done.stdout
    assert "valid 0.3 card" in done.stdout and "1.0 card" not in done.stdout
    none = card_cmd(serve_cards().url)
    assert none.returncode == 3 and "no agent card" in none.stderr
    assert card_cmd(f"http://127.0.0.1:{free_port()}").returncode == 3


def test_card_in_a_terminal(serve_cards: Callable[..., LiveServer]) -> None:
    term = Terminal([*CARD, serve_cards(_broken()).url])
    try:
        assert term.wait() == 1
        assert "✗ 1.0 supportedInterfaces[0].protocolVersion: required, missing" in term.text
        assert "Skills" in term.text and "\x1b[" in term.raw
    finally:
        term.close()
    term = Terminal([*CARD, serve_cards(_ours()).url])
    try:
        assert term.wait() == 0
        assert "✓ valid 0.3 card" in term.text and "✓ valid 1.0 card" in term.text
    finally:
        term.close()


def test_the_client_needs_no_server() -> None:
    """The client package imports without starlette (nor any server module)."""
    code = ("import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
            "import a2a_server.client.commands, a2a_server.client.session, a2a_server.client.cards\n"
            "from a2a_server.client.cards import card_problems\n"
            "assert card_problems({'name': 'x', 'url': 'u'})\n"
            "assert not [m for m in sys.modules if m.startswith('a2a_server.') and not m.startswith('a2a_server.client')"
            " and m != 'a2a_server.extensions']\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
