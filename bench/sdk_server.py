"""The official SDK side of the benchmark: a2a-sdk 1.3.0's JSON-RPC routes with the 0.3
compatibility on (conformance/sdk_echo.py builds them), driven by an executor that emits
exactly the frames of our bench agent: the Task (submitted), `working`, the answer (one chunk
`echo: hello`, or N chunks `tok ` with append false then true and lastChunk on the last,
pausing D ms after each for `stream N D`), then `completed`.

    python -m bench.sdk_server --port 9002
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

import uvicorn
from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater

from conformance.sdk_echo import build_app


class BenchExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        task = context.current_task or new_task_from_user_message(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        words = context.get_user_input().split()
        artifact_id = str(uuid.uuid4())
        if len(words) in (2, 3) and words[0] == "stream":
            count = int(words[1])
            pause = int(words[2]) / 1000 if len(words) == 3 else 0.0
            for i in range(count):
                await updater.add_artifact(
                    [new_text_part("tok ")], artifact_id=artifact_id, name="answer",
                    append=i > 0, last_chunk=i == count - 1,
                )
                if pause:
                    await asyncio.sleep(pause)
        else:
            await updater.add_artifact(
                [new_text_part(f"echo: {context.get_user_input()}")], artifact_id=artifact_id,
                name="answer", append=False, last_chunk=True,
            )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_server")
    parser.add_argument("--port", type=int, default=9002)
    args = parser.parse_args()
    app = build_app(f"http://127.0.0.1:{args.port}/", executor=BenchExecutor())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
