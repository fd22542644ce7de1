"""Where a proposed policy set may allow what the existing set does not, found symbolically.

For one action signature (the statements an action name matches, see `action_space`) the
question is whether some resource and some request context make a proposed Allow apply, no
proposed Deny apply, and the existing set not allow: either no existing Allow applies (case 1)
or an existing Deny does (case 2).

Conditions are treated as opaque atoms, `(operator, key, values)`, each of which may be true
or false independently. A statement applies when all its atoms hold, so the weakest context
for a proposed Allow S makes exactly S's atoms true: existing Allows cover S only when their
atoms are a subset of S's, and proposed Denys narrow S only then. An existing Deny D may apply
together with S (atoms of S and D true), and is then answered only by a proposed Deny whose
atoms lie within those. Over all truth assignments this is exact; real contexts are a subset
of the assignments, so "no new access" over atoms implies it over contexts (sound), while a
reported finding must still be confirmed concretely (see `counterexample`).

Resources are regular languages of globs (`globlang`). Policy variables make a pattern depend
on the request, so each statement gets an over- and an under-approximation: a variable becomes
`*` in the first and the pattern is dropped in the second. A proposed Allow and an existing
Deny use the over-approximation, existing Allows and proposed Denys the under-approximation,
except that identical text on both sides resolves identically and so covers exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from alpha.policy.action_space import ActionSpec
from alpha.policy.globlang import (
    STAR,
    AutomatonLimitError,
    Budget,
    Glob,
    Token,
    find_string,
    glob,
)
from alpha.policy.model import ActionList, Condition, Effect, NotResourceList, Policy, Statement
from alpha.policy.patterns import Escaped, Literal, Variable, parse_template
from alpha.policy.short_arns import read_short_arns

__all__ = ["resource_language"]


IDENTITY_LAYER = "identity"  # the policies compared are identity policies (PolicyLayer value)
Atom = tuple[str, str, frozenset[str], bool]
"""A condition as an opaque proposition: operator, lower-cased key, values, variables on."""


class Side(StrEnum):
    EXISTING = "existing"
    PROPOSED = "proposed"


@dataclass(frozen=True, slots=True)
class ResourceLanguage:
    """A statement's Resource (or, `negated`, NotResource) patterns as globs."""

    negated: bool
    texts: tuple[str, ...]
    over: tuple[Glob, ...]  # variables widened to `*`
    under: tuple[Glob, ...]  # patterns with variables dropped
    variable_texts: frozenset[str]  # the texts that hold policy variables

    @property
    def key(self) -> tuple[bool, frozenset[str], bool]:
        """Equal keys match the same resources in every request."""
        return self.negated, frozenset(self.texts), bool(self.variable_texts)


@dataclass(frozen=True, slots=True)
class IndexedStatement:
    side: Side
    policy: int
    number: int
    statement: Statement
    variables: bool
    atoms: frozenset[Atom]
    resources: ResourceLanguage

    @property
    def effect(self) -> Effect:
        return self.statement.effect

    @property
    def action_spec(self) -> ActionSpec:
        action = self.statement.action
        return ActionSpec(not isinstance(action, ActionList), action.patterns)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.statement.conditions

    def __str__(self) -> str:
        sid = f" ({self.statement.sid})" if self.statement.sid else ""
        return f"{self.side}[{self.policy}].Statement[{self.number}]{sid}"


def index_statements(
    side: Side, policies: Sequence[Policy], first: int = 0
) -> list[IndexedStatement]:
    """Every statement of `policies`, numbered from policy `first` on."""
    return [
        IndexedStatement(
            side,
            p,
            n,
            statement,
            policy.supports_variables,
            frozenset(condition_atom(c, policy.supports_variables) for c in statement.conditions),
            resource_language(statement, policy.supports_variables),
        )
        for p, policy in enumerate(policies, start=first)
        for n, statement in enumerate(policy.statements)
    ]


def condition_atom(condition: Condition, variables: bool) -> Atom:
    uses_variables = variables and any("${" in v for v in condition.values)
    return condition.operator, condition.key.lower(), frozenset(condition.values), uses_variables


