"""Where each target of a rollout stands, for a fleet proposal's per-account status: which
accounts the canary has changed, which production has, and which a rollback restored.

Read from the stage records alone (each stage notes the state it left every target in, as
`enforced`), so the answer is the same after a crash and in every interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpha.rollout.drift import ENFORCED_KEY
from alpha.rollout.iam_ports import JsonDict
from alpha.store.model import ProposalState, Stage, StageRecord, StoredProposal

__all__ = ["TargetState", "target_states"]


@dataclass(frozen=True, slots=True)
class TargetState:
    """One target: its account, its ARN, and `not changed`, `canary`, `production`, `rolled
    back`, or a stage with `(rollback not finished)` (a rollback failed or was interrupted)."""

    account: str
    principal: str
    state: str

    def to_dict(self) -> JsonDict:
        return {"account": self.account, "principal": self.principal, "state": self.state}


def target_states(
    proposal: StoredProposal, state: ProposalState, stages: Sequence[StageRecord]
) -> tuple[TargetState, ...]:
    """Each target's state, in rollout order (the canary's accounts first)."""
    reached: dict[str, str] = {}
    for record in stages:
        if record.stage in (Stage.CANARY, Stage.PRODUCTION):
            for target in record.metrics.get(ENFORCED_KEY) or {}:
                if reached.get(target) != Stage.PRODUCTION.value:
                    reached[target] = record.stage.value
    return tuple(
        TargetState(target.split(":")[4], target, _shown(reached.get(target), state))
        for target in proposal.targets
    )


def _shown(reached: str | None, state: ProposalState) -> str:
    if reached is None:
        return "not changed"
    if state is ProposalState.ROLLED_BACK:
        return "rolled back"
    if state is ProposalState.FAILED:
        return f"{reached} (rollback not finished)"
    return reached
