"""The Slack app: approve and reject from Slack (buttons on each proposal's message, and the
`/alpha` slash command), thin over `alpha.app` like the command line."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