def resource_language(statement: Statement, variables: bool) -> ResourceLanguage:
    """The statement's resources as an identity policy reads them (short ARNs padded)."""
    resource = read_short_arns(statement.resource, IDENTITY_LAYER)
    texts = ("*",) if resource is None else resource.patterns
    over: list[Glob] = []
    under: list[Glob] = []
    variable_texts: set[str] = set()
    for text in texts:
        widened = _widened(text) if variables else None
        if widened is None:
            over.append(glob(text))
            under.append(glob(text))
        else:
            over.append(widened)
            variable_texts.add(text)
    return ResourceLanguage(
        isinstance(resource, NotResourceList),
        texts,
        tuple(over),
        tuple(under),
        frozenset(variable_texts),
    )


def _widened(text: str) -> Glob | None:
    """The glob with every variable as `*`, or None when `text` holds no variable."""
    template = parse_template(text)
    if template is None:
        return None
    tokens: list[Token] = []
    for part in template.parts:
        if isinstance(part, Literal):
            tokens.extend(glob(part.text).tokens)
        elif isinstance(part, Escaped):
            tokens.append(part.char)
        elif isinstance(part, Variable):
            tokens.append(STAR)
    return Glob(tuple(tokens))


@dataclass(frozen=True, slots=True)
class NewAccessFinding:
    """A place where new access could not be ruled out: proposed Allow `grant` may apply where
    the existing set does not allow (`deny` None) or where existing Deny `deny` applies."""

    grant: IndexedStatement
    deny: IndexedStatement | None
    atoms: frozenset[Atom]
    resource: str | None  # a witness resource, None when the automaton gave up


@dataclass(slots=True)
class _Problem:
    """Constraints on one resource string: in some glob of each include union, in no exclude."""

    includes: list[tuple[Glob, ...]]
    excludes: list[Glob]

    def with_member(self, language: ResourceLanguage, over: bool) -> _Problem:
        """Also require membership in the language's over- (or under-) approximation."""
        globs = _pattern_globs(language, over)
        if language.negated:
            return _Problem(list(self.includes), [*self.excludes, *globs])
        return _Problem([*self.includes, globs], list(self.excludes))

    def without_member(self, language: ResourceLanguage, over: bool) -> _Problem:
        """Also require non-membership in the language's over- (or under-) approximation."""
        globs = _pattern_globs(language, over)
        if language.negated:
            return _Problem([*self.includes, globs], list(self.excludes))
        return _Problem(list(self.includes), [*self.excludes, *globs])

    def solve(self, budget: Budget) -> tuple[bool, str | None]:
        """(may have a solution, witness); the witness is None when the search gave up."""
        try:
            witness = find_string(self.includes, self.excludes, budget=budget)
        except AutomatonLimitError:
            return True, None
        return witness is not None, witness


def _pattern_globs(language: ResourceLanguage, over: bool) -> tuple[Glob, ...]:
    """The patterns that approximate the language from above (`over`) or below. NotResource
    turns the direction around: fewer excluded strings means more matched ones."""
    widest = over != language.negated
    return language.over if widest else language.under


def new_access_findings(
    statements: Sequence[IndexedStatement], signature: frozenset[int], budget: Budget
) -> Iterator[NewAccessFinding]:
    """Every way (lazily) the proposed statements of `signature` may add access; the resource
    automata spend `budget`, and once it is spent every finding is kept (without a witness)."""
    members = [statements[i] for i in sorted(signature)]
    grants = _pick(members, Side.PROPOSED, Effect.ALLOW)
    existing_allows = _pick(members, Side.EXISTING, Effect.ALLOW)
    existing_denies = _pick(members, Side.EXISTING, Effect.DENY)
    proposed_denies = _pick(members, Side.PROPOSED, Effect.DENY)
    pairs = complementary_pairs(frozenset().union(*(s.atoms for s in members)))
    for grant in grants:
        for atoms in _assignments(grant.atoms, pairs):
            covering = [e for e in existing_allows if e.atoms <= atoms]
            narrowing = [d for d in proposed_denies if d.atoms <= atoms]
            yield from _uncovered(grant, covering, narrowing, atoms, budget)
        for deny in existing_denies:
            for atoms in _assignments(grant.atoms | deny.atoms, pairs):
                answering = [d for d in proposed_denies if d.atoms <= atoms]
                yield from _denied_before(grant, deny, answering, atoms, budget)


