import pytest

from tests.client import answer_text, assert_stream_rules, chunks_text, send, stream, user_message
from tests.conftest import in_process

pytestmark = pytest.mark.anyio


async def test_send_and_stream() -> None:
    async with in_process() as client:
        task = await send(client, "calc 2+3*4")
        assert task["status"]["state"] == "completed"
        assert answer_text(task) == "2+3*4 = 14"
        sse = await stream(client, "message/stream", {"message": user_message("hello world")})
        assert_stream_rules(sse.frames)
        assert chunks_text(sse.frames) == "You said: hello world"


async def test_live(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        sse = await stream(client, "message/stream", {"message": user_message("time")})
        assert_stream_rules(sse.frames)
