"""Proposals: the least-privilege policy for one principal, proven, replayed, guarded, explained.

`ProposalGenerator.propose` runs the seed's Generate Policy, Reasoner and Guardrail steps:

1. draft the policy from the observed calls and the existing grants (`draft`), fit it into the
   size quotas (`quota`);
2. prove it never wider: `no_new_access(existing identity policies, [proposal])` must answer
   `NoNewAccess`; anything else is a bug (`GenerationBugError`) and nothing is emitted;
3. replay every observed call the existing policies allow: each must be allowed (else a bug too);
4. enforce the guardrails; replay again on the sanitised policy: calls it no longer allows are
   listed as removed by guardrails;
5. diff against today's policies, build the evidence, ask the reasoner, plan the change.

Under an organization (`org`, the account's SCP/RCP levels), the proof and the draft stay on
the identity policies and the replay lists apart the calls the levels deny; the proposal
records the levels; see `alpha.generate.org_replay` for why.

Replay counts distinct (action, resource) calls (`observed`, `allowed`) and the same weighted by
how often each was made (`observed_events`, `allowed_events`). Calls no identity policy allows
today are listed apart (`not_granted_today`) and are not in those counts: the proposal cannot
grant them without widening access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import msgspec

from alpha.account import AccountSnapshot, Role
from alpha.catalog import Catalog
from alpha.generate.draft import Draft, Drafter, ReplayCase
from alpha.generate.errors import GenerateError, GenerationBugError
from alpha.generate.existing import ExistingGrants
from alpha.generate.memo import MemoCatalog
from alpha.generate.model import (
    DroppedCall,
    EvidenceSummary,
    GenerationSettings,
    ObservedCall,
    PolicyProposal,
    Replay,
)
from alpha.generate.org_replay import OrgView
from alpha.generate.plan import change_plan
from alpha.generate.quota import fit
from alpha.guardrails import GuardrailConfig, enforce
from alpha.policy.compare import AccessCheck, NewAccess, NoNewAccess, no_new_access
from alpha.policy.diff import diff_policies
from alpha.policy.evaluate import PolicySet, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.org_policies import OrgGuardrails
from alpha.policy.validate import InlineOwner
from alpha.reasoning import LocalReasoner, Reasoner, build_evidence
from alpha.usage.aggregate import UsageRow
from alpha.usage.authorisations import (
    PASSED_TO,
    UNMAPPED_PREFIX,
    Scope,
    checked_call,
    service_prefix,
    unmapped_sources,
)
from alpha.usage.people import PeopleAtRisk, PersonUse, people_at_risk


@dataclass(frozen=True, slots=True)
class UsageContext:
    """What the whole usage source says, shared by every principal's proposal."""

    window: tuple[datetime, datetime]
    events: int
    principals: int
    data_events_logged: bool
    # per principal (the snapshot's ARN), the calls of the people behind it (shared roles)
    people: Mapping[str, Sequence[PersonUse]] = field(default_factory=dict)


PASS_ROLE = "iam:PassRole"


def observed_calls(rows: Sequence[UsageRow]) -> tuple[ObservedCall, ...]:
    """The successful calls of report rows (rows with only denied calls are not usage).

    CloudTrail never logs `iam:PassRole`: the usage layer records it, on the role the request
    names, for the calls that hand a role to a service. Those rows become the `passed_roles`
    of the passing calls, so the proposal grants PassRole as an inferred permission scoped by
    `iam:PassedToService`. Which call passed which role is not kept, so each passing call
    carries every role passed in the window."""
    used = [r for r in rows if r.count > 0]
    passing = any(r.action.lower() in PASSED_TO for r in used)
    passed = tuple(
        sorted({r.resource for r in used if r.action == PASS_ROLE and r.resource != "*"})
    )
    calls = (
        ObservedCall(
            r.action,
            r.resource,
            r.count,
            r.first_seen,
            r.last_seen,
            regions=tuple(r.regions),
            passed_roles=passed if r.action.lower() in PASSED_TO else (),
        )
        for r in used
        # PassRole rows ride on the passing calls; with none (AddRoleToInstanceProfile), a call
        if (r.action != PASS_ROLE or not passing) and not r.action.startswith(UNMAPPED_PREFIX)
    )
    return tuple(calls)


@dataclass(frozen=True, slots=True)
class UnmappedUse:
    """Allowed calls of one (eventSource, eventName) ALPHA could not map to IAM actions."""

    event_source: str
    event_name: str
    count: int
    prefix: str | None  # the IAM service, when the event source names one


