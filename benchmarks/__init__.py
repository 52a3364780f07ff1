"""Benchmark scripts (``python -m benchmarks.<name>``): they print tables, they assert nothing."""
