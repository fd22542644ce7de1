"""`--engine access-analyzer`: IAM Access Analyzer writes the policy; ALPHA holds it to the
same rules as its own.

For each principal of the plan, in turn (Access Analyzer runs one job per account at a time):

1. ALPHA's own proposal is made (the reference the two engines are compared with);
2. Access Analyzer generates its policy from the trail over the same window (its last 90
   days: Access Analyzer reads no more); placeholders are filled from the principal's usage
   (`alpha.app.placeholders`);
3. the never-widen proof (`no_new_access` against today's identity policies): a policy that
   would grant more than today is never proposed (the failure names the counterexample);
4. the guardrails (`enforce`), proven again when they changed the policy;
5. the replay of every observed call (`alpha.app.engine_checks`): a call the policy would
   break blocks approval;
6. with `[analyzer] checks` on, Access Analyzer's own `CheckNoNewAccess` (a second,
   independent proof: FAIL blocks) and `ValidatePolicy` (ERROR findings block, others warn);
7. the evidence, the reasoner, and the proposal: ALPHA's change plan with the Access
   Analyzer policy, and an `engine` section recording the job, the placeholders, the proofs,
   the validation and every action or resource only one engine grants.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import msgspec

from alpha.adapters.aws.analyzer_model import (
    AnalyzerError,
    AnalyzerQuotaError,
    GeneratedPolicy,
    NoNewAccessCheck,
    TrailAccess,
    ValidationFinding,
)
from alpha.app.engine_checks import (
    CandidateReplay,
    disagreements,
    replay_candidate,
    replayed_rows,
)
from alpha.app.errors import SettingsError
from alpha.app.model_settings import AnalyzerSettings
from alpha.app.placeholders import PlaceholderFinding, fill_placeholders
from alpha.generate import GenerateError, ProposalGenerator
from alpha.generate.model import GenerationFailure, PolicyProposal
from alpha.generate.run import GenerationPlan, Outcome
from alpha.guardrails import Violation, enforce
from alpha.policy.compare import NewAccess, NoNewAccess, no_new_access
from alpha.policy.diff import diff_policies
from alpha.policy.errors import PolicyError
from alpha.policy.findings import Severity
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.policy.serialize import to_document
from alpha.policy.validate import policy_size
from alpha.reasoning import build_evidence
from alpha.usage.aggregate import UsageRow

__all__ = [
    "AnalyzerEngine",
    "AnalyzerProposal",
    "AnalyzerService",
    "EngineReport",
    "analyzer_window",
]

ENGINE = "access-analyzer"
ANALYZER_DAYS = 90  # the longest window StartPolicyGeneration takes


class AnalyzerService(Protocol):
    def generate(self, principal_arn: str, trail: TrailAccess) -> GeneratedPolicy: ...

    def check_no_new_access(
        self, new: dict[str, Any], existing: dict[str, Any]
    ) -> NoNewAccessCheck: ...

    def validate(self, document: dict[str, Any]) -> tuple[ValidationFinding, ...]: ...


@dataclass(frozen=True, slots=True)
class EngineReport:
    job_id: str
    generated: tuple[dict[str, Any], ...]
    placeholders: tuple[PlaceholderFinding, ...]
    disagreements: dict[str, list[str]]
    check: NoNewAccessCheck | None
    validation: tuple[ValidationFinding, ...]
    replay: CandidateReplay

    def to_dict(self) -> dict[str, Any]:
        second: dict[str, Any] = (
            self.check.to_dict()
            if self.check is not None
            else {"result": "not run", "message": "[analyzer] checks is off"}
        )
        return {
            "name": ENGINE,
            "job_id": self.job_id,
            "generated_policies": list(self.generated),
            "placeholders": [p.to_dict() for p in self.placeholders],
            "disagreements": self.disagreements,
            "proofs": {
                "alpha_never_widen": {"result": "no new access"},
                "access_analyzer_check_no_new_access": second,
            },
            "validation": [f.to_dict() for f in self.validation],
            "replay": {
                "missed": [c.to_dict() for c in self.replay.missed],
                "unchecked": [c.to_dict() for c in self.replay.unchecked],
            },
        }


@dataclass(frozen=True, slots=True)
class AnalyzerProposal(PolicyProposal):
    """A proposal whose policy Access Analyzer wrote, with the `engine` section."""

    engine: EngineReport | None = None

    def to_dict(self) -> dict[str, Any]:
        # Named, not super(): slotted dataclasses are rebuilt, which breaks super()'s cell.
        document = PolicyProposal.to_dict(self)
        if self.engine is not None:
            document["engine"] = self.engine.to_dict()
        return document


class AnalyzerEngine:
    """Makes a plan's proposals with Access Analyzer's policies (see the module docstring)."""

    def __init__(self, analyzer: AnalyzerService, settings: AnalyzerSettings) -> None:
        if settings.trail is None or settings.role is None:
            raise SettingsError(
                "--engine access-analyzer needs the trail and the role Access Analyzer reads "
                "it with: ALPHA_ANALYZER_TRAIL and ALPHA_ANALYZER_ROLE, or [analyzer] trail "
                "and role in alpha.toml"
            )
        self._analyzer = analyzer
        self._trail, self._role = settings.trail, settings.role
        self._checks = settings.checks

    def outcomes(self, plan: GenerationPlan) -> Iterator[Outcome]:
        """One principal after the other: the account runs one generation job at a time."""
        for arn, rows, days in plan.jobs:
            yield self._one(plan, arn, rows, days)

    def _one(
        self, plan: GenerationPlan, arn: str, rows: list[UsageRow], days: dict[str, int]
    ) -> Outcome:
        generator = plan.generator
        try:
            own = generator.propose(arn, rows, plan.context, days)
        except GenerateError as exc:
            return GenerationFailure(generator.snapshot.principal(arn).arn, str(exc))
        start, end = analyzer_window(*plan.context.window)
        try:
            generated = self._analyzer.generate(
                own.principal, TrailAccess(self._trail, self._role, start, end)
            )
        except AnalyzerQuotaError:
            raise  # every later principal would fail the same way: the run ends here
        except AnalyzerError as exc:
            return GenerationFailure(own.principal, f"Access Analyzer: {exc}")
        try:
            return self._propose(own, generated, rows, days, generator)
        except (PolicyError, ValueError) as exc:
            return GenerationFailure(own.principal, f"Access Analyzer's policy: {exc}")

    def _propose(
        self,
        own: PolicyProposal,
        generated: GeneratedPolicy,
        rows: Sequence[UsageRow],
        days: dict[str, int],
        generator: ProposalGenerator,
    ) -> Outcome:
        arn, catalog = own.principal, generator.catalog
        documents = tuple(json.loads(text) for text in generated.documents)
        if not documents:
            return GenerationFailure(
                arn, f"Access Analyzer generated no policy ({generated.job_id})"
            )
        observed = [(r.action, r.resource) for r in rows if r.count > 0 and r.resource != "*"]
        filled = fill_placeholders(_merged(documents), observed, arn.split(":")[1])
        existing = generator.snapshot.effective_policies(arn).documents
        policy = parse_policy(filled.document, "Access Analyzer's policy")
        widening = _widening(existing, policy, generator)
        if widening is not None:
            return GenerationFailure(arn, widening)
        guarded = enforce(policy, catalog, generator.guardrails)
        if guarded.fixes and (widening := _widening(existing, guarded.policy, generator)):
            return GenerationFailure(arn, widening)
        final = guarded.policy
        today = Policy(tuple(s for p in existing for s in p.statements))
        replayed = replay_candidate(final, existing, rows, catalog)
        check, validation = self._aws_checks(final, today)
        extra = _blocking(replayed, check, validation)
        guardrails = replace(guarded, violations=(*guarded.violations, *extra))
        diff = diff_policies(today, final, catalog)
        org = generator.org.findings(arn, replayed_rows(rows), final, diff)
        mine = [msgspec.structs.replace(r, principal=arn) for r in rows]
        evidence = build_evidence(
            principal=arn,
            window=(own.evidence.window_start, own.evidence.window_end),
            rows=mine,
            diff=diff,
            catalog=catalog,
            data_events_logged=own.evidence.data_events_logged,
            replay=(replayed.replay.observed, replayed.replay.allowed),
            violations=guardrails.violations,
            days_seen=days,
            org_blocked=org.blocked,
        )
        report = EngineReport(
            generated.job_id,
            documents,
            filled.findings,
            disagreements(own.proposed_policy, final, catalog),
            check,
            validation,
            replayed,
        )
        return AnalyzerProposal(
            principal=arn,
            proposed_policy=final,
            reasoning=generator.reasoner.reason(evidence),
            guardrails=guardrails,
            diff=diff,
            evidence=own.evidence,
            inferred=(),
            replay=replace(replayed.replay, denied_by_org=org.denied),
            plan=own.plan,
            notes=(*_notes(generated, filled.findings), *org.notes),
            size=policy_size(final),
            attach_as=own.attach_as,
            organization=org.levels,
            engine=report,
        )

    def _aws_checks(
        self, final: Policy, today: Policy
    ) -> tuple[NoNewAccessCheck | None, tuple[ValidationFinding, ...]]:
        if not self._checks:
            return None, ()
        document = to_document(final)
        try:
            check = self._analyzer.check_no_new_access(document, to_document(today))
            return check, self._analyzer.validate(document)
        except AnalyzerError as exc:
            # Not reachable after all: said in the proposal, and blocking, never skipped quietly.
            return NoNewAccessCheck("ERROR", str(exc), ()), ()


def analyzer_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The usage window, cut to the last `ANALYZER_DAYS` days: Access Analyzer reads no more."""
    return max(start, end - timedelta(days=ANALYZER_DAYS)), end


