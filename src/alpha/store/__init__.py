"""Where proposals, approvals, rollouts and the audit log are kept: the `Store` port and its
records. Adapters: SQLite (`alpha.adapters.local.sqlite_store`), the embedded default."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
