from __future__ import annotations

import pytest

from a2a_server.runner.openai import OpenAIRunner
from tests.client import send
from tests.conftest import free_port, in_process

pytestmark = pytest.mark.anyio


async def test_failure_messages_never_show_model_server_credentials() -> None:
    url = f"http://svc-account:s3cr3t@127.0.0.1:{free_port()}/v1"
    r = OpenAIRunner("m", base_url=url, api_key="k", max_retries=0)
    async with in_process(runner=r) as client:
        task = await send(client, "hi")
    text = task["status"]["message"]["parts"][0]["text"]
    print("client sees:", text)
    assert "s3cr3t" not in text
