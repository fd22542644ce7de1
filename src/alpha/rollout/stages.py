"""What each rollout stage changes and how it is judged; pure apart from the ports passed in.

Sandbox (shadow): changes nothing. The principal's recent calls (`sandbox_lookback` before the
stage) and its new ones during the bake are replayed against the proposal alone with the
evaluator; the calls it would deny must stay at or under `max_would_be_denials` (default 0).
Under the SCP/RCP levels the proposal was made under (its `organization`), a call those levels
deny is counted apart (`denied_by_org`): the organization denies it whatever the proposal says.

Canary (reversible, existing policies untouched): the proposal becomes the principal's
permissions boundary (a new customer-managed policy `alpha-canary-<id>`), so IAM allows only
what both the current policies and the proposal allow. A principal that already has a
boundary keeps it; instead an inline `Deny` of the actions the proposal removes is added
(`canary_deny_document`). That Deny names actions only: a kept action the proposal narrows to
fewer resources or adds conditions to is not enforced by it (the boundary form enforces both).

Production: the proposal's change plan. The new policy is attached first (inline, or created as
a customer-managed policy and attached), then the replaced inline policies are deleted, the
replaced managed policies detached (never edited: shared ones stay intact for their other
users) and group memberships ended; finally the canary enforcement is removed. One managed
policy is edited: ALPHA's own policy from an earlier rollout of this principal alone, which
gets the proposal as a new default version instead of a second ALPHA policy beside it.

Canary and production are judged on `IAMErrorRate` in the logs of the bake period: a breach
is more than `max_new_denials` AccessDenied calls (default 0: any), or, when `max_error_rate`
is set, a larger share of denied calls. A stage passes only when the logs cover its whole
bake period without a breach; a breach fails it at once, logs covered or not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from alpha.catalog import Catalog, load_catalog
from alpha.policy.evaluate import Evaluator, PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.org_policies import OrgGuardrails, principal_context
from alpha.policy.parse import parse_policy
from alpha.rollout.changes import Change, Op
from alpha.rollout.errors import RolloutError
from alpha.rollout.iam_ports import (
    ErrorRate,
    IamChanger,
    JsonDict,
    Monitor,
    MonitoredCall,
    policy_arn_for,
)
from alpha.rollout.settings import StageSettings
from alpha.usage.authorisations import checked_call, passed_to_services

__all__ = ["StageSettings"]


# IAM's quota on the total size of a principal's inline policies (whitespace not counted).
INLINE_QUOTA = {"role": 10_240, "user": 2_048}
CANARY_DENY_SID = "AlphaCanaryDenyRemovedActions"


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    BAKING = "baking"


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    detail: str
    metrics: JsonDict


def waves(targets: list[str], fraction: float) -> list[list[str]]:
    """The canary's waves: the first `fraction` of the targets (at least one), then the rest."""
    if len(targets) <= 1:
        return [list(targets)]
    first = min(len(targets), max(1, math.ceil(len(targets) * fraction)))
    return [w for w in (targets[:first], targets[first:]) if w]


# Sandbox ---------------------------------------------------------------------------------


_PASS_ROLE = "iam:passrole"
_PASSED_TO_UNKNOWN = "the logs do not keep which service the role was passed to by which call"
_PASSED_TO_SERVICE = "iam:PassedToService"


def _passed_verdict(
    evaluator: Evaluator,
    target: str,
    resources: tuple[str, ...],
    context: Mapping[str, tuple[str, ...]],
    services: tuple[str, ...],
) -> bool | None:
    """iam:PassRole on `resources` for the services the target's calls pass roles to (the
    `iam:PassedToService` each of those calls gives, `PASSED_TO`): allowed when it is for every
    one, denied when for none, and None when for some only (the logs do not keep which call
    passed which role)."""
    verdicts = {
        evaluator.evaluate(
            Request("iam:PassRole", r, {**context, _PASSED_TO_SERVICE: (s,)}, principal=target)
        ).allowed
        for s in services
        for r in resources
    }
    return verdicts.pop() if len(verdicts) == 1 else None


class _SandboxTally:
    """Calls counted by outcome, with the first few of each kind named."""

    __slots__ = ("counts", "examples")

    def __init__(self) -> None:
        self.counts = {"replayed": 0, "denied": 0, "unchecked": 0, "by_org": 0}
        self.examples: dict[str, list[str]] = {key: [] for key in self.counts}

    def add(self, kind: str, count: int, example: str | None) -> None:
        self.counts[kind] += count
        if example is not None and len(self.examples[kind]) < 5:
            self.examples[kind].append(example)

    def metrics(self) -> JsonDict:
        found: JsonDict = {
            "replayed_calls": self.counts["replayed"],
            "would_be_denied": self.counts["denied"],
            "unchecked_calls": self.counts["unchecked"],
            "unchecked_examples": self.examples["unchecked"],
        }
        if self.counts["by_org"]:
            found |= {
                "denied_by_org": self.counts["by_org"],
                "denied_by_org_examples": self.examples["by_org"],
            }
        return found


