"""AWS Lambda handlers for the serverless deployment, each thin over `alpha.app`."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
