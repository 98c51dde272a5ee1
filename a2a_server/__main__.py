"""`python -m a2a_server` is the same as the `a2a-server` console script."""

from a2a_server.cli import main

raise SystemExit(main())
