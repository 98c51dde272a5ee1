"""A conformance suite for A2A JSON-RPC endpoints of protocol 0.3 and 1.0: ours or anyone's.

    a2a-server conformance http://127.0.0.1:8000 [--version 0.3|1.0]   (or: python -m conformance URL)

It discovers the agent card at the URL's host, finds the JSON-RPC interface of each protocol
version the card declares, runs every check that applies to what the card declares, and
prints a table grouped by version and spec section. Each check cites its section, has a
version and a level (must / should) and passes, fails with a one-line diagnosis, or is
skipped with the reason. The exit code is 1 when a must-level check fails.
"""

from conformance.model import Check, Fail, Outcome, Result, Skip
from conformance.runner import Report, run_suite

__all__ = ["Check", "Fail", "Outcome", "Report", "Result", "Skip", "run_suite"]
