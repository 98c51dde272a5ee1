"""Metrics, health and logs (issue 14 §4-6): `/metrics` scraped during a run and its counts
checked against what the run did; `/healthz` and `/readyz`; `--log-format json` from a real
process; an unhandled exception logged once with the id its client's error carries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from a2a_server import Settings, create_app
from a2a_server.store.memory import MemoryStore
from tests.client import rpc, stream, user_message
from tests.conftest import LiveServer, fast_demo, free_port, wait_for
from tests.jwts import new_key, write_api_keys
from tests.procs import ServerProcess
from tests.receiver import Receiver

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: Any) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_what_a_run_did(live_server, receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    server = live_server(push_allow_hosts="127.0.0.1", keepalive_seconds=0.1)
    async with server.client() as client:
        before = await scrape(client)
        assert value(before, "a2a_open_streams") == 0
        hook = {"url": f"{url}/hook"}
        hello = await rpc(client, "message/send", {"message": user_message("hello"),
                                                   "configuration": {"pushNotificationConfig": hook}})
        failed = await rpc(client, "message/send", {"message": user_message("fail")})
        await rpc(client, "tasks/get", {"id": "no-such-task"})
        await client.post("/", content=b"{broken")
        v1 = await rpc(client, "SendMessage", {"message": {"role": "ROLE_USER", "messageId": "m-v1",
                                                           "parts": [{"text": "hello"}]}}, version="1.0")
        time = await stream(client, "message/stream", {"message": user_message("time")})
        build = await stream(client, "message/stream", {"message": user_message("build website")})

        # a stream that stays open (auth-required, waiting for consent): seen as open
        payload = {"jsonrpc": "2.0", "id": 9, "method": "message/stream",
                   "params": {"message": user_message("connect calendar")}}
        async with server.client() as other, other.stream("POST", "/", json=payload) as held:
            lines = held.aiter_lines()  # held: a dropped iterator is finalized, closing the stream
            async for line in lines:
                if "auth-required" in line:
                    break
            during = await scrape(client)
        assert value(during, "a2a_open_streams") == 1
        assert value(during, "a2a_tickets_pending") == 1  # the consent ticket

        try:
            await wait_for(lambda: _delivered(r, "/hook"))
        except AssertionError:
            raise AssertionError([(x.path, x.task["status"]["state"]) for x in r.received], r.attempts) from None

        async def settled() -> Samples | None:  # the held stream's request ends once it sees it left
            samples = await scrape(client)
            done = value(samples, "a2a_requests_total", method="message/stream", version="0.3", code="ok") == 3
            return samples if done else None

        after = await wait_for(settled)

    assert hello["result"]["status"]["state"] == "completed" and failed["result"]["status"]["state"] == "failed"
    assert v1["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    counted = {k: v for k, v in after.items() if k[0] == "a2a_requests_total"}
    assert value(after, "a2a_requests_total", method="message/send", version="0.3", code="ok") == 2
    assert value(after, "a2a_requests_total", method="tasks/get", version="0.3", code="-32001") == 1
    assert value(after, "a2a_requests_total", method="-", version="0.3", code="-32700") == 1
    assert value(after, "a2a_requests_total", method="SendMessage", version="1.0", code="ok") == 1
    assert value(after, "a2a_requests_total", method="message/stream", version="0.3", code="ok") == 3
    assert sum(counted.values()) == 8, counted
    assert value(after, "a2a_request_duration_seconds_count", method="message/send") == 2
    assert value(after, "a2a_open_streams") == 0
    assert value(after, "a2a_time_to_first_frame_seconds_count", method="message/stream") == 3
    sent = len(time.events) + len(build.events)
    frames = value(after, "a2a_frames_sent_total", version="0.3")
    assert sent < frames <= sent + 8, (sent, frames)  # plus what the held stream got before it left
    assert value(after, "a2a_tasks", state="completed") == 4  # hello, SendMessage, time, build
    assert value(after, "a2a_tasks", state="failed") == 1
    assert value(after, "a2a_tasks", state="auth-required") == 1
    assert value(after, "a2a_tickets_settled_total", state="resolved") == 1  # the build's
    # hello, fail, v1, time, build and its resume, connect (it ended auth-required)
    assert value(after, "a2a_turn_duration_seconds_count") == 7
    assert value(after, "a2a_push_deliveries_total", result="delivered") == len(
        [x for x in r.received if x.path == "/hook"]
    )
    assert value(after, "a2a_store_operation_seconds_count", operation="append") > 0
    assert value(after, "a2a_store_operation_seconds_count", operation="counts") == 0  # scrapes are not store ops


async def _delivered(r: Receiver, path: str) -> bool:
    return any(x.path == path and x.task["status"]["state"] == "completed" for x in r.received)


async def test_push_retries_and_drops_are_counted(live_server, receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.fail_first["/flaky"] = 2  # the first notification (working) fails twice, then goes
    server = live_server(push_allow_hosts="127.0.0.1", push_backoff_seconds=0.05)
    async with server.client() as client:
        await rpc(client, "message/send", {"message": user_message("hello"),
                                           "configuration": {"pushNotificationConfig": {"url": f"{url}/flaky"}}})
        await wait_for(lambda: _delivered(r, "/flaky"))

        async def counted() -> Any:  # the receiver has it before the sender hears it went
            samples = await scrape(client)
            return samples if value(samples, "a2a_push_deliveries_total", result="delivered") == 2 else None

        samples = await wait_for(counted)
    assert value(samples, "a2a_push_deliveries_total", result="retried") == 2
    assert value(samples, "a2a_push_deliveries_total", result="delivered") == 2  # working, completed
    assert value(samples, "a2a_push_deliveries_total", result="dropped") == 0


async def test_push_drops_are_counted(live_server, receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.fail_first["/dead"] = 1000
    server = live_server(push_allow_hosts="127.0.0.1", push_backoff_seconds=0.05, push_retry_window=0.2)
    async with server.client() as client:
        await rpc(client, "message/send", {"message": user_message("hello"),
                                           "configuration": {"pushNotificationConfig": {"url": f"{url}/dead"}}})

        async def dropped() -> bool:
            samples = await scrape(client)
            return value(samples, "a2a_push_deliveries_total", result="dropped") == 2

        await wait_for(dropped)


class SwitchableStore(MemoryStore):
    """A real store whose reads can be made to fail: a store that stopped answering."""

    down = False

    async def load(self, task_id: str) -> Any:
        if self.down:
            raise ConnectionError("the store is down")
        return await super().load(task_id)


async def test_healthz_and_readyz() -> None:
    store = SwitchableStore()
    port = free_port()
    server = LiveServer(create_app(Settings(port=port), fast_demo(), store), port)
    server.start()
    try:
        async with server.client() as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            assert (await client.get("/readyz")).json() == {"status": "ready"}
            store.down = True
            not_ready = await client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.json()["status"] == "unavailable"
            assert (await client.get("/healthz")).status_code == 200  # the process is still up
            store.down = False
            assert (await client.get("/readyz")).status_code == 200
    finally:
        server.stop()


def _lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
        else:
            assert line.startswith("a2a-server: "), f"not a JSON line: {line!r}"  # the start banner
    return out


async def test_json_logs_follow_a_request_and_its_task(tmp_path: Path) -> None:
    key = new_key()
    keys = write_api_keys(tmp_path / "keys.txt", {"alice": key})
    server = ServerProcess(tmp_path / "tasks.db", "--log-format", "json", "--log-level", "info",
                           "--api-keys", str(keys))
    server.start()
    try:
        async with server.client() as client:
            sent = await rpc(client, "message/send", {"message": user_message("hello")},
                             headers={"X-API-Key": key, "X-Request-ID": "req-42"})
            got = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get",
                                               "params": {"id": sent["result"]["id"]}}, headers={"X-API-Key": key})
            assert got.headers["x-request-id"] and got.headers["x-request-id"] != "req-42"
            refused = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get"})
            assert refused.status_code == 401
            await stream(client, "message/stream", {"message": user_message("hello")}, headers={"X-API-Key": key})
    finally:
        server.stop()
    lines = _lines(server.log)
    access = [x for x in lines if x["logger"] == "a2a_server.access"]
    task = sent["result"]
    first = next(x for x in access if x.get("request_id") == "req-42")
    assert first["method"] == "message/send" and first["version"] == "0.3" and first["code"] == "ok"
    assert first["task_id"] == task["id"] and first["context_id"] == task["contextId"]
    assert first["principal"] == "alice" and first["duration_ms"] > 0 and first["status"] == 200
    assert first["level"] == "info" and first["ts"].endswith("Z")
    by_method = [(x.get("method"), x["code"]) for x in access]
    assert ("tasks/get", "ok") in by_method and ("message/stream", "ok") in by_method
    assert (None, "401") in by_method  # refused before its body was read: no method known
    unauthenticated = next(x for x in access if x["code"] == "401")
    assert "principal" not in unauthenticated
    assert all(key not in json.dumps(x) for x in lines)


async def test_an_unhandled_exception_is_logged_once_with_the_id_the_client_gets(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "tasks.db", "--agent", "tests.agents.faulty:agent", "--log-format", "json")
    server.start()
    try:
        async with server.client() as client:
            exploded = await rpc(client, "message/send", {"message": user_message("explode")})
            v1 = await rpc(client, "SendMessage", {"message": {"role": "ROLE_USER", "messageId": "x1",
                                                               "parts": [{"text": "explode"}]}}, version="1.0")
            crashed = await rpc(client, "message/send", {"message": user_message("crash")})
            await asyncio.sleep(0.2)
    finally:
        server.stop()
    error = exploded["error"]
    assert error["code"] == -32603 and "secret detail" not in json.dumps(exploded)
    error_id = error["data"]["errorId"]
    assert error["message"] == f"Internal error (error id {error_id}); the server's log has the details."
    v1_id = v1["error"]["data"][0]["metadata"]["errorId"]
    status = crashed["result"]["status"]
    assert status["state"] == "failed"
    said = status["message"]["parts"][0]["text"]
    turn_id = said.split("error id ")[1].rstrip(").")
    assert "secret detail" not in said
    lines = _lines(server.log)
    for wanted in (error_id, v1_id, turn_id):
        logged = [x for x in lines if x.get("error_id") == wanted]
        assert len(logged) == 1, (wanted, logged)
        assert "Kaboom: secret detail" in logged[0]["exc"] and wanted in logged[0]["message"]
    crash_line = next(x for x in lines if x.get("error_id") == turn_id)
    assert crash_line["task_id"] == crashed["result"]["id"], "the actor's lines name their task"
    tracebacks = [x for x in lines if "Kaboom" in x.get("exc", "")]
    assert len(tracebacks) == 3, "each failure logged once"
