"""Fit a proposal into IAM's size quotas by merging and generalising, deliberately and said.

The limit is the smaller of the guardrails' `max_policy_size` and what the attachment allows
(a role's inline policies together 10,240 characters, a user's 2,048; a managed policy 6,144).
Steps, each only while the policy is still too large, each noted:

1. resources generalised to one prefix pattern per container (bucket, table, queue account);
2. statements with identical resources and conditions merged across services;
3. actions of one service and one verb (`s3:Get*`) replaced by the wildcard, only when every
   action the wildcard matches today is already granted on those resources under those
   conditions (so no action is added that is not granted today).

Each step goes through the existing grants' coverage, and the result still faces
`no_new_access`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alpha.catalog import Catalog
from alpha.generate.draft import Draft, Drafter
from alpha.generate.existing import ExistingGrants
from alpha.generate.model import GenerationSettings, ObservedCall
from alpha.policy.compare import NoNewAccess, no_new_access
from alpha.policy.model import ActionList, Effect, Policy, ResourceList, Statement
from alpha.policy.validate import (
    INLINE_POLICY_QUOTAS,
    MANAGED_POLICY_QUOTA,
    InlineOwner,
    policy_size,
)

_VERB = re.compile(r"^[A-Z][a-z]+")


@dataclass(frozen=True, slots=True)
class Fitted:
    draft: Draft
    size: int
    attach_as: str  # "inline" or "managed"
    notes: tuple[str, ...]


def fit(
    draft: Draft,
    *,
    drafter: Drafter,
    calls: Sequence[ObservedCall],
    settings: GenerationSettings,
    owner: InlineOwner,
    max_size: int,
) -> Fitted:
    inline_quota = INLINE_POLICY_QUOTAS[owner]
    limit = min(max(inline_quota, MANAGED_POLICY_QUOTA), max_size)
    notes: list[str] = []
    size = policy_size(draft.policy)
    if size > limit:
        before = size
        coarse = replace(settings, max_exact_resources=1, max_resource_patterns=1)
        draft = drafter.draft(calls, coarse)
        size = policy_size(draft.policy)
        notes.append(
            f"{before:,} characters is over the {limit:,} limit: resources generalised to one "
            f"prefix pattern per bucket, table or container ({size:,} characters)"
        )
    if size > limit:
        draft = replace(draft, policy=merge_statements(draft.policy))
        size = policy_size(draft.policy)
        notes.append(
            f"statements with identical resources and conditions merged ({size:,} characters)"
        )
    if size > limit:
        policy = wildcard_actions(draft.policy, drafter.existing, drafter.catalog)
        # A wildcard also names actions AWS adds later: keep it only if today's grants do too.
        check = no_new_access(drafter.existing.policies, [policy], drafter.catalog)
        if isinstance(check, NoNewAccess) and policy != draft.policy:
            draft = replace(draft, policy=policy)
            size = policy_size(policy)
            notes.append(
                "actions of one service and verb replaced by a wildcard where every action it "
                f"matches is already granted on the same resources ({size:,} characters)"
            )
    if size > limit:
        notes.append(
            f"still {size:,} characters, over the {limit:,} limit: split it into several "
            "managed policies before applying"
        )
    attach_as = "inline" if size <= inline_quota else "managed"
    return Fitted(draft, size, attach_as, tuple(notes))


def merge_statements(policy: Policy) -> Policy:
    """Allow statements with identical resources and conditions merged into the first."""
    merged: dict[tuple[object, ...], int] = {}
    out: list[Statement] = []
    for statement in policy.statements:
        key = (statement.effect, statement.resource, statement.conditions)
        if statement.effect is not Effect.ALLOW or not isinstance(statement.action, ActionList):
            out.append(statement)
            continue
        if key in merged:
            index = merged[key]
            first = out[index]
            actions = tuple(
                sorted({*first.action.patterns, *statement.action.patterns}, key=str.lower)
            )
            out[index] = replace(first, action=ActionList(actions))
        else:
            merged[key] = len(out)
            out.append(statement)
    return replace(policy, statements=tuple(out))


def wildcard_actions(policy: Policy, existing: ExistingGrants, catalog: Catalog) -> Policy:
    out = []
    for statement in policy.statements:
        if (
            statement.effect is Effect.ALLOW
            and isinstance(statement.action, ActionList)
            and isinstance(statement.resource, ResourceList)
        ):
            statement = _widen_actions(statement, existing, catalog)
        out.append(statement)
    return replace(policy, statements=tuple(out))


def _widen_actions(statement: Statement, existing: ExistingGrants, catalog: Catalog) -> Statement:
    assert isinstance(statement.resource, ResourceList)
    resources = statement.resource.patterns
    groups: dict[str, list[str]] = {}
    for action in statement.action.patterns:
        service, _, name = action.partition(":")
        verb = _VERB.match(name)
        groups.setdefault(f"{service}:{verb.group(0) if verb else name}*", []).append(action)
    actions: list[str] = []
    for wildcard, members in groups.items():
        matched = catalog.expand(wildcard)
        granted = len(members) > 1 and all(
            existing.covers(a.key, r, statement.conditions) for a in matched for r in resources
        )
        actions.extend([wildcard] if granted else members)
    return replace(statement, action=ActionList(tuple(sorted(actions, key=str.lower))))
