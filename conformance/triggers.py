"""Trigger messages: how the suite asks an agent for behaviours it cannot force.

Some checks need the agent's help: a task that stays open, a turn that asks for input. The
suite sends these documented messages; `a2a-server serve --agent conformance` honours them.
On another server, a check whose behaviour does not appear is skipped with that reason,
never passed.

    conformance:complete         answer and complete the task (streaming a few chunks)
    conformance:park             keep the task open (`working`) until it is canceled
    conformance:input-required   end the turn `input-required`; the next message completes it
    messageId test-resubscribe-message-id-*   stream for >= 2 x TCK_STREAMING_TIMEOUT seconds
"""

COMPLETE = "conformance:complete"
PARK = "conformance:park"
INPUT_REQUIRED = "conformance:input-required"
LONG_MESSAGE_ID = "test-resubscribe-message-id"
from a2a_server.extensions import TICKETS_EXTENSION_URI as TICKETS_EXTENSION  # noqa: E402

__all__ = ["COMPLETE", "INPUT_REQUIRED", "LONG_MESSAGE_ID", "PARK", "TICKETS_EXTENSION"]
