"""The seed's metrics, computed from the store's records (for `alpha status`).

- Generation success rate: stored proposals / (stored proposals + audit events with action
  `GENERATION_FAILED`, which `alpha propose` appends for a principal it could not propose for).
- Approval time: from proposing to the first binding approval, mean and median.
- Rollout failure rate: finished rollouts that were rolled back or failed, per finished
  rollout; and per stage, failed stage records per stage record that finished.
- Privilege reduction: the mean `diff.privilege_reduction` of the proposals that reached
  production (succeeded), and of all proposals.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from alpha.rollout.approvals import approval_time
from alpha.store.model import ProposalState, StageRecord, StageState
from alpha.store.ports import Store

__all__ = [
    "GENERATION_FAILED",
    "Metrics",
    "ProposalFacts",
    "generation_failures",
    "metrics_of",
]


GENERATION_FAILED = "generation_failed"
_FINISHED = (ProposalState.SUCCEEDED, ProposalState.ROLLED_BACK, ProposalState.FAILED)
_STAGE_DONE = (StageState.PASSED, StageState.FAILED, StageState.ROLLED_BACK)


@dataclass(frozen=True, slots=True)
class Metrics:
    proposals: int
    by_state: dict[str, int]
    generation_success_rate: float | None
    approval_seconds_mean: float | None
    approval_seconds_median: float | None
    rollouts_finished: int
    rollout_failure_rate: float | None
    stage_failure_rate: dict[str, float]
    privilege_reduction_applied: float | None
    privilege_reduction_proposed: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposals": self.proposals,
            "by_state": dict(self.by_state),
            "generation_success_rate": self.generation_success_rate,
            "approval_time_seconds": {
                "mean": self.approval_seconds_mean,
                "median": self.approval_seconds_median,
            },
            "rollouts_finished": self.rollouts_finished,
            "rollout_failure_rate": self.rollout_failure_rate,
            "stage_failure_rate": dict(self.stage_failure_rate),
            "privilege_reduction": {
                "applied": self.privilege_reduction_applied,
                "proposed": self.privilege_reduction_proposed,
            },
        }


@dataclass(frozen=True, slots=True)
class ProposalFacts:
    """What the metrics need of one proposal."""

    state: ProposalState
    privilege_reduction: float | None
    approval_wait: timedelta | None
    stages: tuple[StageRecord, ...] = ()


def metrics(store: Store) -> Metrics:
    facts = [
        ProposalFacts(
            store.proposal_state(p.id),
            _reduction(p.document),
            approval_time(p, store.approvals(p.id)),
            tuple(store.stages(p.id)),
        )
        for p in store.proposals()
    ]
    return metrics_of(facts, generation_failures(store))


def generation_failures(store: Store) -> int:
    return sum(1 for e in store.audit() if e.action == GENERATION_FAILED)


def metrics_of(facts: Sequence[ProposalFacts], failures: int) -> Metrics:
    """The metrics of these proposals, `failures` being the principals none could be made for."""
    by_state = {s.value: sum(1 for f in facts if f.state is s) for s in ProposalState}
    waits = [f.approval_wait.total_seconds() for f in facts if f.approval_wait is not None]
    finished = [f.state for f in facts if f.state in _FINISHED]
    bad = sum(1 for s in finished if s is not ProposalState.SUCCEEDED)
    applied = [
        f.privilege_reduction
        for f in facts
        if f.privilege_reduction is not None and f.state is ProposalState.SUCCEEDED
    ]
    proposed = [f.privilege_reduction for f in facts if f.privilege_reduction is not None]
    return Metrics(
        proposals=len(facts),
        by_state=by_state,
        generation_success_rate=_ratio(len(facts), len(facts) + failures),
        approval_seconds_mean=statistics.fmean(waits) if waits else None,
        approval_seconds_median=statistics.median(waits) if waits else None,
        rollouts_finished=len(finished),
        rollout_failure_rate=_ratio(bad, len(finished)),
        stage_failure_rate=_stage_failures([r for f in facts for r in f.stages]),
        privilege_reduction_applied=statistics.fmean(applied) if applied else None,
        privilege_reduction_proposed=statistics.fmean(proposed) if proposed else None,
    )


def _stage_failures(records: Sequence[StageRecord]) -> dict[str, float]:
    done: dict[str, int] = {}
    failed: dict[str, int] = {}
    for record in records:
        if record.state in _STAGE_DONE:
            done[record.stage.value] = done.get(record.stage.value, 0) + 1
            is_failure = record.state is StageState.FAILED
            failed[record.stage.value] = failed.get(record.stage.value, 0) + int(is_failure)
    return {stage: failed[stage] / count for stage, count in done.items()}


def _reduction(document: dict[str, Any]) -> float | None:
    value = (document.get("diff") or {}).get("privilege_reduction")
    return float(value) if isinstance(value, int | float) else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