def unmapped_uses(rows: Sequence[UsageRow], catalog: Catalog) -> tuple[UnmappedUse, ...]:
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        for call in unmapped_sources((row.action,)) if row.count > 0 else ():
            counts[call] = counts.get(call, 0) + row.count
    return tuple(
        UnmappedUse(source, name, count, service_prefix(catalog, source))
        for (source, name), count in sorted(counts.items())
    )


class ProposalGenerator:
    def __init__(
        self,
        catalog: Catalog,
        snapshot: AccountSnapshot,
        guardrails: GuardrailConfig,
        *,
        settings: GenerationSettings | None = None,
        reasoner: Reasoner | None = None,
        org: OrgGuardrails | None = None,
    ) -> None:
        self.catalog = MemoCatalog(catalog)
        self.org = OrgView(org or OrgGuardrails())
        self.snapshot = snapshot
        self.guardrails = guardrails
        self.settings = settings or GenerationSettings()
        self.reasoner = reasoner or LocalReasoner(self.catalog)
        roles: dict[str, list[str]] = {}
        for role in snapshot.roles:
            for profile in role.instance_profile_arns:
                roles.setdefault(profile, []).append(role.arn)
        self._roles_by_profile = {k: tuple(v) for k, v in roles.items()}

    def propose(
        self,
        principal: str,
        rows: Sequence[UsageRow],
        usage: UsageContext,
        days_seen: Mapping[str, int] | None = None,
    ) -> PolicyProposal:
        """The proposal for `principal` (any ARN form the snapshot resolves) from its rows;
        `days_seen` (action -> distinct days with a call) lets the risk tell a daily action
        from one seen on two far-apart days."""
        found = self.snapshot.principal(principal)
        arn = found.arn
        calls = observed_calls(rows)
        unmapped = unmapped_uses(rows, self.catalog)
        kept = [u.prefix for u in unmapped if u.prefix] if self.settings.keep_unmapped else []
        if not calls and not kept:
            named = ", ".join(f"{u.event_source} {u.event_name}" for u in unmapped)
            raise GenerateError(
                f"{arn}: no successful call in the usage window to base a policy on"
                + (f" (calls ALPHA cannot map: {named})" if named else "")
            )
        effective = self.snapshot.effective_policies(arn)
        existing = ExistingGrants(effective.documents)
        drafter = Drafter(
            existing,
            self.catalog,
            account=self.snapshot.account_id or _account_of(arn),
            roles_by_profile=self._roles_by_profile,
        )
        owner = InlineOwner.ROLE if isinstance(found, Role) else InlineOwner.USER
        fitted = fit(
            drafter.draft(calls, self.settings, kept),
            drafter=drafter,
            calls=calls,
            settings=self.settings,
            owner=owner,
            max_size=self.guardrails.max_policy_size,
        )
        draft = fitted.draft
        _prove(arn, existing.policies, draft.policy, self.catalog)
        _replay_or_fail(arn, draft)
        guarded = enforce(draft.policy, self.catalog, self.guardrails)
        if guarded.fixes:
            _prove(arn, existing.policies, guarded.policy, self.catalog)
            replay = _replay(draft, guarded.policy)
        else:
            replay = _full_replay(draft)
        unchecked = _unchecked(draft, unmapped, self.catalog, keep=self.settings.keep_unmapped)
        today = Policy(tuple(s for p in existing.policies for s in p.statements))
        diff = diff_policies(today, guarded.policy, self.catalog)
        replayed = ((case.call, case.requests) for case in draft.cases)
        org = self.org.findings(arn, replayed, guarded.policy, diff)
        replay = replace(replay, unchecked=unchecked, denied_by_org=org.denied)
        mine = [msgspec.structs.replace(r, principal=arn) for r in rows]
        at_risk = people_at_risk(usage.people.get(arn, ()), usage.window[1])
        evidence = build_evidence(
            principal=arn,
            window=usage.window,
            rows=mine,
            diff=diff,
            catalog=self.catalog,
            data_events_logged=usage.data_events_logged,
            replay=(replay.observed, replay.allowed),
            inferred=draft.inferred,
            violations=guarded.violations,
            days_seen=days_seen,
            org_blocked=org.blocked,
            people=at_risk,
        )
        return PolicyProposal(
            principal=arn,
            proposed_policy=guarded.policy,
            reasoning=self.reasoner.reason(evidence),
            guardrails=guarded,
            diff=diff,
            evidence=EvidenceSummary(
                usage.window[0],
                usage.window[1],
                usage.events,
                usage.principals,
                evidence.sessions,
                usage.data_events_logged,
            ),
            inferred=draft.inferred,
            replay=replay,
            plan=change_plan(
                self.snapshot,
                effective,
                policy_name=self.settings.policy_name,
                attach_as=fitted.attach_as,
            ),
            notes=(*fitted.notes, *draft.notes, *org.notes, *people_notes(at_risk)),
            size=fitted.size,
            attach_as=fitted.attach_as,
            organization=org.levels,
            people_at_risk=at_risk,
        )


