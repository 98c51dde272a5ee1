from __future__ import annotations

import sqlite3
import tempfile
import time

import pytest

from a2a_server.mapping import agent_message, new_task
from a2a_server.model import Status, StatusUpdate, TaskState, TextPart, new_id
from a2a_server.store.sqlite import SQLiteStore

pytestmark = pytest.mark.anyio


async def test_purge_takes_the_conversation_memory_along() -> None:
    with tempfile.TemporaryDirectory() as d:
        store = SQLiteStore(f"{d}/t.db")
        tid, cid = new_id(), new_id()
        msg = agent_message([TextPart("my card number is 4111...")], tid, cid)
        await store.create(new_task(tid, cid, msg))
        await store.add_memory(cid, [msg], 50)
        await store.append(tid, [StatusUpdate(tid, cid, Status(TaskState.COMPLETED), final=True)])
        assert await store.purge(time.time() + 1) == 1
        assert await store.get_task(tid) is None
        left = sqlite3.connect(f"{d}/t.db").execute("SELECT count(*) FROM memory").fetchone()[0]
    print("memory rows left after purging every task of the context:", left)
    assert left == 0