def judge_sandbox(
    monitor: Monitor,
    targets: list[str],
    proposal: JsonDict,
    since: datetime,
    settings: StageSettings,
    *,
    catalog: Catalog | None = None,
    org: OrgGuardrails | None = None,
) -> Judgement:
    """Replay the targets' calls against the proposal, each read as generation read it
    (`alpha.usage.authorisations.checked_call`): calls it cannot check (unmapped, or a
    resource the logs do not name) are counted and named, never passed off as replayed."""
    end = since + settings.bake_of("sandbox")
    covered = monitor.covered_until()
    until = min(end, covered) if covered is not None else since
    policy = parse_policy(proposal, "proposal")
    org = org or OrgGuardrails()
    catalog = catalog if catalog is not None else load_catalog()
    tally = _SandboxTally()
    for target in targets:
        calls = list(monitor.calls(target, since - settings.sandbox_lookback, max(until, since)))
        _replay_target(
            policy, org.in_force_for(target), target, calls, catalog=catalog, tally=tally
        )
    metrics = tally.metrics()
    denied, unchecked, by_org = (tally.counts[k] for k in ("denied", "unchecked", "by_org"))
    if denied > settings.max_would_be_denials:
        detail = (
            f"{denied} replayed call(s) would be denied (threshold "
            f"{settings.max_would_be_denials}): {', '.join(tally.examples['denied'])}"
        )
        return Judgement(Verdict.FAILED, detail, metrics)
    if covered is None or covered < end:
        return Judgement(Verdict.BAKING, _waiting(covered, end), metrics)
    tail = f"; {unchecked} call(s) could not be checked" if unchecked else ""
    if by_org:
        tail += f"; {by_org} call(s) the organization's SCPs/RCPs deny (not the proposal)"
    replayed = tally.counts["replayed"]
    return Judgement(Verdict.PASSED, f"{replayed} replayed call(s), none denied{tail}", metrics)


def _replay_target(
    policy: Policy,
    levels: OrgGuardrails,
    target: str,
    calls: list[MonitoredCall],
    *,
    catalog: Catalog,
    tally: _SandboxTally,
) -> None:
    alone = compile_policy_set(PolicySet(identity=(policy,)))
    under = compile_policy_set(levels.policy_set((policy,), principal=target))
    services = passed_to_services(c.action for c in calls)
    for call in calls:
        named = f"{call.action} on {call.resource}"
        checked = checked_call(catalog, call.action, call.resource)
        if not checked.resources:
            tally.add("unchecked", call.count, f"{named}: {checked.shortfall}")
            continue
        context = {"aws:RequestedRegion": (call.region,)} if call.region else {}
        request = Request(call.action, "*", context, principal=target)
        why = _org_denial(levels, under, request, checked.resources)
        if why:
            tally.add("by_org", call.count, f"{named}: {why}")
            continue
        allowed: bool | None = all(
            alone.evaluate(Request(call.action, r, context, principal=target)).allowed
            for r in checked.resources
        )
        if call.action.lower() == _PASS_ROLE:
            # granted for the service the role is passed to (iam:PassedToService): the
            # services of the target's passing calls, else not checkable, never a denial
            allowed = (
                _passed_verdict(alone, target, checked.resources, context, services)
                if services
                else (allowed or None)
            )
        if allowed is None:
            tally.add("unchecked", call.count, f"{named}: {_PASSED_TO_UNKNOWN}")
            continue
        tally.add("replayed", call.count, None)
        if not allowed:
            tally.add("denied", call.count, named)


def _org_denial(
    levels: OrgGuardrails, evaluator: Evaluator, call: Request, resources: Iterable[str]
) -> str | None:
    """Why the organization's levels deny `call` (on any of `resources`) whatever the
    proposal says, if they do on what the logs tell (`OrgGuardrails.reasons`)."""
    if levels.empty or call.principal is None:
        return None
    known = {**call.context, **principal_context(call.principal)}
    for resource in resources:
        result = evaluator.evaluate(Request(call.action, resource, known, call.principal))
        found = levels.reasons(result, call.action, known=known)
        if found:
            return found[0]
    return None


# Canary and production: watch IAMErrorRate -----------------------------------------------


