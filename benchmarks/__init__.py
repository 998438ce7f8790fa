"""Benchmarks: each measures a part of the system beside a baseline measured in the same run."""
