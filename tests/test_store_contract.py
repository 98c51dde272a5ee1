"""One contract, every store: memory, SQLite and Redis behave alike through the seam
(`a2a_server/store/base.py`). The "shared" stores are also driven as two instances on one
database, as two server processes or replicas see it: one's writes, leases and commands
reach the other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from a2a_server.calls import ListTasks
from a2a_server.mapping import TurnMapper, agent_message, fold, new_task
from a2a_server.model import Message, Role, Status, StatusUpdate, Task, TaskState, TextPart
from a2a_server.store.base import (
    CancelCommand,
    Change,
    Lease,
    LeaseLost,
    MemoryAdd,
    MessageCommand,
    SettleCommand,
    TaskEnded,
    TaskStore,
    TicketRaced,
)
from a2a_server.store.memory import MemoryStore
from a2a_server.store.paging import BadPageToken
from a2a_server.store.sqlite import SQLiteStore
from a2a_server.tickets import Ticket
from tests.redis_server import redis_url

pytestmark = pytest.mark.anyio

TTL = 30.0
A, B = "replica-a", "replica-b"

Factory = Callable[[], TaskStore]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """A factory of store instances on one database (memory: one instance only)."""
    made: list[TaskStore] = []
    if request.param == "memory":
        only = MemoryStore()
        made.append(only)

        def factory() -> TaskStore:
            return only
    elif request.param == "sqlite":
        def factory() -> TaskStore:
            s = SQLiteStore(str(tmp_path / "t.db"), poll_seconds=0.005)
            made.append(s)
            return s
    else:
        from a2a_server.store.redis import RedisStore

        url = redis_url(request.node.name)

        def factory() -> TaskStore:
            s = RedisStore(url)
            made.append(s)
            return s
    yield factory
    for s in made:
        await s.close()


@pytest.fixture
async def store(stores: Factory) -> TaskStore:
    return stores()


def _message(text: str, task_id: str = "t1") -> Message:
    return Message(Role.USER, (TextPart(text),), f"m-{text}", task_id, "c1")


def _task(task_id: str = "t1", context_id: str = "c1") -> Task:
    return new_task(task_id, context_id, _message("hi", task_id))


def _status(state: TaskState, final: bool = False, task_id: str = "t1") -> StatusUpdate:
    return StatusUpdate(task_id, "c1", Status(state), final=final)


def _answer(task_id: str, pieces: list[str]) -> list[Any]:
    m = TurnMapper(task_id, "c1")
    frames: list[Any] = [m.working()]
    for p in pieces:
        m.add_text(p)
        frames += m.flush()
    return frames + m.finish() + [m.end(TaskState.COMPLETED)]


async def test_create_with_its_first_change(store: TaskStore) -> None:
    """`create(then=...)`: the Task at seq 1, then's frames after it, its snapshot, turn
    mark and state, as one write; watchers and readers see both; the lease goes on."""
    working = _status(TaskState.WORKING)
    opened = fold(_task(), [working])
    lease = await store.create(
        _task(), principal="alice", owner=A, ttl=TTL, then=Change(frames=(working,), task=opened, turn=True)
    )
    loaded = await store.load("t1")
    assert loaded is not None and loaded.seq == 2 and loaded.turn_running
    assert loaded.task.status.state is TaskState.WORKING and loaded.lease_owner == A
    assert [(s, type(f).__name__) for s, f in await store.read("t1")] == [(1, "Task"), (2, "StatusUpdate")]
    assert (await store.counts()).tasks == {"working": 1}
    done = await store.append(lease, Change(frames=(_status(TaskState.COMPLETED, final=True),), turn=False))
    assert done.seq == 3
    assert [t.id for t in (await store.list_tasks(ListTasks(), "alice")).tasks] == ["t1"]


async def test_a_watch_says_when_it_idled(store: TaskStore) -> None:
    """`watch(idle=...)`: an empty batch for each `idle` seconds nothing came, and the
    frames as they come, none lost around a beat."""
    lease = await store.create(_task(), principal="alice", owner=A, ttl=TTL)
    watch = store.watch("t1", 0, 0.05)
    try:
        assert [s for s, _ in await anext(watch)] == [1]
        assert await anext(watch) == [] and await anext(watch) == []  # idle, twice
        await store.append(lease, Change(frames=(_status(TaskState.WORKING),)))
        got = await anext(watch)
        assert [s for s, _ in got] == [2], got
        assert await anext(watch) == []
    finally:
        await watch.aclose()


async def test_a_turns_text_taken_at_once(store: TaskStore) -> None:
    """`append_now`: artifact updates into what the store already checked of the lease, at
    once (their sequence numbers), or not at all (None: the caller appends them); never for
    a lease it does not hold, a status frame or a task that ended. What it took is the log's,
    read and watched as any frame."""
    lease = await store.create(_task(), principal="alice", owner=A, ttl=TTL)
    frames = _answer("t1", ["a", "b", "c", "de"])  # working, four chunks, completed
    chunks = frames[1:-1]
    assert len(chunks) == 4
    watch = store.watch("t1", 0)
    try:
        await store.append(lease, Change(frames=(frames[0],), turn=True))
        first = await store.append(lease, Change((chunks[0],), wait=False))  # checks the lease
        assert first.seq == 3
        assert store.append_now(lease, (frames[-1],)) is None  # a status frame: `append`'s
        assert store.append_now(Lease("t1", A, lease.token + 1), (chunks[1],)) is None
        assert store.append_now(lease, (chunks[1],)) == 4
        assert store.append_now(lease, (chunks[2], chunks[3])) == 6
        folded = fold(_task(), frames)
        end = await store.append(lease, Change((frames[-1],), task=folded, turn=False, release=True))
        assert end.seq == 7 and end.released
        assert store.append_now(lease, (chunks[0],)) is None  # ended, and let go
        seen: list[int] = []
        while not seen or seen[-1] < 7:
            seen += [s for s, _ in await anext(watch)]
        assert seen == list(range(1, 8))
    finally:
        await watch.aclose()
    assert [f for _, f in await store.read("t1", after=1)] == frames
    loaded = await store.load("t1")
    assert loaded is not None and loaded.seq == 7
    assert loaded.task.artifacts[0].parts == (TextPart("abcde"),)


async def test_create_load_and_fenced_appends(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="alice", owner=A, ttl=TTL)
    loaded = await store.load("t1")
    assert loaded is not None and loaded.seq == 1 and loaded.principal == "alice"
    assert loaded.task.status.state is TaskState.SUBMITTED and loaded.lease_owner == A
    assert await store.claim("t1", owner=B, ttl=TTL) is None  # held
    again = await store.claim("t1", owner=A, ttl=TTL)
    assert again == lease  # the holder asking again keeps its lease

    frames = _answer("t1", ["a", "b", "c"])
    first = await store.append(lease, Change(frames=tuple(frames[:2]), turn=True))
    assert first.seq == 3 and not first.released
    mid = await store.load("t1")
    assert mid is not None and mid.seq == 3 and mid.turn_running
    assert mid.task.status.state is TaskState.WORKING
    folded = fold(_task(), frames)
    done = await store.append(lease, Change(frames=tuple(frames[2:]), task=folded, turn=False, release=True))
    assert done.seq == 1 + len(frames) and done.released
    end = await store.load("t1")
    assert end is not None and end.task.status.state is TaskState.COMPLETED and not end.turn_running
    assert end.task.artifacts[0].parts == (TextPart("abc"),) and end.lease_owner is None
    assert [s for s, _ in await store.read("t1")] == list(range(1, 2 + len(frames)))
    assert [f for _, f in await store.read("t1", after=3)] == frames[2:]
    end.task.history.clear()  # what a store returns is the caller's
    assert (await store.load("t1")).task.history  # type: ignore[union-attr]

    with pytest.raises(LeaseLost):  # let go: the old lease writes nothing
        await store.append(lease, Change(frames=(_status(TaskState.WORKING),)))
    assert await store.claim("t1", owner=B, ttl=TTL) is None  # an ended task has no turns
    assert await store.load("nope") is None and await store.read("nope") == []


async def test_a_superseded_lease_writes_nothing(store: TaskStore) -> None:
    old = await store.create(_task(), principal="", owner=A, ttl=0.05)
    await asyncio.sleep(0.1)
    assert ("t1", A) in await store.leases(time.time())
    new = await store.claim("t1", owner=B, ttl=TTL)
    assert new is not None and new.token > old.token and new.owner == B
    with pytest.raises(LeaseLost):
        await store.append(old, Change(frames=(_status(TaskState.WORKING),)))
    assert await store.renew([old], TTL) == [old]  # lost
    assert await store.renew([new], TTL) == []
    assert ("t1", B) not in await store.leases(time.time())
    assert (await store.append(new, Change(frames=(_status(TaskState.WORKING),)))).seq == 2


async def test_no_frames_after_the_end_but_tickets_may_still_close(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="", owner=A, ttl=TTL)
    await store.append(lease, Change(frames=tuple(_answer("t1", ["x"]))))
    with pytest.raises(TaskEnded):
        await store.append(lease, Change(frames=(_status(TaskState.WORKING),)))
    late = Ticket("k9", "t1", "c1", "x", "y")
    await store.append(lease, Change(tickets=(late,)))
    assert await store.ticket("k9") == late


async def test_tickets_are_settled_by_compare_and_set(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="", owner=A, ttl=TTL)
    now = time.time()
    early = Ticket("k1", "t1", "c1", "build", "call-1", deadline=now - 1, created_at=now)
    late = Ticket("k2", "t1", "c1", "build", "call-2", deadline=now + 100, created_at=now + 0.001)
    await store.append(lease, Change(tickets=(early, late)))
    assert [t.id for t in await store.tickets("t1")] == ["k1", "k2"]  # oldest first
    assert [t.id for t in await store.due_tickets(now)] == ["k1"]
    done = late.settle("resolved", output={"n": [1, 2]})
    await store.append(lease, Change(frames=(_status(TaskState.WORKING),), tickets=(done,)))
    assert await store.ticket("k2") == done and await store.ticket("nope") is None
    with pytest.raises(TicketRaced):  # settling again, differently: nothing is written
        await store.append(lease, Change(frames=(_status(TaskState.WORKING),), tickets=(late.settle("failed", error="e"),)))
    assert (await store.ticket("k2")) == done and len(await store.read("t1")) == 2
    import dataclasses
    await store.append(lease, Change(tickets=(dataclasses.replace(done, delivered=True),)))  # marking is no settling
    assert (await store.ticket("k2")).delivered  # type: ignore[union-attr]


async def test_memory_belongs_to_principal_and_context(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="alice", owner=A, ttl=TTL)
    said = [agent_message([TextPart(str(i))], "t1", "c1") for i in range(6)]
    await store.append(lease, Change(memory=MemoryAdd("alice", "c1", said[:5], 3)))
    await store.append(lease, Change(memory=MemoryAdd("alice", "c1", said[5:], 3)))
    assert await store.memory("alice", "c1") == said[3:]
    assert await store.memory("bob", "c1") == []
    # a fresh context's first add is trimmed to the limit all the same
    await store.append(lease, Change(memory=MemoryAdd("alice", "c2", said, 4, fresh=True)))
    assert await store.memory("alice", "c2") == said[2:]
    await store.append(lease, Change(memory=MemoryAdd("alice", "c3", said[:2], 4, fresh=True)))
    assert await store.memory("alice", "c3") == said[:2]


async def test_commands_queue_in_order_and_the_lease_follows_them(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="", owner=A, ttl=TTL)
    first, taken = await store.submit("t1", MessageCommand(_message("one")), owner=B, ttl=TTL)
    assert taken is None  # A holds the lease: it drains the inbox
    second, _ = await store.submit("t1", SettleCommand("k1", "resolved", {"ok": True}), owner=B, ttl=TTL)
    third, _ = await store.submit("t1", CancelCommand(), owner=B, ttl=TTL)
    queued = await store.inbox("t1")
    assert [q.id for q in queued] == [first, second, third] and first < second < third
    assert queued[0].command == MessageCommand(_message("one"))
    assert queued[1].command == SettleCommand("k1", "resolved", {"ok": True})
    assert isinstance(queued[2].command, CancelCommand)
    assert [q.id for q in await store.inbox("t1", after=first)] == [second, third]

    kept = await store.append(lease, Change(frames=(_status(TaskState.WORKING),), consumed=(first,), release=True))
    assert not kept.released  # commands wait: the holder goes on
    done = await store.append(lease, Change(consumed=(second, third), release=True))
    assert done.released and await store.inbox("t1") == []
    fourth, claimed = await store.submit("t1", MessageCommand(_message("two")), owner=B, ttl=TTL)
    assert claimed is not None and claimed.owner == B and claimed.token > lease.token
    assert [q.id for q in await store.inbox("t1")] == [fourth]


async def test_the_doorbell_rings_for_each_command_queued_after_it_listens(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="", owner=A, ttl=TTL)
    await store.submit("t1", CancelCommand(), owner=B, ttl=TTL)
    bell = await store.doorbell("t1")  # the command before it is the holder's first read's
    ring = bell.rang()
    await asyncio.sleep(0.05)
    assert not ring.done()
    await store.submit("t1", MessageCommand(_message("one")), owner=B, ttl=TTL)
    await asyncio.wait_for(ring, 5)
    await store.submit("t1", MessageCommand(_message("two")), owner=B, ttl=TTL)
    await asyncio.sleep(0.05)  # rung while nobody waited: the next wait ends at once
    assert bell.rang().done()
    ring = bell.rang()
    bell.close()
    assert ring.cancelled()  # a closed bell rings no more, and says so to who waits
    await store.submit("t1", MessageCommand(_message("three")), owner=B, ttl=TTL)
    await store.append(lease, Change(release=True))


async def test_listing_pages_and_principals(store: TaskStore) -> None:
    for i in range(5):
        lease = await store.create(_task(f"t{i}"), principal="alice", owner=A, ttl=TTL)
        await store.append(lease, Change(frames=(_status(TaskState.WORKING, task_id=f"t{i}"),)))
        await asyncio.sleep(0.002)  # distinct status timestamps
    await store.create(_task("b1", "other"), principal="bob", owner=A, ttl=TTL)
    seen, token = [], None
    while True:
        page = await store.list_tasks(ListTasks(page_size=2, page_token=token), "alice")
        assert page.total_size == 5
        seen += [t.id for t in page.tasks]
        token = page.next_page_token or None
        if token is None:
            break
    assert seen == ["t4", "t3", "t2", "t1", "t0"]
    bobs = await store.list_tasks(ListTasks(), "bob")
    assert [t.id for t in bobs.tasks] == ["b1"] and bobs.next_page_token == ""
    working = await store.list_tasks(ListTasks(status=TaskState.WORKING, context_id="c1"), "alice")
    assert working.total_size == 5
    with pytest.raises(BadPageToken):
        await store.list_tasks(ListTasks(page_token="garbage"), "alice")


async def test_push_deliveries_one_at_a_time_per_config(store: TaskStore) -> None:
    from a2a_server.model import PushConfig

    lease = await store.create(_task(), principal="", owner=A, ttl=TTL)
    for cid in ("c1", "c2"):
        await store.put_push_config("t1", PushConfig(cid, f"https://example.com/{cid}"))
    assert [c.id for c in await store.push_configs("t1")] == ["c1", "c2"]
    snapshot = fold(_task(), [])
    for _ in range(2):
        await store.append(lease, Change(frames=(_status(TaskState.WORKING),), task=snapshot, notify=True))
    now = time.time()
    stats = await store.outbox_stats(now)
    assert stats.waiting == 4
    heads = await store.take_deliveries(now, hold=30, limit=10)
    assert sorted(d.config_id for d in heads) == ["c1", "c2"]  # the head of each config only
    assert await store.take_deliveries(now, hold=30, limit=10) == []  # claimed: not again
    c1 = next(d for d in heads if d.config_id == "c1")
    await store.finish_delivery(c1, retry_at=now + 60)  # failed: due again later, in order
    assert await store.take_deliveries(now, hold=30, limit=10) == []
    again = await store.take_deliveries(now + 61, hold=30, limit=10)
    assert [(d.id, d.attempts) for d in again if d.config_id == "c1"] == [(c1.id, 1)]
    await store.finish_delivery(again[0], retry_at=None)
    assert await store.delete_push_config("t1", "c2") and not await store.delete_push_config("t1", "c2")
    assert (await store.outbox_stats(now)).waiting == 1
    left = await store.take_deliveries(now + 100, hold=30, limit=10)
    assert [d.config_id for d in left] == ["c1"] and left[0].id > c1.id


async def test_watch_and_doorbell_across_instances(stores: Factory) -> None:
    writer, reader = stores(), stores()  # two processes (or replicas) on one database
    lease = await writer.create(_task(), principal="", owner=A, ttl=TTL)
    got: list[int] = []

    async def follow() -> None:
        async for batch in reader.watch("t1", 0):
            got.extend(seq for seq, _ in batch)
            if got[-1] >= 4:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    for frame in _answer("t1", ["x"])[:3]:
        await writer.append(lease, Change(frames=(frame,)))
        await asyncio.sleep(0.01)
    await asyncio.wait_for(follower, 5)
    assert got == [1, 2, 3, 4]

    bell = await writer.doorbell("t1")
    ring = bell.rang()
    await asyncio.sleep(0.05)
    assert not ring.done()  # nothing queued yet
    await reader.submit("t1", CancelCommand(), owner=B, ttl=TTL)
    await asyncio.wait_for(ring, 5)
    bell.close()
    assert [type(q.command) for q in await writer.inbox("t1")] == [CancelCommand]


async def test_purge_takes_everything_of_the_task(store: TaskStore) -> None:
    lease = await store.create(_task(), principal="alice", owner=A, ttl=TTL)
    await store.append(lease, Change(
        tickets=(Ticket("k1", "t1", "c1", "x", "y"),),
        memory=MemoryAdd("alice", "c1", [agent_message([TextPart("secret")], "t1", "c1")], 10),
    ))
    await store.append(lease, Change(frames=(_status(TaskState.CANCELED, final=True),), release=True))
    assert await store.purge(time.time() - 60) == 0
    assert await store.purge(time.time() + 1) == 1
    assert await store.load("t1") is None and await store.ticket("k1") is None
    assert await store.read("t1") == [] and await store.memory("alice", "c1") == []


async def test_counts_and_open_tasks_follow_states_tickets_and_purge(stores: Factory) -> None:
    one, two = stores(), stores()  # counts are the database's, whichever instance asks
    a = await one.create(_task("t1"), principal="alice", owner=A, ttl=TTL)
    await one.create(_task("t2"), principal="alice", owner=A, ttl=TTL)
    await one.create(_task("t3"), principal="bob", owner=A, ttl=TTL)
    await one.append(a, Change(frames=(_status(TaskState.WORKING),),
                               tickets=(Ticket("k1", "t1", "c1", "x", "y"), Ticket("k2", "t1", "c1", "x", "z"))))
    counted = await two.counts()
    assert counted.tasks == {"submitted": 2, "working": 1} and counted.pending_tickets == 2
    assert await two.open_tasks("alice") == 2 and await two.open_tasks("bob") == 1
    assert await two.open_tasks("carol") == 0

    settled = Ticket("k1", "t1", "c1", "x", "y").settle("resolved", output="done")
    await one.append(a, Change(frames=(_status(TaskState.COMPLETED, final=True),),
                               tickets=(settled,), release=True))
    counted = await two.counts()
    assert counted.tasks == {"submitted": 2, "completed": 1} and counted.pending_tickets == 1
    assert await two.open_tasks("alice") == 1  # an ended task is no longer open

    assert await one.purge(time.time() + 1) == 1
    counted = await two.counts()
    assert counted.tasks == {"submitted": 2} and counted.pending_tickets == 0
