"""Agent runners: the `Runner` protocol, the runner-event vocabulary and the built-in agents."""
