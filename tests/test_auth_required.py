"""Authorization inside a task (issue 13 §4), over real HTTP: the demo's `connect calendar`
puts the task in auth-required with a prompt and a consent ticket; the stream stays open;
the consent arrives out of band (the ticket settled) or with the next message, and the
turn goes on, in both protocol versions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from a2a_server.mapping import worth_notifying
from a2a_server.model import Status, StatusUpdate, TaskState
from tests.client import (
    Event,
    answer_text,
    assert_stream_rules,
    chunks_text,
    rpc,
    stream,
    user_message,
)

pytestmark = pytest.mark.anyio


def _is_auth_required(frame: dict[str, Any]) -> bool:
    state = frame.get("status", {}).get("state")
    return state in ("auth-required", "TASK_STATE_AUTH_REQUIRED")


async def _later(call: Any, seconds: float = 0.35) -> Any:
    """The call, after the stream has idled a while (keep-alives show it stayed open)."""
    await asyncio.sleep(seconds)
    return await call


def _prompt_data(frame: dict[str, Any]) -> dict[str, Any]:
    return next(p["data"] for p in frame["status"]["message"]["parts"] if "data" in p)


async def test_consent_settled_out_of_band_resumes_the_open_stream(live_server) -> None:
    server = live_server(keepalive_seconds=0.1)
    settled: list[asyncio.Task[Any]] = []
    async with server.client() as client, server.client() as other:

        def on_event(event: Event) -> None:
            frame = event.body.get("result", {})
            if frame.get("kind") == "status-update" and _is_auth_required(frame) and not settled:
                ticket = _prompt_data(frame)["ticketId"]
                settled.append(asyncio.get_running_loop().create_task(_later(rpc(
                    other, "a2aserver.tickets/resolve", {"ticketId": ticket, "output": {"granted": True}}
                ))))

        sse = await stream(client, "message/stream", {"message": user_message("connect calendar")}, on_event=on_event)
        frames = sse.frames
        assert_stream_rules(frames)  # final:true once, last: the auth-required one is not final
        asking = next(f for f in frames if f["kind"] == "status-update" and _is_auth_required(f))
        assert asking["final"] is False
        assert asking["status"]["message"]["parts"][0]["text"].startswith("I need your consent to connect your calendar.")
        assert _prompt_data(asking) == {"ticketId": f"consent-{frames[0]['id']}", "service": "calendar"}
        assert frames.index(asking) < len(frames) - 1 and frames[-1]["status"]["state"] == "completed"
        assert sse.comments >= 1, "keep-alives while it waited"
        assert (await settled[0])["result"]["state"] == "resolved"
        assert chunks_text(frames).endswith("Connected: your consent was granted. ")


async def test_blocking_send_returns_auth_required_and_the_next_message_approves(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        first = (await rpc(client, "message/send", {"message": user_message("connect calendar")}))["result"]
        assert first["status"]["state"] == "auth-required"
        approve = user_message("approve", taskId=first["id"])
        done = (await rpc(client, "message/send", {"message": approve}))["result"]
        assert done["status"]["state"] == "completed"
        assert answer_text(done).endswith("Thanks for your consent. Connected: your consent was granted. ")
        tickets = (await rpc(client, "a2aserver.tickets/list", {"taskId": first["id"]}))["result"]
        assert [(t["state"], t["output"]) for t in tickets] == [("resolved", {"granted": True, "by": "message"})]


async def test_declining_in_the_next_message_fails_the_consent_and_says_so(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        first = (await rpc(client, "message/send", {"message": user_message("connect calendar")}))["result"]
        done = (await rpc(client, "message/send", {"message": user_message("no thanks", taskId=first["id"])}))["result"]
        assert done["status"]["state"] == "completed"
        assert answer_text(done).endswith("Not connected: the user did not consent. ")


async def test_1_0_stream_stays_open_through_auth_required_and_the_approving_message(live_server) -> None:
    server = live_server(keepalive_seconds=0.1)
    approved: list[asyncio.Task[Any]] = []
    async with server.client() as client, server.client() as other:

        def on_event(event: Event) -> None:
            status = event.body.get("result", {}).get("statusUpdate")
            if status is not None and _is_auth_required(status) and not approved:
                message = {"role": "ROLE_USER", "messageId": "approve-1", "taskId": status["taskId"],
                           "parts": [{"text": "approve"}]}
                approved.append(asyncio.get_running_loop().create_task(
                    rpc(other, "SendMessage", {"message": message}, version="1.0")
                ))

        message = {"role": "ROLE_USER", "messageId": "connect-1", "parts": [{"text": "connect calendar"}]}
        sse = await stream(client, "SendStreamingMessage", {"message": message}, version="1.0", on_event=on_event)
        states = [f["statusUpdate"]["status"]["state"] for f in sse.frames if "statusUpdate" in f]
        assert "TASK_STATE_AUTH_REQUIRED" in states and states[-1] == "TASK_STATE_COMPLETED"
        assert states.index("TASK_STATE_AUTH_REQUIRED") < states.index("TASK_STATE_WORKING", states.index("TASK_STATE_AUTH_REQUIRED"))
        reply = (await approved[0])["result"]["task"]
        assert reply["status"]["state"] == "TASK_STATE_COMPLETED"


async def test_resubscribe_follows_an_auth_required_task_to_its_end(live_server) -> None:
    server = live_server(keepalive_seconds=0.1)
    async with server.client() as client, server.client() as other:
        task = (await rpc(client, "message/send", {"message": user_message("connect calendar")}))["result"]
        settled: list[asyncio.Task[Any]] = []

        def on_event(event: Event) -> None:
            if not settled:
                settled.append(asyncio.get_running_loop().create_task(rpc(
                    other, "a2aserver.tickets/resolve", {"ticketId": f"consent-{task['id']}", "output": {}}
                )))

        sse = await stream(client, "tasks/resubscribe", {"id": task["id"]}, on_event=on_event)
        await settled[0]
        assert sse.frames[0]["kind"] == "task" and sse.frames[0]["status"]["state"] == "auth-required"
        assert sse.frames[-1]["status"]["state"] == "completed" and sse.frames[-1]["final"] is True


def test_entering_auth_required_is_worth_a_push_notification() -> None:
    asking = StatusUpdate("t", "c", Status(TaskState.AUTH_REQUIRED), final=False)
    assert worth_notifying([asking], TaskState.WORKING)
    assert not worth_notifying([asking], TaskState.AUTH_REQUIRED)  # already there: no news
