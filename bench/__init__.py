"""Side-by-side benchmarks: ours, the official SDK, and the floor (see bench/README.md)."""
