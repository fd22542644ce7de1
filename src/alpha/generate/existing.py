"""The principal's existing identity policies, asked the questions generation needs.

- `grant_for`: which existing Allow lets an observed call through, under which conditions, and a
  request context in which the existing policies allow it (known region and source IP first,
  then values that meet the allowing statement's conditions and avoid conditional Denies).
  The call happened, so such a context existed; replay reuses it, so the proposal is judged
  under the same context as today's policies.
- `covers`: whether every resource a pattern matches is granted for an action today, under a
  set of conditions (statements with other conditions do not count; Denies are copied into
  the proposal, so they cut both sides alike).
- `denies_for`: the Deny statements that can touch the proposed actions, to be copied as they
  are (a region or source-IP Deny is never dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alpha.policy.contexts import falsify, satisfying_context
from alpha.policy.evaluate import Decision, PolicySet, Request, compile_policy_set
from alpha.policy.globlang import (
    AutomatonLimitError,
    Glob,
    contains,
    find_string,
    glob,
    is_subset,
)
from alpha.policy.matchers import Candidate, PolicyLayer, StatementMatcher, StatementRef
from alpha.policy.model import Condition, Effect, NotResourceList, Policy, Statement
from alpha.policy.symbolic import resource_language

Context = dict[str, tuple[str, ...]]
ConditionKey = frozenset[tuple[str, str, frozenset[str]]]
_DENY_ROUNDS = 4


def condition_key(conditions: Iterable[Condition]) -> ConditionKey:
    """Conditions compared as IAM does: key case-insensitive, values as a set."""
    return frozenset((c.operator, c.key.lower(), frozenset(c.values)) for c in conditions)


@dataclass(frozen=True, slots=True)
class AllowingStatement:
    """How today's policies allow one call: the allowing statement, its conditions, and a
    context in which the whole existing set allows the call."""

    statement: Statement
    variables: bool
    context: Mapping[str, tuple[str, ...]]

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.statement.conditions


@dataclass(frozen=True, slots=True)
class _Compiled:
    matcher: StatementMatcher
    statement: Statement
    variables: bool


_Allows = tuple[tuple[Candidate, _Compiled], ...]


class ExistingGrants:
    """Compiled once per principal; every answer is cached."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)
        self.evaluator = compile_policy_set(PolicySet(identity=self.policies))
        self._statements = [
            _Compiled(
                StatementMatcher(s, StatementRef(PolicyLayer.IDENTITY, p, n, s.effect, s.sid), v),
                s,
                v,
            )
            for p, policy in enumerate(self.policies)
            for n, s in enumerate(policy.statements)
            for v in (policy.supports_variables,)
        ]
        self._by_service: dict[str, list[tuple[Candidate, _Compiled]]] = {}
        self._covers: dict[tuple[str, str, ConditionKey], bool] = {}
        self._denies: dict[str, bool] = {}
        self._allows: dict[str, tuple[_Allows, _Allows]] = {}

    def _candidates(self, service: str) -> list[tuple[Candidate, _Compiled]]:
        found = self._by_service.get(service)
        if found is None:
            found = []
            for compiled in self._statements:
                candidate = compiled.matcher.for_service(service)
                if candidate is not None:
                    found.append((candidate, compiled))
            self._by_service[service] = found
        return found

    def _has_denies(self, service: str) -> bool:
        found = self._denies.get(service)
        if found is None:
            found = self._denies[service] = any(
                s.statement.effect is Effect.DENY for _, s in self._candidates(service)
            )
        return found

    def _allows_for(self, action: str) -> Sequence[tuple[Candidate, _Compiled]]:
        """The Allow statements naming the action, in the policies' order. Kept per action:
        a principal's calls repeat actions thousands of times over their resources."""
        return self._allows_of(action)[0]

    def _unconditional_first(self, action: str) -> Sequence[tuple[Candidate, _Compiled]]:
        """The same, unconditional ones first: they carry no condition into the proposal."""
        return self._allows_of(action)[1]

    def _allows_of(self, action: str) -> tuple[_Allows, _Allows]:
        key = action.lower()
        found = self._allows.get(key)
        if found is None:
            allows = tuple(
                (c, s)
                for c, s in self._candidates(key.partition(":")[0])
                if s.statement.effect is Effect.ALLOW and (c.action is None or c.action(key))
            )
            ordered = tuple(sorted(allows, key=lambda pair: len(pair[1].statement.conditions)))
            found = self._allows[key] = (allows, ordered)
        return found

    def grants_action(self, action: str) -> bool:
        """Whether some Allow names the action at all (on any resource, any conditions)."""
        return bool(self._allows_for(action))

    # Which statement allows a call ----------------------------------------------------------
    def grant_for(
        self, action: str, resource: str, known: Mapping[str, tuple[str, ...]]
    ) -> AllowingStatement | None:
        """The existing grant of (action, resource) under the known context (lower-cased
        keys); None when no identity policy allows it (a resource policy may have)."""
        key = action.lower()
        for candidate, compiled in self._unconditional_first(action):
            context: Context = dict(satisfying_context(compiled.statement.conditions))
            context.update(known)
            if candidate.resource is not None and not candidate.resource(resource, context):
                continue
            if not candidate.applies(key, resource, context):
                continue
            if not self._has_denies(key.partition(":")[0]):
                # No Deny can apply, so the matching Allow decides: no evaluation needed.
                return AllowingStatement(compiled.statement, compiled.variables, context)
            final = self._avoid_denies(action, resource, context)
            if final is not None and candidate.applies(key, resource, final):
                return AllowingStatement(compiled.statement, compiled.variables, final)
        return None

    def _avoid_denies(self, action: str, resource: str, context: Context) -> Context | None:
        for _ in range(_DENY_ROUNDS):
            result = self.evaluator.evaluate(Request(action, resource, context))
            if result.allowed:
                return context
            if result.decision is not Decision.EXPLICITLY_DENIED:
                return None
            before = dict(context)
            for ref in result.statements:
                falsify(context, self.policies[ref.policy].statements[ref.statement].conditions)
            if context == before:
                return None
        return None

    def resources_for(self, action: str, conditions: tuple[Condition, ...]) -> tuple[str, ...]:
        """Resource patterns of the Allows naming `action` whose conditions are among
        `conditions` (positive lists only): what an unknown resource falls back to."""
        wanted = condition_key(conditions)
        found: list[str] = []
        for _, compiled in self._allows_for(action):
            statement = compiled.statement
            if statement.resource is None or isinstance(statement.resource, NotResourceList):
                continue
            if not condition_key(statement.conditions) <= wanted:
                continue
            if not compiled.variables and any("${" in p for p in statement.resource.patterns):
                continue  # literal `${` today would become a variable in the proposal
            found.extend(p for p in statement.resource.patterns if p not in found)
        return tuple(found)

    def grant_unknown(
        self, action: str, known: Mapping[str, tuple[str, ...]]
    ) -> tuple[AllowingStatement, str, tuple[str, ...]] | None:
        """For a call whose resource the logs do not name: a grant on some resource the
        existing Allows name, a sample resource of it, and the grant's resource patterns (the
        proposal then allows exactly what that statement allows, never more)."""
        for _, compiled in self._unconditional_first(action):
            resource = compiled.statement.resource
            if resource is None or isinstance(resource, NotResourceList):
                continue
            for pattern in resource.patterns:
                if "${" in pattern:
                    continue
                sample = sample_of(pattern)
                grant = self.grant_for(action, sample, known)
                if grant is None:
                    continue
                granting = grant.statement.resource
                if isinstance(granting, NotResourceList) or granting is None:
                    return grant, sample, (sample,)
                patterns = tuple(p for p in granting.patterns if "${" not in p)
                return grant, sample, patterns or (sample,)
        return None

    # Containment ----------------------------------------------------------------------------
    def covers(self, action: str, pattern: str, conditions: tuple[Condition, ...]) -> bool:
        """Whether every resource `pattern` matches is granted today for `action` by Allows
        whose conditions are all among `conditions`."""
        cache_key = (action.lower(), pattern, condition_key(conditions))
        known = self._covers.get(cache_key)
        if known is None:
            known = self._decide_covers(action, pattern, cache_key[2])
            self._covers[cache_key] = known
        return known

    def _decide_covers(self, action: str, pattern: str, wanted: ConditionKey) -> bool:
        specific = glob(pattern)
        unders: list[Glob] = []
        for _, compiled in self._allows_for(action):
            if not condition_key(compiled.statement.conditions) <= wanted:
                continue
            language = resource_language(compiled.statement, compiled.variables)
            if language.negated:
                if all(_disjoint(specific, g) for g in language.over):
                    return True
                continue
            for general in language.under:
                if contains(general, specific):
                    return True
            unders.extend(language.under)
        if not unders:
            return False
        try:
            return is_subset(specific, unders)
        except AutomatonLimitError:
            return False

    # Denies ---------------------------------------------------------------------------------
    def denies_for(self, actions: Iterable[str]) -> tuple[tuple[Statement, bool], ...]:
        """Deny statements (with their policy's variable support) that may apply to any of
        `actions`, in policy order."""
        wanted = {a.lower() for a in actions}
        services = {a.partition(":")[0] for a in wanted}
        kept: list[tuple[Statement, bool]] = []
        for compiled in self._statements:
            if compiled.statement.effect is not Effect.DENY:
                continue
            for service in services:
                candidate = compiled.matcher.for_service(service)
                if candidate is None:
                    continue
                if candidate.action is None or any(
                    candidate.action(a) for a in wanted if a.startswith(service + ":")
                ):
                    kept.append((compiled.statement, compiled.variables))
                    break
        return tuple(kept)


def _disjoint(a: Glob, b: Glob) -> bool:
    try:
        return find_string([[a], [b]]) is None
    except AutomatonLimitError:
        return False


def sample_of(pattern: str) -> str:
    """A concrete resource a pattern matches (`*` stands for itself: the action takes none)."""
    return "*" if pattern == "*" else glob(pattern).sample("x")
