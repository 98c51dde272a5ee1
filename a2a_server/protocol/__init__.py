"""Wire formats. `v0_3` holds the pydantic models of what clients send us (protocol 0.3.0);
`objects` builds what we emit, as plain JSON-shaped dicts proven against the official schema
by the test suite."""
