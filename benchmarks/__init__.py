"""Benchmark suite: synthetic portfolios and stage-by-stage timings (`python -m benchmarks`)."""
