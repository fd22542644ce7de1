"""`alpha demo`: the whole loop on a bundled sample account and its CloudTrail."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
