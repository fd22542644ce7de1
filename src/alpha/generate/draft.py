"""The first half of generation: from observed calls and existing grants to a policy.

For each observed call: find the existing grant (and so the conditions to keep), turn the call
into a need (exact ARN, `*` for actions that take no resource, or the grant's own patterns when
the logs do not name the resource), scope the ARNs of each action, add the inferred needs the
existing grants cover, build the statements and copy the existing Denies that can touch them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

from alpha.catalog import Catalog
from alpha.generate.build import build_statements, with_denies
from alpha.generate.existing import (
    AllowingStatement,
    ConditionKey,
    ExistingGrants,
    condition_key,
    sample_of,
)
from alpha.generate.inference import Granted, Need, infer, pass_role_gaps
from alpha.generate.model import DroppedCall, GenerationSettings, InferredGrant, ObservedCall
from alpha.generate.scoping import scope_resources
from alpha.policy.evaluate import Request
from alpha.policy.model import Condition, Policy

_ARN_VARIABLE = re.compile(r"\$\{([^}]*)\}")
REGION_KEY = "aws:requestedregion"
SOURCE_IP_KEY = "aws:sourceip"


@dataclass(frozen=True, slots=True)
class ReplayCase:
    """One observed call and the requests that replay it (one per known region/IP)."""

    call: ObservedCall
    requests: tuple[Request, ...]


@dataclass(frozen=True, slots=True)
class Draft:
    policy: Policy
    inferred: tuple[InferredGrant, ...]
    cases: tuple[ReplayCase, ...]
    not_granted: tuple[DroppedCall, ...]
    notes: tuple[str, ...]


@dataclass(slots=True)
class _Pending:
    """The needs of one (action, conditions) before scoping."""

    action: str
    conditions: tuple[Condition, ...]
    arns: set[str]
    patterns: set[str]


def known_contexts(call: ObservedCall) -> list[dict[str, tuple[str, ...]]]:
    """One context per known (region, source IP) combination; one empty one if none known."""
    regions: Sequence[str | None] = call.regions or (None,)
    ips: Sequence[str | None] = call.source_ips or (None,)
    out = []
    for region, ip in product(regions, ips):
        context: dict[str, tuple[str, ...]] = {}
        if region is not None:
            context[REGION_KEY] = (region,)
        if ip is not None:
            context[SOURCE_IP_KEY] = (ip,)
        out.append(context)
    return out


class Drafter:
    """Drafts policies for one principal's existing grants (compiled once)."""

    def __init__(
        self,
        existing: ExistingGrants,
        catalog: Catalog,
        *,
        account: str | None,
        roles_by_profile: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.existing = existing
        self.catalog = catalog
        self.account = account
        self.roles_by_profile = roles_by_profile
        self._settings = GenerationSettings()

    def draft(self, calls: Sequence[ObservedCall], settings: GenerationSettings) -> Draft:
        self._settings = settings
        pending: dict[tuple[str, ConditionKey], _Pending] = {}
        granted: list[Granted] = []
        cases: list[ReplayCase] = []
        dropped: list[DroppedCall] = []
        for call in calls:
            result = self._grant_call(call, pending)
            if result is None:
                dropped.append(_not_granted(call))
                continue
            conditions, requests = result
            granted.append(Granted(call, conditions))
            cases.append(ReplayCase(call, requests))
        needs = list(self._scoped(pending.values(), settings))
        inferred_needs, inferred = self._inferred(granted, settings)
        allows = build_statements([*needs, *inferred_needs], self.catalog)
        actions = {a for s in allows for a in s.action.patterns}
        denies = [s for s, _ in self.existing.denies_for(actions)]
        notes = _gap_notes(calls, self.roles_by_profile) if settings.infer_pass_role else ()
        return Draft(
            with_denies(allows, denies), tuple(inferred), tuple(cases), tuple(dropped), notes
        )

    def _grant_call(
        self, call: ObservedCall, pending: dict[tuple[str, ConditionKey], _Pending]
    ) -> tuple[tuple[Condition, ...], tuple[Request, ...]] | None:
        action = self.catalog.action(call.action)
        takes_resource = action is None or action.supports_resource_level
        name = action.key if action is not None else call.action
        requests: list[Request] = []
        first: tuple[Condition, ...] | None = None
        for known in known_contexts(call):
            found = self._grant_one(name, call.resource, known, takes_resource)
            if found is None:
                return None
            grant, resource, patterns = found
            requests.append(Request(name, resource, grant.context))
            key = (name.lower(), condition_key(grant.conditions))
            entry = pending.setdefault(key, _Pending(name, grant.conditions, set(), set()))
            if patterns is None:
                entry.arns.add(resource)
            else:
                entry.patterns.update(patterns)
            first = grant.conditions if first is None else first
        return (first or ()), tuple(requests)

    def _grant_one(
        self, action: str, resource: str, known: dict[str, tuple[str, ...]], takes: bool
    ) -> tuple[AllowingStatement, str, tuple[str, ...] | None] | None:
        if not takes:
            grant = self.existing.grant_for(action, "*", known)
            return None if grant is None else (grant, "*", ("*",))
        if resource != "*":
            grant = self.existing.grant_for(action, resource, known)
            return None if grant is None else (grant, resource, None)
        grant = self.existing.grant_for(action, "*", known)
        if grant is not None:
            return self._in_account(action, grant, known)
        unknown = self.existing.grant_unknown(action, known)
        if unknown is None:
            return None
        grant, sample, patterns = unknown
        return grant, sample, patterns

    def _in_account(
        self, action: str, grant: AllowingStatement, known: dict[str, tuple[str, ...]]
    ) -> tuple[AllowingStatement, str, tuple[str, ...] | None]:
        """An unknown resource granted today on `*`: narrowed to the ARN formats of the
        action's resource types in this account (any region), when those are covered and
        the narrowed grant holds; `*` only for actions that take no resource."""
        patterns = self._typed_patterns(action, self._settings.max_resource_patterns)
        if not patterns or not all(
            self.existing.covers(action, p, grant.conditions) for p in patterns
        ):
            return grant, "*", ("*",)
        sample = sample_of(patterns[0])
        narrowed = self.existing.grant_for(action, sample, known)
        if narrowed is None:
            return grant, "*", ("*",)
        return narrowed, sample, patterns

    def _typed_patterns(self, action: str, limit: int) -> tuple[str, ...]:
        found = self.catalog.action(action)
        if found is None or self.account is None:
            return ()
        out = []
        for rtype in self.catalog.resource_types_of(found):
            text = _ARN_VARIABLE.sub(
                lambda m: {"Partition": "aws", "Account": self.account or "*"}.get(m.group(1), "*"),
                rtype.arn_format,
            )
            out.append(text)
        unique = sorted(set(out))
        if len(unique) <= limit:
            return tuple(unique)
        # Many types (ec2:CreateTags takes ~100): one pattern for all of them in the account.
        prefix = os.path.commonprefix(unique)  # noqa: RUF071 (characters, on purpose)
        cut = max(prefix.rfind(":"), prefix.rfind("/"))
        return (prefix[: cut + 1] + "*",) if cut > len("arn:aws:") else ()

    def _scoped(self, pending: Iterable[_Pending], settings: GenerationSettings) -> Iterable[Need]:
        for entry in pending:
            conditions, action = entry.conditions, entry.action

            def covered(
                pattern: str, a: str = action, c: tuple[Condition, ...] = conditions
            ) -> bool:
                return self.existing.covers(a, pattern, c)

            scoped = scope_resources(
                entry.arns,
                max_exact=settings.max_exact_resources,
                max_patterns=settings.max_resource_patterns,
                covered=covered,
            )
            resources = tuple(sorted({*scoped, *entry.patterns}))
            yield Need(action, resources, conditions)

    def _inferred(
        self, granted: Sequence[Granted], settings: GenerationSettings
    ) -> tuple[list[Need], list[InferredGrant]]:
        kinds = frozenset(
            kind
            for kind, on in (
                ("list-bucket", settings.infer_list_bucket),
                ("kms", settings.infer_kms),
                ("create-tags", settings.infer_create_tags),
                ("pass-role", settings.infer_pass_role),
            )
            if on
        )
        needs: list[Need] = []
        grants: list[InferredGrant] = []
        candidates = infer(
            granted, account=self.account, roles_by_profile=self.roles_by_profile, kinds=kinds
        )
        for need in candidates:
            kept = self._within_existing(need)
            if kept is None:
                continue
            needs.append(kept)
            condition = "; ".join(
                f"{c.operator} {c.key} {', '.join(c.values)}" for c in kept.conditions
            )
            grants.extend(
                InferredGrant(kept.action, r, kept.inferred or "", condition or None)
                for r in kept.resources
            )
        return needs, grants

    def _within_existing(self, need: Need) -> Need | None:
        """The need narrowed to what the existing grants cover, or None."""
        action = self.catalog.action(need.action)
        if action is None or not self.existing.grants_action(need.action):
            return None
        covered = tuple(
            p for p in need.resources if self.existing.covers(need.action, p, need.conditions)
        )
        if not covered and need.action.lower().startswith(("kms:", "ec2:")):
            # The existing grant names specific keys or resources: keep those, under the
            # inferred condition (narrower than today's grant of them).
            covered = tuple(
                p
                for p in self.existing.resources_for(need.action, need.conditions)
                if self.existing.covers(need.action, p, need.conditions)
            )
        if not covered:
            return None
        return Need(need.action, covered, need.conditions, need.inferred)


def _not_granted(call: ObservedCall) -> DroppedCall:
    return DroppedCall(
        call.action,
        call.resource,
        call.count,
        "no identity policy in the snapshot allows it (a resource-based policy, or a policy "
        "the snapshot lacks, may have): the proposal cannot grant it without widening access",
    )


def _gap_notes(
    calls: Sequence[ObservedCall], roles_by_profile: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    gaps = pass_role_gaps(calls, roles_by_profile)
    if not gaps:
        return ()
    return (
        f"{', '.join(gaps)} can pass an IAM role, but the usage data does not name the role "
        "passed, so iam:PassRole was not inferred; add it for the specific role ARNs, with an "
        "iam:PassedToService condition, if these calls pass one",
    )
