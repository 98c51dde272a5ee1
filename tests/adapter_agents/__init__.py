"""Agents of frameworks that live in venvs of their own (.ci/run builds them), for the server
to serve in a subprocess: `<venv>/bin/python -m a2a_server serve --agent
tests.adapter_agents.<module>:agent`. Each follows tests/adapter_script.py and talks to the
fake chat-completions server whose URL the test passes in `A2A_TEST_FAKE_OPENAI_URL`.
"""

import os


def fake_url() -> str:
    """The fake chat-completions server of the test that started this process (.../v1)."""
    return os.environ["A2A_TEST_FAKE_OPENAI_URL"]
