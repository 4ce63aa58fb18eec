"""Benchmarks: Taipan beside a real redis-server (``python bench/run.py``). Not tests."""