def _merged(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    statements: list[Any] = []
    for document in documents:
        found = document.get("Statement") or []
        statements += [found] if isinstance(found, dict) else list(found)
    return {"Version": "2012-10-17", "Statement": statements}


def _widening(
    existing: Sequence[Policy], policy: Policy, generator: ProposalGenerator
) -> str | None:
    check = no_new_access(existing, [policy], generator.catalog)
    if isinstance(check, NoNewAccess):
        return None
    if isinstance(check, NewAccess):
        found = check.counterexample
        detail = f"it allows {found.action} on {found.resource}"
    else:
        detail = f"{check.statement}: {check.reason}"
    return (
        f"Access Analyzer's policy would grant more than today's policies ({detail}); never "
        f"proposed (use --engine alpha for this principal)"
    )


def _blocking(
    replayed: CandidateReplay,
    check: NoNewAccessCheck | None,
    validation: Sequence[ValidationFinding],
) -> list[Violation]:
    found: list[Violation] = []
    if replayed.missed:
        calls = ", ".join(f"{c.action} on {c.resource}" for c in replayed.missed[:5])
        found.append(
            Violation(
                "ANALYZER_BREAKS_CALLS",
                f"{len(replayed.missed)} observed calls would be denied: {calls}",
                "",
                Severity.ERROR,
            )
        )
    if check is not None and check.result != "PASS":
        why = "; ".join(check.reasons) or check.message
        found.append(
            Violation("ANALYZER_CHECK_NO_NEW_ACCESS", f"{check.result}: {why}", "", Severity.ERROR)
        )
    for finding in validation:
        severity = Severity.ERROR if finding.blocks else Severity.WARNING
        message = f"{finding.finding_type}: {finding.detail}"
        found.append(Violation(f"VALIDATE_{finding.issue_code}", message, "", severity))
    return found


def _notes(generated: GeneratedPolicy, findings: Sequence[PlaceholderFinding]) -> tuple[str, ...]:
    notes = [f"Policy written by IAM Access Analyzer (job {generated.job_id})."]
    if not generated.complete:
        notes.append("Access Analyzer says its policy is incomplete (isComplete false).")
    notes += [f.message for f in findings if f.outcome != "filled"]
    return tuple(notes)
