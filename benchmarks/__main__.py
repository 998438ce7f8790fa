"""`make bench`: run every benchmark and print its figures beside its baseline."""

from __future__ import annotations

from benchmarks import (
    agents_api,
    assistant_nlu,
    assistant_turns,
    automation_sends,
    bot_roundtrip,
    cluster,
    crash_matrix,
    graph_client,
    sandbox_sends,
    store_statements,
    webhook_ack,
)


def main() -> None:
    benchmarks = (
        sandbox_sends,
        graph_client,
        store_statements,
        webhook_ack,
        bot_roundtrip,
        agents_api,
        assistant_nlu,
        assistant_turns,
        automation_sends,
        crash_matrix,
        cluster,
    )
    for benchmark in benchmarks:
        benchmark.main()
        print(flush=True)


if __name__ == "__main__":
    main()
