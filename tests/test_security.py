"""Security over real HTTP (issue 13): every method of both versions, both stream kinds, the
ticket and push methods, under every kind of credential; a second principal on every id of
the first's; the ticket principals; the extended card; the card's schemes.

One server for the module (uvicorn on 127.0.0.1, a thread of its own) with API keys and
bearer JWTs (a JWKS file of a key pair the tests generate) both configured, a required
scope, a ticket principal and an extended card.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from a2a_server import Settings, create_app
from tests.client import V1, answer_text, check_response, parse_sse_block, rpc
from tests.conftest import LiveServer, fast_demo, free_port
from tests.jwts import AUDIENCE, ISSUER, SCOPE, KeyPair, new_key, write_api_keys, write_jwks
from tests.proto import validate_v1
from tests.schema import validate

pytestmark = pytest.mark.anyio

_n = itertools.count(1)


@dataclass
class World:
    url: str
    keys: dict[str, str]  # principal -> API key
    trusted: KeyPair
    unknown: KeyPair
    task: dict[str, Any]  # alice's: auth-required, its consent ticket pending, a push config
    ticket: str
    cancel_tasks: list[str]  # alice's, one per valid cancel call
    settle_tickets: dict[str, str]  # method -> a pending ticket of alice's for it
    context: str  # alice's context in which she said her name

    def auth(self, principal: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[principal]}


def _post(url: str, method: str, params: Any, headers: dict[str, str], version: str = "0.3") -> dict[str, Any]:
    if version == "1.0":
        headers = {**V1, **headers}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    response = httpx.post(url + "/", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _message(text: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "message", "role": "user", "messageId": f"sec-{next(_n)}",
            "parts": [{"kind": "text", "text": text}], **extra}


def _message_v1(text: str, **extra: Any) -> dict[str, Any]:
    return {"role": "ROLE_USER", "messageId": f"sec-{next(_n)}", "parts": [{"text": text}], **extra}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("security")
    keys = {"alice": new_key(), "bob": new_key(), "ci": new_key()}
    trusted, unknown = KeyPair.new("trusted"), KeyPair.new("unknown")
    extended = folder / "extended.json"
    extended.write_text(json.dumps({
        "description": "The demo agent, with what only callers who sign in see.",
        "skills": [{"id": "vault", "name": "Vault", "description": "Reads the vault.", "tags": ["private"]}],
    }))
    port = free_port()
    settings = Settings(
        port=port, store=f"sqlite:///{folder}/tasks.db",
        api_keys=str(write_api_keys(folder / "keys.txt", keys)),
        jwt_jwks=str(write_jwks(folder / "jwks.json", trusted)), jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE, jwt_required_scope=SCOPE, ticket_principals="ci",
        extended_card=str(extended), push_allow_hosts="127.0.0.1",
        rate_limit=0, max_streams=0, max_pending_tasks=0,
    )
    server = LiveServer(create_app(settings, fast_demo()), port)
    server.start()
    try:
        alice = {"X-API-Key": keys["alice"]}

        def consent_task() -> dict[str, Any]:
            task = _post(server.url, "message/send", {"message": _message("connect calendar")}, alice)["result"]
            assert task["status"]["state"] == "auth-required", task
            return task  # type: ignore[no-any-return]

        task = consent_task()
        config = {"id": "cfg", "url": "http://127.0.0.1:9/hook",
                  "authentication": {"schemes": ["Bearer"], "credentials": "push-secret"}}
        _post(server.url, "tasks/pushNotificationConfig/set", {"taskId": task["id"], "pushNotificationConfig": config}, alice)
        named = _post(server.url, "message/send", {"message": _message("my name is Ada")}, alice)["result"]
        settle = {}
        for method in ("a2aserver.tickets/resolve", "a2aserver.tickets/fail"):
            settle[method] = "consent-" + consent_task()["id"]
        cancels = [consent_task()["id"] for _ in range(4)]
        yield World(server.url, keys, trusted, unknown, task, "consent-" + task["id"], cancels, settle,
                    named["contextId"])
    finally:
        server.stop()


# -- the table -----------------------------------------------------------------------------

STREAMS = frozenset({"message/stream", "tasks/resubscribe", "SendStreamingMessage", "SubscribeToTask"})
V1_METHODS = frozenset({
    "SendMessage", "SendStreamingMessage", "GetTask", "ListTasks", "CancelTask", "SubscribeToTask",
    "CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig", "GetExtendedAgentCard",
})
_cancels = itertools.count()


def _params(method: str, w: World) -> Any:
    """Params with which `method` succeeds for alice."""
    tid = w.task["id"]
    return {
        "message/send": {"message": _message("hello")},
        "message/stream": {"message": _message("hello")},
        "tasks/get": {"id": tid},
        "tasks/cancel": lambda: {"id": w.cancel_tasks[next(_cancels)]},
        "tasks/resubscribe": {"id": tid},
        "tasks/pushNotificationConfig/set": {"taskId": tid, "pushNotificationConfig": {"id": "other", "url": "http://127.0.0.1:9/x"}},
        "tasks/pushNotificationConfig/get": {"id": tid, "pushNotificationConfigId": "cfg"},
        "tasks/pushNotificationConfig/list": {"id": tid},
        "tasks/pushNotificationConfig/delete": {"id": tid, "pushNotificationConfigId": "other"},
        "agent/getAuthenticatedExtendedCard": None,
        "SendMessage": {"message": _message_v1("hello")},
        "SendStreamingMessage": {"message": _message_v1("hello")},
        "GetTask": {"id": tid},
        "ListTasks": {},
        "CancelTask": lambda: {"id": w.cancel_tasks[next(_cancels)]},
        "SubscribeToTask": {"id": tid},
        "CreateTaskPushNotificationConfig": {"taskId": tid, "id": "other1", "url": "http://127.0.0.1:9/y"},
        "GetTaskPushNotificationConfig": {"taskId": tid, "id": "cfg"},
        "ListTaskPushNotificationConfigs": {"taskId": tid},
        "DeleteTaskPushNotificationConfig": {"taskId": tid, "id": "other1"},
        "GetExtendedAgentCard": {},
        "a2aserver.tickets/list": {"taskId": tid},
        "a2aserver.tickets/get": {"ticketId": w.ticket},
        "a2aserver.tickets/resolve": {"ticketId": w.settle_tickets["a2aserver.tickets/resolve"], "output": {"ok": True}},
        "a2aserver.tickets/fail": {"ticketId": w.settle_tickets["a2aserver.tickets/fail"], "error": "declined"},
    }[method]


METHODS = [
    "message/send", "message/stream", "tasks/get", "tasks/cancel", "tasks/resubscribe",
    "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
    "tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete",
    "agent/getAuthenticatedExtendedCard",
    "SendMessage", "SendStreamingMessage", "GetTask", "ListTasks", "CancelTask", "SubscribeToTask",
    "CreateTaskPushNotificationConfig", "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs", "DeleteTaskPushNotificationConfig", "GetExtendedAgentCard",
    "a2aserver.tickets/list", "a2aserver.tickets/get", "a2aserver.tickets/resolve", "a2aserver.tickets/fail",
]


def _credentials(case: str, w: World) -> dict[str, str]:
    now = int(time.time())
    bearer = {
        "expired JWT": lambda: w.trusted.token(iat=now - 7200, exp=now - 3600),
        "wrong audience": lambda: w.trusted.token(aud="someone-else"),
        "wrong issuer": lambda: w.trusted.token(iss="https://other-issuer.test"),
        "unknown signing key": lambda: w.unknown.token(),
        "valid, under-scoped": lambda: w.trusted.token(scope="read"),
        "valid JWT": lambda: w.trusted.token("alice"),
    }
    if case == "no credentials":
        return {}
    if case == "bad key":
        return {"X-API-Key": new_key()}
    if case == "valid key":
        return w.auth("alice")
    return {"Authorization": f"Bearer {bearer[case]()}"}


CASES = {  # case -> HTTP status
    "no credentials": 401, "bad key": 401, "expired JWT": 401, "wrong audience": 401,
    "wrong issuer": 401, "unknown signing key": 401, "valid, under-scoped": 403,
    "valid JWT": 200, "valid key": 200,
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("method", METHODS)
async def test_every_method_under_every_credential(world: World, method: str, case: str) -> None:
    version = "1.0" if method in V1_METHODS else "0.3"
    params = _params(method, world) if CASES[case] == 200 else {"id": "whatever"}
    if callable(params):
        params = params()
    headers = {**_credentials(case, world), **(V1 if version == "1.0" else {})}
    payload: dict[str, Any] = {"jsonrpc": "2.0", "id": "t", "method": method}
    if params is not None:
        payload["params"] = params
    async with (
        httpx.AsyncClient(base_url=world.url, timeout=30) as client,
        client.stream("POST", "/", json=payload, headers=headers) as response,
    ):
        assert response.status_code == CASES[case], (await response.aread()).decode()
        if CASES[case] != 200:
            body = json.loads(await response.aread())
            status = "UNAUTHENTICATED" if CASES[case] == 401 else "PERMISSION_DENIED"
            assert body == {"error": {"code": CASES[case], "status": status, "message": body["error"]["message"]}}
            assert body["error"]["message"] in (
                "Missing or invalid credentials.", "The credentials do not grant access to this agent."
            )
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith(("Bearer", "ApiKey")), challenge
            if CASES[case] == 403:
                assert 'error="insufficient_scope"' in challenge
            return
        if method in STREAMS:
            assert response.headers["content-type"].startswith("text/event-stream")
            buffer = ""
            async for text in response.aiter_text():
                buffer += text
                if "\n\n" in buffer:
                    break
            event = parse_sse_block(buffer.split("\n\n")[0], "t", method, version)
            assert event is not None and "result" in event.body, buffer
            return
        body = check_response(json.loads(await response.aread()), "t", method=method, version=version)
    assert "result" in body, body
    if method == "agent/getAuthenticatedExtendedCard":
        validate("AgentCard", body["result"])
        assert "vault" in [s["id"] for s in body["result"]["skills"]]
    if method == "GetExtendedAgentCard":
        assert "vault" in [s["id"] for s in body["result"]["skills"]]


async def test_refusals_say_nothing_of_which_part_was_wrong(world: World) -> None:
    """Every 401 has the same body; the bearer ones the same challenge (RFC 6750's
    invalid_token), whichever check failed."""
    bodies, challenges = set(), set()
    async with httpx.AsyncClient(base_url=world.url) as client:
        for case, status in CASES.items():
            if status != 401 or case in ("no credentials", "bad key"):
                continue
            response = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get",
                                                    "params": {"id": "x"}}, headers=_credentials(case, world))
            bodies.add(response.text)
            challenges.add(response.headers["www-authenticate"])
        assert len(bodies) == 1 and len(challenges) == 1, (bodies, challenges)
        assert challenges == {'Bearer realm="a2a-server", error="invalid_token"'}
        bare = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {}})
        assert bare.headers["www-authenticate"] == 'Bearer realm="a2a-server", ApiKey realm="a2a-server", header="X-API-Key"'


async def test_public_card_and_health_need_no_credentials(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.url) as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        assert (await client.get("/health")).status_code == 200
    assert card["supportsAuthenticatedExtendedCard"] is True
    assert card["capabilities"]["extendedAgentCard"] is True
    assert "vault" not in [s["id"] for s in card["skills"]]
    # the merged card: 0.3's securitySchemes and security, 1.0's securityRequirements
    assert card["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT",
                   "description": f"A JWT from {ISSUER} for the audience {AUDIENCE}, in Authorization: Bearer."},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                   "description": "An API key from the operator, in the X-API-Key header."},
    }
    assert card["security"] == [{"bearer": [SCOPE]}, {"apiKey": []}]
    assert card["securityRequirements"] == [
        {"schemes": {"bearer": {"list": [SCOPE]}}}, {"schemes": {"apiKey": {"list": []}}},
    ]
    validate("AgentCard", card)
    validate_v1("AgentCard", card, extra_keys=frozenset({
        "protocolVersion", "url", "preferredTransport", "additionalInterfaces",
        "supportsAuthenticatedExtendedCard", "securitySchemes", "security",
    }))
    raw = json.dumps(card)
    assert not any(key in raw for key in world.keys.values())


async def test_the_1_0_card_and_extended_card_in_1_0_form(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.url) as client:
        extended = await rpc(client, "GetExtendedAgentCard", {}, version="1.0", headers=world.auth("bob"))
    card = extended["result"]
    validate_v1("AgentCard", card)
    assert card["securitySchemes"]["bearer"] == {"httpAuthSecurityScheme": {
        "scheme": "Bearer", "bearerFormat": "JWT",
        "description": f"A JWT from {ISSUER} for the audience {AUDIENCE}, in Authorization: Bearer."}}
    assert card["securitySchemes"]["apiKey"]["apiKeySecurityScheme"]["location"] == "header"
    assert card["description"] == "The demo agent, with what only callers who sign in see."


# -- one caller never sees another's work ------------------------------------------------------


def _same_but_id(mine: dict[str, Any], unknown: dict[str, Any], ids: tuple[str, str]) -> None:
    """Two error responses are the same, but for the id each names."""
    assert "error" in mine, mine
    assert json.dumps(mine).replace(ids[0], "ID") == json.dumps(unknown).replace(ids[1], "ID")


SCOPED = [  # method, params for a task id / ticket id, the code
    ("tasks/get", lambda t, k: {"id": t}, -32001),
    ("tasks/cancel", lambda t, k: {"id": t}, -32001),
    ("tasks/resubscribe", lambda t, k: {"id": t}, -32001),
    ("message/send", lambda t, k: {"message": _message("approve", taskId=t)}, -32001),
    ("message/stream", lambda t, k: {"message": _message("approve", taskId=t)}, -32001),
    ("tasks/pushNotificationConfig/set", lambda t, k: {"taskId": t, "pushNotificationConfig": {"url": "http://127.0.0.1:9/b"}}, -32001),
    ("tasks/pushNotificationConfig/get", lambda t, k: {"id": t, "pushNotificationConfigId": "cfg"}, -32001),
    ("tasks/pushNotificationConfig/list", lambda t, k: {"id": t}, -32001),
    ("tasks/pushNotificationConfig/delete", lambda t, k: {"id": t, "pushNotificationConfigId": "cfg"}, -32001),
    ("GetTask", lambda t, k: {"id": t}, -32001),
    ("CancelTask", lambda t, k: {"id": t}, -32001),
    ("SubscribeToTask", lambda t, k: {"id": t}, -32001),
    ("SendMessage", lambda t, k: {"message": _message_v1("approve", taskId=t)}, -32001),
    ("SendStreamingMessage", lambda t, k: {"message": _message_v1("approve", taskId=t)}, -32001),
    ("CreateTaskPushNotificationConfig", lambda t, k: {"taskId": t, "url": "http://127.0.0.1:9/b"}, -32001),
    ("GetTaskPushNotificationConfig", lambda t, k: {"taskId": t, "id": "cfg"}, -32001),
    ("ListTaskPushNotificationConfigs", lambda t, k: {"taskId": t}, -32001),
    ("DeleteTaskPushNotificationConfig", lambda t, k: {"taskId": t, "id": "cfg"}, -32001),
    ("a2aserver.tickets/list", lambda t, k: {"taskId": t}, -32001),
    ("a2aserver.tickets/get", lambda t, k: {"ticketId": k}, -32050),
    ("a2aserver.tickets/resolve", lambda t, k: {"ticketId": k, "output": {"granted": True}}, -32050),
    ("a2aserver.tickets/fail", lambda t, k: {"ticketId": k, "error": "no"}, -32050),
]


async def test_another_principal_gets_what_an_unknown_id_gets(world: World) -> None:
    tid, ticket = world.task["id"], world.ticket
    ghost, ghost_ticket = str(uuid.uuid4()), f"consent-{uuid.uuid4()}"
    bob = world.auth("bob")
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as client:
        for method, params, code in SCOPED:
            version = "1.0" if method in V1_METHODS else "0.3"
            mine = await rpc(client, method, params(tid, ticket), version=version, headers=bob)
            unknown = await rpc(client, method, params(ghost, ghost_ticket), version=version, headers=bob)
            assert mine["error"]["code"] == code, (method, mine)
            _same_but_id(mine, unknown, (ticket if code == -32050 else tid, ghost_ticket if code == -32050 else ghost))
        # listing: only bob's own tasks, none in alice's context
        listed = await rpc(client, "ListTasks", {}, version="1.0", headers=bob)
        assert tid not in [t["id"] for t in listed["result"]["tasks"]]
        in_context = await rpc(client, "ListTasks", {"contextId": world.context}, version="1.0", headers=bob)
        assert in_context["result"]["tasks"] == [] and in_context["result"]["totalSize"] == 0
        # a context id is no door into another's conversation memory
        sent = await rpc(client, "message/send", {"message": _message("what is my name", contextId=world.context)}, headers=bob)
        assert "Ada" not in answer_text(sent["result"])
        # and alice's task is as it was: nothing of bob's calls touched it
        got = await rpc(client, "tasks/get", {"id": tid}, headers=world.auth("alice"))
        assert got["result"]["status"]["state"] == "auth-required"
        configs = await rpc(client, "tasks/pushNotificationConfig/list", {"id": tid}, headers=world.auth("alice"))
        assert [c["pushNotificationConfig"]["id"] for c in configs["result"]] == ["cfg"]
        # the owner gets the push credentials back; they are nowhere in the task
        assert configs["result"][0]["pushNotificationConfig"]["authentication"]["credentials"] == "push-secret"
        assert "push-secret" not in json.dumps(got)
        tickets = await rpc(client, "a2aserver.tickets/list", {"taskId": tid}, headers=world.auth("alice"))
        assert [t["state"] for t in tickets["result"]] == ["pending"]


async def test_a_ticket_principal_settles_another_principals_ticket(world: World) -> None:
    """The system that does the work (`--ticket-principals ci`) sees and settles alice's
    consent ticket; her task goes on, and she reads the result."""
    alice, ci = world.auth("alice"), world.auth("ci")
    async with httpx.AsyncClient(base_url=world.url, timeout=30) as client:
        task = (await rpc(client, "message/send", {"message": _message("connect calendar")}, headers=alice))["result"]
        ticket = f"consent-{task['id']}"
        listed = await rpc(client, "a2aserver.tickets/list", {"taskId": task["id"]}, headers=ci)
        assert [t["ticketId"] for t in listed["result"]] == [ticket]
        settled = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket, "output": {"granted": True}}, headers=ci)
        assert settled["result"]["state"] == "resolved"
        # ci is no owner: the task itself stays alice's alone
        assert (await rpc(client, "tasks/get", {"id": task["id"]}, headers=ci))["error"]["code"] == -32001
        for _ in range(200):
            got = (await rpc(client, "tasks/get", {"id": task["id"]}, headers=alice))["result"]
            if got["status"]["state"] == "completed":
                break
            await asyncio.sleep(0.02)
        assert got["status"]["state"] == "completed"
        assert "Connected" in answer_text(got)
