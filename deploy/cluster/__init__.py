"""`make cluster`: the production shape on one machine, for trying and testing it.

nginx on `CLUSTER_PORT` in front of `CLUSTER_REPLICAS` Rasa servers (each with the WhatsApp channel), one
action server and the sandbox, all under supervisord, which restarts whatever dies. The replicas share the
gateway store and the trackers on PostgreSQL, and Rasa's conversation locks and the gateway's pacing on Redis;
without those the cluster refuses to start. Modules:

- `settings`: the cluster's settings, and what is missing for it, read from the environment.
- `nginx`: nginx's configuration: only `/webhooks/whatsapp/` and `/health` reach the replicas (pure).
- `supervisor`: supervisord's configuration: one program per process (pure).
- `__main__`: writes both under `CLUSTER_DIR` and becomes supervisord.
"""

__all__ = ["nginx", "settings", "supervisor"]
