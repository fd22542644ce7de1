"""Where proposals, approvals, rollouts and the audit log are kept: the `Store` port and its
records. Adapters: SQLite (`alpha.adapters.local.sqlite_store`), the embedded default."""
