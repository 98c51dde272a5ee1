"""The agent card: valid against the official schema, honest, served at both paths."""

from __future__ import annotations

import pytest

from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.demo import DemoRunner
from tests.conftest import in_process
from tests.schema import validate

pytestmark = pytest.mark.anyio


async def test_card_paths_and_schema() -> None:
    async with in_process(port=8123) as client:
        modern = await client.get("/.well-known/agent-card.json")
        legacy = await client.get("/.well-known/agent.json")
        assert modern.status_code == legacy.status_code == 200
        assert modern.headers["content-type"] == "application/json"
        card = modern.json()
        assert legacy.json() == card
        validate("AgentCard", card)
        assert card["protocolVersion"] == "0.3.0"
        assert card["preferredTransport"] == "JSONRPC"
        assert card["url"] == "http://127.0.0.1:8123/"
        assert card["capabilities"]["streaming"] is True
        assert card["capabilities"]["pushNotifications"] is True
        assert card["supportsAuthenticatedExtendedCard"] is False
        examples = [e for s in card["skills"] for e in s.get("examples", [])]
        for prompt in ("time", "calc 12*(3+4)", "build website", "broken tool", "ask me", "fail"):
            assert prompt in examples


async def test_public_url_is_the_card_url_and_an_rpc_path() -> None:
    async with in_process(public_url="https://agents.example.com/a2a/v1") as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        assert card["url"] == "https://agents.example.com/a2a/v1"
        assert card["additionalInterfaces"] == [{"url": card["url"], "transport": "JSONRPC"}]
        for path in ("/", "/a2a/v1"):
            body = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}
            assert (await client.post(path, json=body)).json()["error"]["code"] == -32001


async def test_card_names_and_skills_come_from_runner_and_settings() -> None:
    async with in_process(runner=ConformanceRunner(), agent_name="Probe", agent_version="9.9") as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        validate("AgentCard", card)
        assert card["name"] == "Probe" and card["version"] == "9.9"
        assert [s["id"] for s in card["skills"]] == ["conformance"]
    async with in_process(runner=DemoRunner()) as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        assert card["name"] == DemoRunner.name


async def test_health_and_unknown_routes() -> None:
    async with in_process() as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/")).status_code == 405
        assert (await client.get("/nope")).status_code == 404
