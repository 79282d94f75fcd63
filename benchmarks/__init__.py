"""Benchmarks of the chanspec runtime (run with ``python -m benchmarks.run``)."""
