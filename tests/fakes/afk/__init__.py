"""A fake of AFK for tests (see tests/fakes/README.md): the documented API, nothing more."""
