"""Benchmarks run on demand (never by pytest or CI); see bench/README.md."""