# Negated operators that are the exact complement of a positive one: with no `IfExists` and no
# set qualifier, `StringNotEquals k V` holds exactly when `StringEquals k V` does not (a missing
# key makes the first true and the second false).
_COMPLEMENTS = {
    "StringEquals": "StringNotEquals",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "StringLike": "StringNotLike",
    "NumericEquals": "NumericNotEquals",
    "DateEquals": "DateNotEquals",
    "IpAddress": "NotIpAddress",
    "ArnEquals": "ArnNotEquals",
    "ArnLike": "ArnNotLike",
}
_MAX_BRANCHED_PAIRS = 6


def complementary_pairs(atoms: frozenset[Atom]) -> list[tuple[Atom, Atom]]:
    """(positive, negated) atoms present together, one of which is true in every context."""
    pairs: list[tuple[Atom, Atom]] = []
    for atom in atoms:
        operator, key, values, variables = atom
        negated = _COMPLEMENTS.get(operator)
        other: Atom | None = (negated, key, values, variables) if negated else None
        if operator == "Null" and values == frozenset({"true"}):
            other = ("Null", key, frozenset({"false"}), variables)
        if other is not None and other in atoms:
            pairs.append((atom, other))
    return sorted(pairs, key=repr)


def _assignments(
    base: frozenset[Atom], pairs: list[tuple[Atom, Atom]]
) -> Iterator[frozenset[Atom]]:
    """The atoms known true in the contexts where `base` holds: `base` plus one side of each
    complementary pair. Each result is a subset of the atoms true in such a context, which
    is all soundness needs; branching on the pairs only adds precision (capped)."""
    if any(a in base and b in base for a, b in pairs):
        return  # base can never hold
    free = [pair for pair in pairs if pair[0] not in base and pair[1] not in base]
    for choice in itertools.product(*free[:_MAX_BRANCHED_PAIRS]):
        yield base | frozenset(choice)


def _pick(members: list[IndexedStatement], side: Side, effect: Effect) -> list[IndexedStatement]:
    return [s for s in members if s.side is side and s.effect is effect]


def _uncovered(
    grant: IndexedStatement,
    covering: list[IndexedStatement],
    narrowing: list[IndexedStatement],
    atoms: frozenset[Atom],
    budget: Budget,
) -> Iterator[NewAccessFinding]:
    """Case 1: the grant applies and no existing Allow does."""
    if any(e.resources.key == grant.resources.key for e in covering):
        return
    base = _Problem([], [])
    for e in covering:
        base = base.without_member(e.resources, over=False)
    for d in narrowing:
        base = base.without_member(d.resources, over=False)
    for problem in _split(grant.resources, base, [*covering, *narrowing]):
        feasible, witness = problem.solve(budget)
        if feasible:
            yield NewAccessFinding(grant, None, atoms, witness)
            return


def _denied_before(
    grant: IndexedStatement,
    deny: IndexedStatement,
    answering: list[IndexedStatement],
    atoms: frozenset[Atom],
    budget: Budget,
) -> Iterator[NewAccessFinding]:
    """Case 2: the grant and an existing Deny apply together and no proposed Deny answers."""
    if any(d.resources.key == deny.resources.key for d in answering):
        return
    base = _Problem([], [])
    for d in answering:
        base = base.without_member(d.resources, over=False)
    for with_grant in _split(grant.resources, base, answering):
        for problem in _split(deny.resources, with_grant, answering):
            feasible, witness = problem.solve(budget)
            if feasible:
                yield NewAccessFinding(grant, deny, atoms, witness)
                return


def _split(
    language: ResourceLanguage, base: _Problem, same_text: Sequence[IndexedStatement]
) -> Iterator[_Problem]:
    """Membership in the over-approximation of `language`, one problem per positive pattern;
    a variable pattern whose identical text is in a `same_text` statement is answered exactly
    by it and skipped."""
    if language.negated:
        yield base.with_member(language, over=True)
        return
    for text, pattern in zip(language.texts, language.over, strict=True):
        if text in language.variable_texts and any(
            not s.resources.negated and text in s.resources.variable_texts for s in same_text
        ):
            continue
        yield _Problem([*base.includes, (pattern,)], list(base.excludes))
