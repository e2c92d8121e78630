"""Benchmarks that double as end-to-end checks of the pure core: python -m benchmarks.corpus"""
