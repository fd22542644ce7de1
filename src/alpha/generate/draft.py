"""The first half of generation: from observed calls and existing grants to a policy.

For each observed call: find the existing grant (and so the conditions to keep), turn the call
into a need (exact ARN, `*` for actions that take no resource, or the grant's own patterns when
the logs do not name the resource), scope the ARNs of each action, add the inferred needs the
existing grants cover, build the statements and copy the existing Denies that can touch them.
"""

from __future__ import annotations

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
from alpha.policy.model import ActionList, Condition, Effect, Policy, ResourceList
from alpha.policy.patterns import compile_glob
from alpha.usage.authorisations import Scope, resource_scope, typed_patterns

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

    def draft(
        self,
        calls: Sequence[ObservedCall],
        settings: GenerationSettings,
        unmapped_prefixes: Sequence[str] = (),
    ) -> Draft:
        """`unmapped_prefixes`: the IAM prefixes of calls ALPHA could not map; today's grants
        of those services are kept as they are (narrowed to the service), as inferred needs."""
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
        kept = self._kept_for_unmapped(unmapped_prefixes)
        inferred_needs += kept
        inferred += [
            InferredGrant(n.action, r, n.inferred or "", None) for n in kept for r in n.resources
        ]
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
        # `*` for an action that requires no resource type is the real request's resource
        takes_resource = resource_scope(self.catalog, call.action, call.resource) is not Scope.ANY
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
        return typed_patterns(self.catalog, action, self.account, limit)

    def _kept_for_unmapped(self, prefixes: Sequence[str]) -> list[Need]:
        """Today's Allow statements narrowed to the services of unmapped calls: the grant
        such a call may need, which ALPHA cannot name (a NotAction or NotResource statement
        is not kept: it cannot be narrowed to a service as it is)."""
        needs: list[Need] = []
        for prefix in sorted(set(prefixes)):
            why = f"kept: calls of {prefix} that ALPHA cannot map to IAM actions"
            for policy in self.existing.policies:
                for statement in policy.statements:
                    if statement.effect is not Effect.ALLOW:
                        continue
                    if not isinstance(statement.action, ActionList):
                        continue
                    if not isinstance(statement.resource, ResourceList):
                        continue
                    for pattern in statement.action.patterns:
                        narrowed = _narrowed_to(pattern, prefix)
                        if narrowed is not None:
                            needs.append(
                                Need(
                                    narrowed,
                                    statement.resource.patterns,
                                    statement.conditions,
                                    why,
                                )
                            )
        return needs

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


def _narrowed_to(pattern: str, prefix: str) -> str | None:
    """The part of an action pattern in service `prefix`: the pattern itself when it names the
    service, `prefix:REST` when its service part is a wildcard that matches the prefix."""
    service, _, rest = pattern.partition(":")
    if service.lower() == prefix.lower():
        return pattern
    if pattern == "*":
        return f"{prefix}:*"
    if ("*" in service or "?" in service) and rest and _glob_matches(service, prefix):
        return f"{prefix}:{rest}"
    return None


def _glob_matches(pattern: str, text: str) -> bool:
    return compile_glob(pattern, ignore_case=True)(text)


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
