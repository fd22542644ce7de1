"""What generation takes in and gives back: observed calls, settings, the proposal.

`ObservedCall` is one (action, resource) a principal was allowed to call in the window. The
usage store does not keep the region, source IP or passed role of a call yet, so those fields
are optional; when present, replay uses them as request context (`aws:RequestedRegion`,
`aws:SourceIp`) and inference uses the passed roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alpha.guardrails import GuardrailResult, Violation
from alpha.policy.diff import PolicyDiff
from alpha.policy.model import Policy
from alpha.policy.org_policies import OrgGuardrails
from alpha.policy.org_record import RECORD_KEY, guardrails_to_dict
from alpha.policy.serialize import to_document
from alpha.reasoning import Reasoning
from alpha.usage.people import PeopleAtRisk

__all__ = ["DroppedCall", "GenerationFailure", "PolicyProposal", "Replay"]


@dataclass(frozen=True, slots=True)
class GenerationFailure:
    """A principal the generator could not propose for, and why; the run goes on without it."""

    principal: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"principal": self.principal, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ObservedCall:
    """Calls of one action on one resource (`*` when the logs do not say which)."""

    action: str
    resource: str
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    regions: tuple[str, ...] = ()
    source_ips: tuple[str, ...] = ()
    passed_roles: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        return self.action.partition(":")[0].lower()


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """Thresholds of resource scoping and of the quota fallback.

    At most `max_exact_resources` distinct ARNs of one kind are listed as they are; above that
    they become at most `max_resource_patterns` prefix patterns cut at `/` or `:`, never
    shorter than the resource's container (the bucket, the table, the `function:` part).
    """

    max_exact_resources: int = 5
    max_resource_patterns: int = 3
    policy_name: str = "alpha-least-privilege"
    infer_kms: bool = True
    infer_list_bucket: bool = True
    infer_create_tags: bool = True
    infer_pass_role: bool = True
    # Today's grants of a service whose calls ALPHA cannot map are kept (False: dropped, and
    # those calls will fail once the proposal is applied).
    keep_unmapped: bool = True


@dataclass(frozen=True, slots=True)
class InferredGrant:
    """A permission CloudTrail does not show, added because an observed call needs it."""

    action: str
    resource: str
    reason: str
    condition: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "resource": self.resource}
        if self.condition is not None:
            out["condition"] = self.condition
        out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class DroppedCall:
    """An observed call the proposal does not allow, and why."""

    action: str
    resource: str
    count: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "count": self.count,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Replay:
    """Observed successful calls evaluated against the final policy.

    `observed`/`allowed` count distinct (action, resource) calls; `observed_events` and
    `allowed_events` weigh each by how often it was made."""

    observed: int
    allowed: int
    observed_events: int
    allowed_events: int
    removed_by_guardrails: tuple[DroppedCall, ...] = ()
    not_granted_today: tuple[DroppedCall, ...] = ()
    # Calls no replay can check against the real request (`alpha.usage.authorisations`): an
    # unmapped call, or a resource the logs do not name. Listed, with why, never hidden.
    unchecked: tuple[DroppedCall, ...] = ()
    # Calls the proposal allows but the organization's SCPs/RCPs deny (today too): not
    # breakage the proposal causes, so still counted in `allowed` (`alpha.generate.org_replay`)
    denied_by_org: tuple[DroppedCall, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "observed": self.observed,
            "allowed": self.allowed,
            "observed_events": self.observed_events,
            "allowed_events": self.allowed_events,
            "removed_by_guardrails": [c.to_dict() for c in self.removed_by_guardrails],
            "not_granted_today": [c.to_dict() for c in self.not_granted_today],
        }
        if self.unchecked:
            out["unchecked"] = [c.to_dict() for c in self.unchecked]
        if self.denied_by_org:
            out["denied_by_org"] = [c.to_dict() for c in self.denied_by_org]
        return out


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One change to apply: `detach` a managed policy, `delete` an inline one,
    `remove_from_group`, `keep` what cannot be replaced, or `attach` the new policy."""

    action: str
    kind: str
    name: str
    arn: str | None = None
    note: str | None = None
    shared_with: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "kind": self.kind, "name": self.name}
        if self.arn is not None:
            out["arn"] = self.arn
        if self.shared_with:
            out["shared_with"] = list(self.shared_with)
        if self.note is not None:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class ChangePlan:
    steps: tuple[PlanStep, ...]

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]


@dataclass(frozen=True, slots=True)
class EvidenceSummary:
    window_start: datetime
    window_end: datetime
    events: int
    principals: int
    sessions: int
    data_events_logged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {
                "start": _iso(self.window_start),
                "end": _iso(self.window_end),
            },
            "events": self.events,
            "principals": self.principals,
            "sessions": self.sessions,
            "data_events_logged": self.data_events_logged,
        }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class PolicyProposal:
    """The seed's PolicyProposal plus the diff, evidence, inferred grants, replay and plan."""

    principal: str
    proposed_policy: Policy
    reasoning: Reasoning
    guardrails: GuardrailResult
    diff: PolicyDiff
    evidence: EvidenceSummary
    inferred: tuple[InferredGrant, ...]
    replay: Replay
    plan: ChangePlan
    notes: tuple[str, ...] = ()
    size: int = 0
    attach_as: str = "inline"
    # The SCP/RCP levels it was made under, which the rollout's sandbox replays with
    organization: OrgGuardrails = field(default_factory=OrgGuardrails)
    # whose work it might break: the people behind a shared role most exposed (None: no person)
    people_at_risk: PeopleAtRisk | None = None

    @property
    def violations(self) -> tuple[Violation, ...]:
        return self.guardrails.violations

    @property
    def blocked(self) -> bool:
        return self.guardrails.blocked

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "proposed_policy": to_document(self.proposed_policy),
            "rationale": self.reasoning.rationale,
            "risk_signal": self.reasoning.risk_signal.to_dict(),
            "guardrail_violations": [v.as_json() for v in self.guardrails.violations],
            "remediation_notes": list(self.reasoning.remediation_notes),
            "diff": self.diff.to_dict(),
            "evidence": self.evidence.to_dict(),
            "inferred": [i.to_dict() for i in self.inferred],
            "replay": self.replay.to_dict(),
            "plan": self.plan.to_dict(),
            "guardrail_fixes": [f.as_json() for f in self.guardrails.fixes],
            "blocked": self.blocked,
            "size": {"characters": self.size, "attach_as": self.attach_as},
            "notes": list(self.notes),
            **(
                {"people_at_risk": self.people_at_risk.to_dict()}
                if self.people_at_risk is not None
                else {}
            ),
            **self.reasoning.recorded(),
            **(
                {}
                if self.organization.empty
                else {RECORD_KEY: guardrails_to_dict(self.organization)}
            ),
        }