def people_notes(at_risk: PeopleAtRisk | None) -> tuple[str, ...]:
    """The one line a reviewer reads about the people behind a shared role, when any is at
    risk (CloudTrail session names: shown as data, never as markup)."""
    if at_risk is None or not at_risk.top:
        return ()
    return (at_risk.summary()[0].upper() + at_risk.summary()[1:] + ".",)


def _account_of(arn: str) -> str | None:
    fields = arn.split(":")
    return fields[4] if len(fields) > 4 and fields[4] else None


def _prove(principal: str, existing: Sequence[Policy], policy: Policy, catalog: Catalog) -> None:
    check = no_new_access(existing, [policy], catalog)
    if not isinstance(check, NoNewAccess):
        raise GenerationBugError(principal, describe_check(check))


def describe_check(check: AccessCheck) -> str:
    if isinstance(check, NewAccess):
        example = check.counterexample
        return f"{check.statement} allows {example}"
    if isinstance(check, NoNewAccess):
        return "no new access"
    return f"{check.statement}: {check.reason}"


def _allowed(evaluator: object, case: ReplayCase) -> bool:
    evaluate = evaluator.evaluate  # type: ignore[attr-defined]
    return all(evaluate(request).allowed for request in case.requests)


def _replay_or_fail(principal: str, draft: Draft) -> None:
    evaluator = compile_policy_set(PolicySet(identity=(draft.policy,)))
    for case in draft.cases:
        if not _allowed(evaluator, case):
            call = case.call
            raise GenerationBugError(
                principal,
                f"the generated policy does not allow the observed call {call.action} on "
                f"{call.resource}, which today's policies allow",
            )


def _unchecked(
    draft: Draft, unmapped: Sequence[UnmappedUse], catalog: Catalog, *, keep: bool
) -> tuple[DroppedCall, ...]:
    """The calls replay could not check against the real request, as the sandbox reads them."""
    out = []
    for case in draft.cases:
        call = case.call
        checked = checked_call(catalog, call.action, call.resource)
        if checked.scope is Scope.UNKNOWN and checked.shortfall:
            granted = ", ".join(sorted({r.resource for r in case.requests}))
            reason = f"{checked.shortfall}: replayed on {granted}"
            out.append(DroppedCall(call.action, call.resource, call.count, reason))
    for use in unmapped:
        if not use.prefix:
            what = "no IAM service is known for its event source: nothing could be kept for it"
        elif keep:
            what = f"today's {use.prefix} grants are kept for it"
        else:
            what = f"today's {use.prefix} grants are dropped (told not to keep them)"
        reason = f"ALPHA cannot map {use.event_source} {use.event_name} to IAM actions: {what}"
        out.append(DroppedCall(f"{use.event_source} {use.event_name}", "*", use.count, reason))
    return tuple(out)


def _full_replay(draft: Draft) -> Replay:
    """The replay when the guardrails changed nothing: `_replay_or_fail` allowed every call."""
    events = sum(c.call.count for c in draft.cases)
    return Replay(
        observed=len(draft.cases),
        allowed=len(draft.cases),
        observed_events=events,
        allowed_events=events,
        not_granted_today=draft.not_granted,
    )


def _replay(draft: Draft, final: Policy) -> Replay:
    evaluator = compile_policy_set(PolicySet(identity=(final,)))
    removed: list[DroppedCall] = []
    allowed = allowed_events = 0
    for case in draft.cases:
        if _allowed(evaluator, case):
            allowed += 1
            allowed_events += case.call.count
        else:
            call = case.call
            removed.append(
                DroppedCall(call.action, call.resource, call.count, "removed by a guardrail")
            )
    return Replay(
        observed=len(draft.cases),
        allowed=allowed,
        observed_events=sum(c.call.count for c in draft.cases),
        allowed_events=allowed_events,
        removed_by_guardrails=tuple(removed),
        not_granted_today=draft.not_granted,
    )
