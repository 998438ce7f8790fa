"""`make bench`: run every benchmark and print its figures beside its baseline."""

from __future__ import annotations

from . import sandbox_sends


def main() -> None:
    for benchmark in (sandbox_sends,):
        benchmark.main()
        print()


if __name__ == "__main__":
    main()
