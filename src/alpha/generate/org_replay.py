"""The organization's SCP/RCP levels in a proposal: replay under them, and what they block.

The proposal itself is made and proven against the identity policies alone, on purpose:
`no_new_access(today's identity policies, [proposal])` is stronger than the same claim for
effective access (identity AND boundary AND every SCP/RCP level), since adding the same levels to
both sides cannot make the proposal wider. And grants the levels deny today are NOT dropped: an
SCP changes under its own review, and a proposal that silently leaned on today's SCP would
break the principal the day the SCP is relaxed or the account moves OU. What the levels deny
is said instead: the observed calls they would deny (`Replay.denied_by_org`, counted apart
from calls the proposal breaks) and the removed actions they already block (the reasoning's
evidence: removing those changes no effective access).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from alpha.generate.model import DroppedCall
from alpha.generate.scoping import common_pattern
from alpha.policy.diff import PolicyDiff
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.org_blocks import OrgBlocks
from alpha.policy.org_policies import OrgGuardrails, principal_context

__all__ = [
    "EXACT_DENIALS",
    "NOT_A_BREAKAGE",
    "OrgFindings",
    "OrgView",
    "denied_by_org",
    "grouped_denials",
    "kept_note",
]


class _Call(Protocol):
    """An observed call (`ObservedCall`, or a usage row): what a replay reports."""

    @property
    def action(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def count(self) -> int: ...


Replayed = tuple[_Call, Sequence[Request]]
"""An observed call and the requests that replay it."""


@dataclass(frozen=True, slots=True)
class OrgFindings:
    """What a proposal says about the levels it was made under."""

    levels: OrgGuardrails
    denied: tuple[DroppedCall, ...] = ()
    blocked: dict[str, str] | None = None
    notes: tuple[str, ...] = ()


class OrgView:
    """The account's levels, compiled once per run, asked per proposal."""

    def __init__(self, org: OrgGuardrails) -> None:
        self.org = org
        self._blocks = OrgBlocks(org)

    def findings(
        self, principal: str, replayed: Iterable[Replayed], proposal: Policy, diff: PolicyDiff
    ) -> OrgFindings:
        levels = self.org.in_force_for(principal)
        if levels.empty:
            return OrgFindings(levels)
        denied = denied_by_org(principal, replayed, proposal, levels)
        blocked = self._blocks.blocked(diff.removed_actions)
        return OrgFindings(levels, grouped_denials(denied), blocked, kept_note(denied))


NOT_A_BREAKAGE = (
    "the organization denies it today as it would under the proposal: not a breakage the "
    "proposal causes"
)


def denied_by_org(
    principal: str, replayed: Iterable[Replayed], proposal: Policy, levels: OrgGuardrails
) -> tuple[DroppedCall, ...]:
    """The observed calls the levels deny, each with the SCP/RCP and level that deny it.
    Calls the proposal itself does not allow are left to the rest of the replay; a Deny on a
    context key the logs did not give (a region they lack) is not claimed."""
    if levels.empty:
        return ()
    evaluator = compile_policy_set(levels.policy_set((proposal,), principal=principal))
    alone = compile_policy_set(PolicySet(identity=(proposal,)))
    who = principal_context(principal)
    out = []
    for call, requests in replayed:
        reasons: list[str] = []
        for request in requests:
            if not alone.evaluate(request).allowed:
                continue
            context = {**request.context, **who}
            result = evaluator.evaluate(replace(request, context=context, principal=principal))
            found = levels.reasons(result, request.action, known=context)
            reasons += [r for r in found if r not in reasons]
        if reasons:
            why = f"{'; '.join(reasons)}: {NOT_A_BREAKAGE}"
            out.append(DroppedCall(call.action, call.resource, call.count, why))
    return tuple(out)


EXACT_DENIALS = 5
"""Per action and reason, at most this many denied calls are listed one by one."""


def grouped_denials(denied: Sequence[DroppedCall]) -> tuple[DroppedCall, ...]:
    """The denied calls with, per action and reason, more than `EXACT_DENIALS` resources
    folded into one entry on their common prefix (`...table/*`), counting every call: an SCP
    that denies a region denies every call made there, and a role's thousands of object keys
    would otherwise each repeat the same reason (megabytes in one proposal)."""
    groups: dict[tuple[str, str], list[DroppedCall]] = {}
    for call in denied:
        groups.setdefault((call.action, call.reason), []).append(call)
    out: list[DroppedCall] = []
    for (action, reason), calls in groups.items():
        if len(calls) <= EXACT_DENIALS:
            out.extend(calls)
            continue
        pattern = common_pattern([c.resource for c in calls])
        why = f"{reason} ({len(calls)} resources)"
        out.append(DroppedCall(action, pattern, sum(c.count for c in calls), why))
    return tuple(out)


def kept_note(denied: Sequence[DroppedCall]) -> tuple[str, ...]:
    """The proposal says, in its notes, that it keeps grants the organization denies today."""
    if not denied:
        return ()
    return (
        f"The proposal keeps the grants for {len(denied)} observed call(s) the organization's "
        "SCP/RCP levels deny today (replay.denied_by_org): it stays right for the principal "
        "if those policies change or the account moves OU, and grants nothing they allow.",
    )
