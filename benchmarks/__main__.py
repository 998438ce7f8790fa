"""`make bench`: run every benchmark and print its figures beside its baseline."""

from __future__ import annotations

from . import assistant_nlu, automation_sends, bot_roundtrip, sandbox_sends, webhook_ack


def main() -> None:
    for benchmark in (sandbox_sends, webhook_ack, bot_roundtrip, assistant_nlu, automation_sends):
        benchmark.main()
        print(flush=True)


if __name__ == "__main__":
    main()
