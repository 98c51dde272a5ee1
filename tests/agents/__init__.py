"""Agents the tests serve in server subprocesses (`--agent tests.agents.<module>:<attr>`)."""
