"""`python -m conformance URL`: the same as `a2a-server conformance URL`."""

from conformance.cli import main

raise SystemExit(main())
