"""The pieces the adapters share: a user's answer to an approval, the conversation a turn
hands a framework, the client's line for a framework's error, and the bounded memory of
paused runs."""

from __future__ import annotations

from a2a_server.adapters._errors import describe, explain
from a2a_server.adapters._runs import Parked
from a2a_server.adapters._turns import conversation, decision, prompt
from a2a_server.model import DataPart, Message, Role, TextPart
from a2a_server.runner.base import Settlement, Turn


def _turn(*parts: TextPart | DataPart, history: tuple[Message, ...] = ()) -> Turn:
    return Turn("t", "c", Message(Role.USER, parts), history)


def test_an_approval_is_yes_no_or_a_data_part() -> None:
    assert decision(_turn(TextPart("Yes, go ahead"))) is True
    assert decision(_turn(TextPart("approve."))) is True
    assert decision(_turn(TextPart("No!"))) is False
    assert decision(_turn(TextPart("deny it"))) is False
    assert decision(_turn(TextPart("hmm, what does it do?"))) is None
    assert decision(_turn(TextPart("yes"), DataPart({"approved": False}))) is False


def test_the_conversation_is_the_context_then_this_turn() -> None:
    history = (Message(Role.USER, (TextPart("I am Ada"),)), Message(Role.AGENT, (TextPart("Hi Ada"),)))
    turn = _turn(TextPart("who am I?"), DataPart({"k": 1}), history=history)
    assert conversation(turn) == [("user", "I am Ada"), ("assistant", "Hi Ada"),
                                  ("user", 'who am I?\n{"k":1}')]
    resume = Turn("t", "c", settled=(Settlement("T-1", "build", "c1", "resolved", {"ok": True}),
                                      Settlement("T-2", "test", "c2", "expired", error="too late")))
    assert prompt(resume) == ('Background tools finished: build (ticket T-1) finished: {"ok":true}; '
                              "test (ticket T-2) expired: too late")


class _StatusError(Exception):
    status_code = 503


def test_a_framework_error_is_one_readable_line() -> None:
    try:
        try:
            raise _StatusError("upstream said no")
        except _StatusError as cause:
            raise RuntimeError("node failed") from cause
    except RuntimeError as exc:
        assert explain(exc, "X") == "The model server answered HTTP 503."
    assert explain(TimeoutError("slow"), "X") == "The model server did not answer in time."
    line = describe("boom with sk-abcdefghijk at https://user:pw@host/v1\nTraceback ...", "X")
    assert line == "The X agent failed: boom with [redacted] at https://[redacted]@host/v1"
    assert len(describe("x" * 500, "X")) < 250


def test_paused_runs_are_bounded_oldest_first() -> None:
    parked: Parked[int] = Parked(limit=2)
    for i, task in enumerate(("a", "b", "c")):
        parked.put(task, i)
    assert parked.pop("a") is None and parked.pop("b") == 1 and parked.pop("c") == 2
