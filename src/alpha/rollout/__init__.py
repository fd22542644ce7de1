"""The workflow after a proposal is stored: approvals, the staged rollout (sandbox, canary,
production) with monitoring and automatic rollback, crash-safe journalling and resume.
The CLI calls `alpha.rollout.service.RolloutService`."""

# Nothing is exported from the package itself: other packages import from its modules,
# each of which lists its public names in its own __all__.
__all__: list[str] = []
