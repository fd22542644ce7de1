"""The workflow after a proposal is stored: approvals, the staged rollout (sandbox, canary,
production) with monitoring and automatic rollback, crash-safe journalling and resume.
The CLI calls `alpha.rollout.service.RolloutService`."""
