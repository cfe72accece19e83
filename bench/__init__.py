"""Benchmarks of the planner: `python -m bench.run` (never collected or imported by the tests)."""
