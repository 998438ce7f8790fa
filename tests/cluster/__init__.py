"""`make cluster` under test: nginx, two Rasa replicas, PostgreSQL and Redis, a replica killed mid-way.

`running` starts the cluster as `make cluster` does (shared with `benchmarks.cluster`); `test_cluster` is the
test `make test` runs.
"""