def judge_errors(
    monitor: Monitor, targets: list[str], since: datetime, bake: timedelta, settings: StageSettings
) -> Judgement:
    end = since + bake
    rates = [monitor.error_rate(t, since, end) for t in targets]
    calls, denied = sum(r.calls for r in rates), sum(r.denied for r in rates)
    covered = rates[0].covered_until if rates else None
    total = ErrorRate(calls, denied, covered)
    metrics: JsonDict = {"calls": calls, "denied": denied, "error_rate": round(total.rate, 6)}
    breach = _breach(total, settings)
    if breach is not None:
        return Judgement(Verdict.FAILED, breach, metrics)
    if not total.covers(end):
        return Judgement(Verdict.BAKING, _waiting(covered, end), metrics)
    return Judgement(Verdict.PASSED, f"{calls} call(s), {denied} denied", metrics)


def _breach(rate: ErrorRate, settings: StageSettings) -> str | None:
    if settings.max_new_denials is not None and rate.denied > settings.max_new_denials:
        return (
            f"IAMErrorRate breach: {rate.denied} AccessDenied of {rate.calls} call(s) "
            f"(at most {settings.max_new_denials} allowed)"
        )
    if settings.max_error_rate is not None and rate.rate > settings.max_error_rate:
        return f"IAMErrorRate breach: {rate.rate:.2%} > {settings.max_error_rate:.2%}"
    return None


def _waiting(covered: datetime | None, end: datetime) -> str:
    seen = "no logs yet" if covered is None else f"logs reach {_iso(covered)}"
    return f"baking until {_iso(end)}; {seen}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Canary enforcement -----------------------------------------------------------------------


def canary_policy_arn(principal: str, proposal_id: str, settings: StageSettings) -> str:
    return policy_arn_for(principal, f"alpha-canary-{proposal_id[:12]}", settings.managed_path)


def canary_deny_name(proposal_id: str) -> str:
    return f"alpha-canary-deny-{proposal_id[:12]}"


def canary_changes(
    principal: str,
    state: JsonDict,
    proposal_id: str,
    document: JsonDict,
    settings: StageSettings,
) -> list[Change]:
    """Enforce the proposal on one principal without touching its policies."""
    proposed: JsonDict = document["proposed_policy"]
    if state["boundary"] is None:
        arn = canary_policy_arn(principal, proposal_id, settings)
        return [
            Change(Op.CREATE_POLICY, arn, document=proposed),
            Change(Op.PUT_BOUNDARY, principal, arn),
        ]
    removed = (document.get("diff") or {}).get("removed_actions")
    budget = _inline_budget(principal, state)
    deny = canary_deny_document(proposed, removed, budget)
    if deny is None:
        return []
    return [Change(Op.PUT_INLINE, principal, canary_deny_name(proposal_id), deny)]


def canary_deny_document(
    proposed: JsonDict, removed_actions: Iterable[str] | None, budget: int
) -> JsonDict | None:
    """An inline policy denying what the proposal no longer allows, within `budget` characters.

    From the diff's removed actions: a service the proposal allows nothing of is denied as
    `service:*`, other removed actions one by one. If that does not fit (or there is no diff),
    `Deny NotAction: <the proposal's allowed action patterns>` on every resource: shorter, but
    it also denies actions no policy granted before (harmless: they were denied anyway, unless
    a resource policy granted them). None when nothing is removed."""
    allowed = _allowed_patterns(proposed)
    if removed_actions is not None:
        removed = list(removed_actions)
        if not removed:
            return None
        # With NotAction in the proposal, which services it keeps is unknown: collapse none.
        kept_services = {p.split(":")[0].lower() for p in allowed} if allowed else {"*"}
        actions = sorted(
            {f"{a.split(':')[0].lower()}:*" if _whole(a, kept_services) else a for a in removed}
        )
        by_action = _deny({"Action": actions, "Resource": "*"})
        if _size(by_action) <= budget:
            return by_action
    if allowed is None or "*" in allowed:
        raise RolloutError("canary: cannot derive a Deny of the removed grants from this proposal")
    fallback = _deny({"NotAction": sorted(allowed), "Resource": "*"})
    if _size(fallback) > budget:
        raise RolloutError(
            f"canary: the Deny of the removed grants ({_size(fallback)} characters) does not fit "
            f"the {budget} characters left of the principal's inline policy quota"
        )
    return fallback


def _whole(action: str, kept_services: set[str]) -> bool:
    return (
        action.split(":", maxsplit=1)[0].lower() not in kept_services and "*" not in kept_services
    )


def _deny(body: JsonDict) -> JsonDict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": CANARY_DENY_SID, "Effect": "Deny", **body}],
    }


