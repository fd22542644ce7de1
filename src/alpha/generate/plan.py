"""How to apply a proposal: what to detach, delete and attach, never editing shared policies.

Every identity policy the principal has today is replaced: its inline policies are deleted,
its managed policies detached (a managed policy is never edited in place, even when this
principal alone uses it: detaching leaves it intact for a rollback, and for other principals
when shared), and for a user, group memberships that bring policies are ended (a group's
policies apply to every member). The new policy is attached inline when it fits the principal's
inline quota, as a new customer-managed policy otherwise. Policies the snapshot could not read
are kept: nothing can claim to replace what it has not seen. The boundary is left alone.
"""

from __future__ import annotations

from alpha.account import AccountSnapshot, EffectivePolicies, MissingGroup, PolicyOriginKind
from alpha.generate.model import ChangePlan, PlanStep


def change_plan(
    snapshot: AccountSnapshot,
    effective: EffectivePolicies,
    *,
    policy_name: str,
    attach_as: str,
) -> ChangePlan:
    steps: list[PlanStep] = []
    groups: set[str] = set()
    for applied in effective.identity:
        origin = applied.origin
        if origin.kind is PolicyOriginKind.INLINE:
            steps.append(PlanStep("delete", "inline", origin.name, note="replaced"))
        elif origin.kind is PolicyOriginKind.MANAGED and origin.arn is not None:
            steps.append(_detach(snapshot, origin.arn, origin.name, effective.principal_arn))
        elif origin.group is not None and origin.group not in groups:
            groups.add(origin.group)
            group = snapshot.group(origin.group)
            steps.append(
                PlanStep(
                    "remove_from_group",
                    "group",
                    origin.group,
                    arn=group.arn if group is not None else None,
                    note="the group's policies apply to all its members; edit neither",
                )
            )
    for missing in effective.unresolved:
        name = missing.name if isinstance(missing, MissingGroup) else missing.origin.name
        steps.append(
            PlanStep("keep", "unresolved", name, note=f"{missing.describe()}: left in place")
        )
    kind = "inline" if attach_as == "inline" else "customer-managed"
    note = None if attach_as == "inline" else "create it, then attach it"
    steps.append(PlanStep("attach", kind, policy_name, note=note))
    return ChangePlan(tuple(steps))


def _detach(snapshot: AccountSnapshot, arn: str, name: str, principal: str) -> PlanStep:
    others = tuple(p for p in snapshot.principals_sharing(arn) if p != principal)
    policy = snapshot.managed_policy(arn)
    if policy is not None and policy.is_aws_managed:
        note = "AWS-managed: detach only"
    elif others or (policy is not None and policy.attachment_count > 1):
        note = "shared with other principals: detach, never edit in place"
    else:
        note = "detach; the policy is left unchanged for a rollback"
    return PlanStep("detach", "managed", name, arn=arn, note=note, shared_with=others)
