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

from collections.abc import Iterable
from dataclasses import replace

from alpha.generate.draft import ReplayCase
from alpha.generate.model import DroppedCall
from alpha.policy.evaluate import PolicySet, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.org_policies import OrgGuardrails, principal_context

__all__ = ["NOT_A_BREAKAGE", "denied_by_org", "kept_note"]

NOT_A_BREAKAGE = (
    "the organization denies it today as it would under the proposal: not a breakage the "
    "proposal causes"
)


def denied_by_org(
    principal: str, cases: Iterable[ReplayCase], proposal: Policy, levels: OrgGuardrails
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
    for case in cases:
        reasons: list[str] = []
        for request in case.requests:
            if not alone.evaluate(request).allowed:
                continue
            context = {**request.context, **who}
            result = evaluator.evaluate(replace(request, context=context, principal=principal))
            found = levels.reasons(result, request.action, known=context)
            reasons += [r for r in found if r not in reasons]
        if reasons:
            call = case.call
            why = f"{'; '.join(reasons)}: {NOT_A_BREAKAGE}"
            out.append(DroppedCall(call.action, call.resource, call.count, why))
    return tuple(out)


def kept_note(denied: tuple[DroppedCall, ...]) -> tuple[str, ...]:
    """The proposal says, in its notes, that it keeps grants the organization denies today."""
    if not denied:
        return ()
    return (
        f"The proposal keeps the grants for {len(denied)} observed call(s) the organization's "
        "SCP/RCP levels deny today (replay.denied_by_org): it stays right for the principal "
        "if those policies change or the account moves OU, and grants nothing they allow.",
    )
