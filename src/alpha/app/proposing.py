"""Use cases from usage to proposals: `generate` (proposals to look at, nothing stored) and
`propose` (the same, stored for approval, content-hashed and immutable).

Both ingest the sources once; a principal the generator cannot propose for is a failure
beside the others' proposals. The first `propose` imports the account as the store's working
copy, which rollouts change (never the user's file). An account read live (`aws`) is not
copied: the store records that its proposals roll out to live IAM, and each proposal keeps the
principal's state as read (`baseline`), which a rollout compares with IAM before each stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alpha.app.backends import (
    Backends,
    PolicyEngine,
    account_copy_name,
    is_live_account,
    live_copy_name,
)
from alpha.generate.model import GenerationFailure
from alpha.generate.run import GenerationPlan, GenerationRun, Outcome, collect
from alpha.policy.org_policies import OrgGuardrails
from alpha.rollout.identity import check_name
from alpha.rollout.metrics import GENERATION_FAILED
from alpha.store.model import TARGETS_KEY, ProposalState, StoredProposal
from alpha.store.ports import Store
from alpha.usage.ports import TimeWindow

__all__ = [
    "PROPOSAL_CREATED",
    "GenerateRequest",
    "Generated",
    "GenerationStream",
    "ProposalSummary",
    "ProposeResult",
    "Proposed",
    "generate",
    "import_account_once",
    "persist",
    "prepare",
    "propose",
    "record_failures",
]

PROPOSAL_CREATED = "proposal.created"
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """What to generate from: the account (as the user named it), CloudTrail sources, the
    window, and one principal or (None) every principal with usage."""

    account: str
    sources: tuple[str, ...]
    principal: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    # Keep today's grants of a service whose calls ALPHA cannot map (issue 10)
    keep_unmapped: bool = True
    # The SCPs and RCPs over the account (issue 16): what they deny is not granted today
    org: OrgGuardrails = field(default_factory=OrgGuardrails)


@dataclass(frozen=True, slots=True)
class Generated:
    account_id: str
    run: GenerationRun


@dataclass(frozen=True, slots=True)
class Proposed:
    """One proposal of a `propose` run, whole: stored now (`created`) or already stored. The
    run hands it to its `on_stored` hooks as it is stored, then keeps only its summary."""

    proposal: StoredProposal
    created: bool
    blocked: bool
    state: ProposalState

    def summary(self) -> ProposalSummary:
        document = self.proposal.document
        violations = document.get("guardrail_violations") or []
        return ProposalSummary(
            id=self.proposal.id,
            short_id=self.proposal.short_id,
            principal=self.proposal.principal,
            created=self.created,
            blocked=self.blocked,
            state=self.state,
            privilege_reduction=(document.get("diff") or {}).get("privilege_reduction"),
            risk_of_break=(document.get("risk_signal") or {}).get("probability_of_break"),
            guardrail_violations=tuple(violations),
        )


@dataclass(frozen=True, slots=True)
class ProposalSummary:
    """What a `propose` run reports of each proposal, a few hundred bytes: a run over tens of
    thousands of principals keeps these, never the proposals themselves."""

    id: str
    short_id: str
    principal: str
    created: bool
    blocked: bool
    state: ProposalState
    privilege_reduction: float | None
    risk_of_break: float | None
    guardrail_violations: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short_id": self.short_id,
            "principal": self.principal,
            "created": self.created,
            "blocked": self.blocked,
            "privilege_reduction": self.privilege_reduction,
            "risk_of_break": self.risk_of_break,
            "guardrail_violations": list(self.guardrail_violations),
        }


@dataclass(frozen=True, slots=True)
class ProposeResult:
    proposed: tuple[ProposalSummary, ...]
    failures: tuple[GenerationFailure, ...]
    account_copy: str
    account_imported: bool

    @property
    def blocked(self) -> bool:
        """A stored proposal has guardrail violations that block its approval."""
        return any(p.blocked for p in self.proposed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposals": [p.to_dict() for p in self.proposed],
            "failures": [f.to_dict() for f in self.failures],
            "account_copy": {"name": self.account_copy, "imported": self.account_imported},
        }


@dataclass(frozen=True, slots=True)
class GenerationStream:
    """A run with its usage read, whose proposals are made as `outcomes()` is iterated: for
    many principals, each can be written out and let go before the next is made. With an
    `engine`, that engine writes the policies (Access Analyzer) instead of ALPHA."""

    account_id: str
    plan: GenerationPlan
    engine: PolicyEngine | None = None

    def outcomes(self) -> Iterator[Outcome]:
        if self.engine is not None:
            return self.engine.outcomes(self.plan)
        return self.plan.outcomes()


def prepare(
    backends: Backends, request: GenerateRequest, on_progress: Progress | None = None
) -> GenerationStream:
    """Read the account and ingest the sources once; the proposals are made on demand."""
    from alpha.generate import GenerationSettings
    from alpha.generate.run import plan_generation

    snapshot = backends.read_account(request.account)
    engine = backends.policy_engine()  # its settings are checked before the logs are read
    principal = request.principal
    if principal is not None:
        principal = snapshot.principal(principal).arn  # unknown: fail before reading logs
    guardrails = backends.guardrails()
    sources = [backends.usage_source(text) for text in request.sources]
    with backends.open_usage_store() as usage:
        plan = plan_generation(
            snapshot,
            backends.catalog(),
            guardrails,
            sources=sources,
            store=usage,
            window=request.window,
            principal=principal,
            settings=GenerationSettings(keep_unmapped=request.keep_unmapped),
            reasoner=backends.reasoner(),
            on_progress=on_progress,
            org=request.org,
            reopen=backends.open_usage_store,  # rows are read a part at a time, later
        )
    account_id = snapshot.account_id or (principal or "::::").split(":")[4]
    return GenerationStream(account_id, plan, engine)


def generate(
    backends: Backends, request: GenerateRequest, on_progress: Progress | None = None
) -> Generated:
    """The generator's proposals for the request, from one ingest of its sources, all held."""
    stream = prepare(backends, request, on_progress)
    run = collect(stream.outcomes())
    _report(on_progress, len(run.proposals), len(run.failures))
    return Generated(stream.account_id, run)