def _allowed_patterns(proposed: JsonDict) -> list[str] | None:
    """The action patterns of the proposal's Allow statements; None if one uses NotAction."""
    statements = proposed.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found: set[str] = set()
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            return None
        actions = statement.get("Action", [])
        found.update([actions] if isinstance(actions, str) else actions)
    return sorted(found)


def _inline_budget(principal: str, state: JsonDict) -> int:
    kind = "user" if ":user/" in principal else "role"
    used = sum(_size(doc) for doc in state["inline"].values())
    return INLINE_QUOTA[kind] - used


def _size(document: JsonDict) -> int:
    return len(json.dumps(document, separators=(",", ":")))


# Production --------------------------------------------------------------------------------


def production_changes(
    principal: str,
    *,
    proposal_id: str,
    proposal_principal: str,
    document: JsonDict,
    plan: list[JsonDict],
    settings: StageSettings,
) -> list[Change]:
    """The change plan on one principal: attach the new policy, then remove what it replaces.
    ARNs of customer-managed policies are moved to the target's account (the same role in
    another account attaches that account's copy)."""
    proposed: JsonDict = document["proposed_policy"]
    attach = next((s for s in plan if s.get("action") == "attach"), None)
    name = str(attach["name"]) if attach is not None else settings.policy_name
    changes: list[Change] = []
    own = None
    if attach is not None and attach.get("kind") != "inline":
        own = _own_policy(plan, proposal_principal, principal, settings)
        if own is not None:
            # ALPHA's policy from an earlier rollout, this principal's alone: a new default
            # version of it (a rollback sets the old default back).
            changes.append(Change(Op.UPDATE_POLICY, own, document=proposed))
        else:
            # One policy per proposal: the same name for several principals must not collide.
            arn = policy_arn_for(principal, f"{name}-{proposal_id[:12]}", settings.managed_path)
            changes += [
                Change(Op.CREATE_POLICY, arn, document=proposed),
                Change(Op.ATTACH, principal, arn),
            ]
    else:
        changes.append(Change(Op.PUT_INLINE, principal, name, proposed))
    for step in plan:
        action, step_name = step.get("action"), str(step.get("name", ""))
        if action == "delete" and step.get("kind") == "inline" and step_name != name:
            changes.append(Change(Op.DELETE_INLINE, principal, step_name))
        elif action == "detach" and step.get("arn"):
            arn = _in_account(str(step["arn"]), proposal_principal, principal)
            if arn != own:
                changes.append(Change(Op.DETACH, principal, arn))
        elif action == "remove_from_group":
            changes.append(Change(Op.REMOVE_FROM_GROUP, principal, step_name))
    return changes


def _own_policy(
    plan: list[JsonDict], proposal_principal: str, principal: str, settings: StageSettings
) -> str | None:
    """The customer-managed policy an earlier rollout made for this principal alone (under
    ALPHA's path, named after its policy), which the plan detaches; None if there is none."""
    prefix = policy_arn_for(principal, f"{settings.policy_name}-", settings.managed_path)
    for step in plan:
        if step.get("action") != "detach" or not step.get("arn") or step.get("shared_with"):
            continue
        arn = _in_account(str(step["arn"]), proposal_principal, principal)
        rest = arn.removeprefix(prefix)
        if rest != arn and rest and "/" not in rest:
            return arn
    return None


def uncanary_changes(
    principal: str, previous: JsonDict, proposal_id: str, settings: StageSettings
) -> list[Change]:
    """Take the canary enforcement away again, leaving the boundary as it was before."""
    if previous["boundary"] is None:
        arn = canary_policy_arn(principal, proposal_id, settings)
        return [Change(Op.DELETE_BOUNDARY, principal), Change(Op.DELETE_POLICY, arn)]
    return [Change(Op.DELETE_INLINE, principal, canary_deny_name(proposal_id))]


def plan_steps(plan: JsonDict | list[JsonDict] | None, document: JsonDict) -> list[JsonDict]:
    """The change plan's steps, from the stored plan (`{"steps": [...]}` or a list) or the
    proposal document's `plan`."""
    for candidate in (plan, document.get("plan")):
        if isinstance(candidate, list):
            return [s for s in candidate if isinstance(s, dict)]
        if isinstance(candidate, dict) and isinstance(candidate.get("steps"), list):
            return [s for s in candidate["steps"] if isinstance(s, dict)]
    return []


def _in_account(arn: str, source_principal: str, target: str) -> str:
    parts, source, wanted = arn.split(":"), source_principal.split(":"), target.split(":")
    if len(parts) > 4 and parts[4] == source[4] and source[4] != wanted[4]:
        parts[4] = wanted[4]
    return ":".join(parts)


def state_after(iam: IamChanger, targets: list[str]) -> dict[str, JsonDict]:
    return {t: iam.principal_state(t) for t in targets}
