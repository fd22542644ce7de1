"""Adapters over Slack: notifications through the Web API (a bot) or an incoming webhook."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
