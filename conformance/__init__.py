"""A conformance suite for A2A 0.3 JSON-RPC endpoints: ours or anyone's.

    a2a-server conformance http://127.0.0.1:8000     (or: python -m conformance URL)

It discovers the agent card at the URL's host, runs every check that applies to what the
card declares, and prints a table grouped by spec section. Each check cites its section,
has a level (must / should) and passes, fails with a one-line diagnosis, or is skipped with
the reason. The exit code is 1 when a must-level check fails.
"""

from conformance.model import Check, Fail, Outcome, Result, Skip
from conformance.runner import Report, run_suite

__all__ = ["Check", "Fail", "Outcome", "Report", "Result", "Skip", "run_suite"]
