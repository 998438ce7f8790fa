"""The crash matrix: the Rasa server killed with SIGKILL while guests write, over real processes.

`harness` runs the matrix (shared with `benchmarks.crash_matrix`), `measures` says what a run lost, doubled
or reordered and where each kill landed, `stores` gives each run fresh SQLite files or PostgreSQL databases.
"""

__all__ = ["harness", "measures", "stores"]
