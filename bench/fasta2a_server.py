"""The fasta2a side of the benchmark: Pydantic's A2A server (fasta2a 2.1.1) with its in-memory
broker and storage, and a worker doing what our bench agent does: `hello` is answered by one
artifact `echo: hello`; `stream N [D]` publishes `working`, N chunks `tok ` (append false then
true, lastChunk on the last, pausing D ms after each), then `completed`.

What a reader of its figures must know (from fasta2a's own source):

- its `message/send` never waits for the answer: it stores the task, hands it to the broker
  and replies with the task `submitted` (no `configuration.blocking`); the worker completes it
  after the reply. Its W1 rate is the rate of accepting work, not of finished tasks.
- its worker loop awaits one task's `run_task` before taking the next, so a stock worker runs
  one task at a time. Ours runs each task in a task of its own (as the other servers do),
  else a thousand slow streams (W3) would run one after another.
- its frames are the draft's wrappers (`{"task": ...}`, `{"status_update": ...}`) under a
  plain `data:` line with no event id; the count per stream is the same (N + 3).

    python -m bench.fasta2a_server --port 9003
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import uvicorn
from fasta2a import FastA2A, Worker  # type: ignore[import-untyped]
from fasta2a.broker import InMemoryBroker  # type: ignore[import-untyped]
from fasta2a.schema import Artifact, Message, Part, TaskIdParams, TaskSendParams  # type: ignore[import-untyped]
from fasta2a.storage import InMemoryStorage  # type: ignore[import-untyped]


@dataclass
class BenchWorker(Worker[None]):
    """Runs each task in its own task, ending the task's stream itself."""

    _group: anyio.abc.TaskGroup | None = field(default=None, init=False)

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            self._group = group
            async with super().run():
                yield
            group.cancel_scope.cancel()

    async def run_task(self, params: TaskSendParams) -> None:
        assert self._group is not None
        self._group.start_soon(self._answer, params)

    async def _answer(self, params: TaskSendParams) -> None:
        task_id, context_id = params["id"], params["context_id"]
        text = "".join(p.get("text", "") for p in params["message"]["parts"])
        try:
            await self.storage.update_task(task_id, state="working")
            await self.publish_status(task_id, context_id, "working")
            artifact = await self._publish_answer(task_id, context_id, text)
            await self.storage.update_task(task_id, state="completed", new_artifacts=[artifact])
            state = "completed"
        except Exception:  # noqa: BLE001 - any failure fails the task, as fasta2a's own loop does
            await self.storage.update_task(task_id, state="failed")
            state = "failed"
        await self.publish_status(task_id, context_id, state)
        await self.broker.event_bus.close(task_id)

    async def _publish_answer(self, task_id: str, context_id: str, text: str) -> Artifact:
        """Publish the answer as the bench agent streams it; returns the whole artifact."""
        artifact_id = str(uuid.uuid4())
        words = text.split()
        if len(words) in (2, 3) and words[0] == "stream":
            count = int(words[1])
            pause = int(words[2]) / 1000 if len(words) == 3 else 0.0
            for i in range(count):
                chunk = Artifact(artifact_id=artifact_id, name="answer", parts=[Part(text="tok ")])
                await self.publish_artifact(task_id, context_id, chunk, append=i > 0,
                                            last_chunk=i == count - 1)
                if pause:
                    await anyio.sleep(pause)
            return Artifact(artifact_id=artifact_id, name="answer", parts=[Part(text="tok " * count)])
        artifact = Artifact(artifact_id=artifact_id, name="answer", parts=[Part(text=f"echo: {text}")])
        await self.publish_artifact(task_id, context_id, artifact)
        return artifact

    async def cancel_task(self, params: TaskIdParams) -> None:
        """The bench never cancels."""

    def build_message_history(self, history: list[Message]) -> list[Any]:
        return history

    def build_artifacts(self, result: Any) -> list[Artifact]:
        return [Artifact(artifact_id=str(uuid.uuid4()), parts=[Part(text=str(result))])]


def build_app(url: str) -> FastA2A:
    storage: InMemoryStorage[None] = InMemoryStorage()
    broker = InMemoryBroker()
    worker = BenchWorker(broker=broker, storage=storage)

    @asynccontextmanager
    async def lifespan(app: FastA2A) -> AsyncIterator[None]:
        async with app.task_manager, worker.run():
            yield

    return FastA2A(storage=storage, broker=broker, name="bench", url=url, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fasta2a_server")
    parser.add_argument("--port", type=int, default=9003)
    args = parser.parse_args()
    app = build_app(f"http://127.0.0.1:{args.port}/")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