def propose(
    backends: Backends,
    request: GenerateRequest,
    by: str,
    on_progress: Progress | None = None,
    *,
    check_time: Callable[[Store, datetime], None] | None = None,
    on_stored: Callable[[Proposed], None] = lambda _: None,
) -> ProposeResult:
    """Generate, storing each proposal as it is made (auditing the new ones) and each failure;
    `check_time` may refuse the store's clock before anything is written; `on_stored` hears of
    each proposal, whole, once it is stored, and the result keeps only its summary."""
    by = check_name(by, "proposer's name")  # before any work: it is what approvals compare
    stream = prepare(backends, request, on_progress)
    when = backends.clock()()
    proposed: list[ProposalSummary] = []
    failures: list[GenerationFailure] = []
    with backends.open_store() as store:
        if check_time is not None:
            check_time(store, when)
        copy, imported = import_account_once(backends, store, request.account, stream.account_id)
        baseline = _baselines(backends, request.account)
        for outcome in stream.outcomes():
            if isinstance(outcome, GenerationFailure):
                failures.append(outcome)
            else:
                for item in persist(store, [outcome.to_dict()], by, when, baseline):
                    on_stored(item)
                    proposed.append(item.summary())
        record_failures(store, failures, by, when)
    _report(on_progress, len(proposed), len(failures))
    return ProposeResult(tuple(proposed), tuple(failures), copy, imported)


def _report(on_progress: Progress | None, proposals: int, failures: int) -> None:
    if on_progress is not None:
        failed = f", {failures} failed" if failures else ""
        on_progress(f"{proposals} proposals{failed}")


def import_account_once(
    backends: Backends, store: Store, account: str, account_id: str
) -> tuple[str, bool]:
    """The account's working copy name; imported when the store has none (a copy the
    rollout has changed is never overwritten by the file)."""
    from alpha.adapters.local.working_copy_iam import import_account_copy

    if is_live_account(account):
        name = live_copy_name(account_id)
        if store.account_copy(name) != {"source": account}:
            store.save_account_copy(name, {"source": account})
        return name, False
    name = account_copy_name(account_id)
    if store.account_copy(name) is not None:
        return name, False
    import_account_copy(store, name, backends.account_document(account))
    return name, True


Baseline = Callable[[str], "dict[str, Any] | None"]


def _baselines(backends: Backends, account: str) -> Baseline | None:
    """Each principal's state as the live read showed it; None for a file (its working copy
    is the store's, changed only by rollouts)."""
    if not is_live_account(account):
        return None
    from alpha.adapters.local.working_copy_iam import normalised_account, state_in_document

    document = normalised_account(backends.account_document(account))
    return lambda principal: state_in_document(document, principal, account)


def persist(
    store: Store,
    documents: Sequence[dict[str, Any]],
    by: str,
    now: datetime,
    baseline: Baseline | None = None,
    *,
    targets: Sequence[str] = (),
) -> list[Proposed]:
    """Store each generated proposal (immutable, by content hash), auditing the new ones;
    with `baseline`, the principal's state it was made from is kept in its plan; with
    `targets` (a fleet: the role in each account), the plan names every principal it changes."""
    from alpha.rollout.drift import BASELINE_KEY

    found: list[Proposed] = []
    for document in documents:
        principal = str(document["principal"])
        plan: dict[str, Any] = {"steps": document.get("plan") or []}
        if targets:
            plan[TARGETS_KEY] = list(targets)
        made_from = baseline(principal) if baseline is not None else None
        if made_from is not None:
            plan[BASELINE_KEY] = {principal: made_from}
        proposal = StoredProposal.create(
            principal=principal,
            document=document,
            plan=plan,
            created_by=by,
            created_at=now,
        )
        with store.transaction():
            created = store.save_proposal(proposal)
            if created:
                store.append_audit(
                    at=now,
                    proposal_id=proposal.id,
                    actor=by,
                    action=PROPOSAL_CREATED,
                    reason="generated from observed usage",
                    details={"principal": proposal.principal},
                )
        stored = proposal if created else store.proposal(proposal.id) or proposal
        state = store.proposal_state(stored.id)
        found.append(Proposed(stored, created, bool(document.get("blocked")), state))
    return found


def record_failures(
    store: Store, failures: Sequence[GenerationFailure], by: str, now: datetime
) -> None:
    for failure in failures:
        store.append_audit(
            at=now,
            proposal_id=None,
            actor=by,
            action=GENERATION_FAILED,
            reason=failure.reason,
            details={"principal": failure.principal},
        )
