"""How the project's processes are started: the Rasa server and the action server locked down by default,
and `make cluster`, the production shape on one machine.

The Procfile, the tests, the benchmarks and the cluster all start the servers through `rasa_server` and
`action_server`, so every one of them runs with the same locks. Modules:

- `rasa_server`: `rasa run` with a token on its HTTP API, on loopback, the REST channel only when asked for.
- `action_server`: the action server on loopback, with a shared secret when it must listen further.
- `cluster`: nginx and supervisord in front of several Rasa replicas (its own package).

It imports nothing of the project: it starts processes that do.
"""

__all__ = ["action_server", "cluster", "rasa_server"]
