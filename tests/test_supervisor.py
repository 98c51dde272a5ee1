"""The supervisor of an app's background tasks: a failing child is logged and its siblings
go on; the app's end stops every child, and starts none."""

from __future__ import annotations

import asyncio
import logging

import pytest

from a2a_server.supervisor import Supervisor

pytestmark = pytest.mark.anyio


async def test_a_failing_child_is_logged_and_its_siblings_go_on(caplog: pytest.LogCaptureFixture) -> None:
    async def fail() -> None:
        raise ValueError("boom")

    async with Supervisor() as supervisor:
        sibling = supervisor.spawn(asyncio.sleep(3600), "sibling")
        failed = supervisor.spawn(fail(), "failing")
        with caplog.at_level(logging.ERROR, logger="a2a_server"):
            await asyncio.wait([failed])
            await asyncio.sleep(0)  # its done callback
        assert not sibling.done()
        assert [r.getMessage() for r in caplog.records] == ["background task failing failed"]
        assert caplog.records[0].exc_info is not None
    assert sibling.cancelled()


async def test_the_end_stops_every_child_and_refuses_new_ones(caplog: pytest.LogCaptureFixture) -> None:
    late: list[asyncio.Task[None]] = []
    async with Supervisor() as supervisor:

        async def starts_another_as_it_stops() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                late.append(supervisor.spawn(asyncio.sleep(3600), "late"))

        first = supervisor.spawn(starts_another_as_it_stops(), "first")
        await asyncio.sleep(0)
    assert first.done() and late == []  # refused: the one stopping failed with it, logged
    assert [r.getMessage() for r in caplog.records] == ["background task first failed"]


async def test_a_child_before_the_start_is_refused_and_its_coroutine_closed() -> None:
    supervisor = Supervisor()
    coro = asyncio.sleep(1)
    with pytest.raises(RuntimeError):
        supervisor.spawn(coro, "early")
    assert coro.cr_frame is None  # closed: no "never awaited" warning
