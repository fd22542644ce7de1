"""Concrete requests that the proposed policies allow and the existing ones do not.

A `NewAccessFinding` says where new access may be; this module turns it into a request: an
action (a catalog action with the same signature when there is one, else the automaton's name),
a request context that makes the finding's condition atoms true (`satisfying_context`), and a
resource found by solving the resource constraints again, now exactly, with every statement's
variables and conditions evaluated for that context. The evaluator then has the last word: a
request counts only if it really is allowed by the proposed set and not by the existing set.

The context makes the finding's atoms true and tries to make false the conditions of the
statements the finding assumed not to apply (`contexts`). When that cannot be done (tests that
contradict each other on one key) no request is confirmed, and the caller reports the finding
as possible rather than proven.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from alpha.catalog import Catalog
from alpha.policy.conditions import compile_conditions
from alpha.policy.contexts import FRESH_VALUE, falsify, satisfying_context
from alpha.policy.evaluate import Evaluator, Request, StatementRef
from alpha.policy.globlang import AutomatonLimitError, Budget, Glob, find_string, glob
from alpha.policy.model import Condition, Effect
from alpha.policy.patterns import Context, GlobSet, Variable, parse_template
from alpha.policy.request_shapes import field_choices, request_shapes
from alpha.policy.symbolic import IndexedStatement, NewAccessFinding, Side

_MAX_CATALOG_ACTIONS = 3
_MAX_CANDIDATES_CHECKED = 5000
_MAX_VARIANTS = 6
_WORDS = re.compile(r"[/:*?${}]+")


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A request: context keys lower-cased, each with its values. `future_action` when the
    catalog does not list the action (one AWS may add, which a wildcard already grants)."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]]
    future_action: bool = False


@dataclass(frozen=True, slots=True)
class Judges:
    """Both sides compiled for evaluation."""

    existing: Evaluator
    proposed: Evaluator


@dataclass(frozen=True, slots=True)
class Proof:
    """A request that proves the finding, and the proposed statement that grants it."""

    counterexample: Counterexample
    grant: IndexedStatement


@dataclass(frozen=True, slots=True)
class OffShape:
    """The finding holds only for resources no request for `action` can name (such as
    `resource`): new access over strings, but not a request AWS could receive."""

    action: str
    resource: str


_Target = tuple[Glob, Callable[[str], bool]]
_ANY_STRING: tuple[_Target, ...] = ((glob("*"), lambda _resource: True),)


def confirm(
    finding: NewAccessFinding,
    signature: frozenset[int],
    action_name: str,
    *,
    statements: Sequence[IndexedStatement],
    catalog: Catalog,
    judges: Judges,
    budget: Budget,
) -> Proof | OffShape | None:
    """A request AWS could receive that proves the finding (its resource built from the
    catalog's ARN formats for the action); else, when only a resource of no such shape does,
    that resource; else None. The resource automata spend `budget`."""
    context = satisfying_context(_conditions_of(finding))
    _fill_variables(context, finding)
    members = [statements[i] for i in sorted(signature)]
    for other in _to_switch_off(finding, members):
        falsify(context, other.conditions)
    actions = action_candidates(finding.grant, signature, action_name, statements, catalog)
    fields = field_choices(t for s in members for t in s.resources.texts)
    off_shape: OffShape | None = None

    def attempt(action: str, candidate: Context, targets: Iterable[_Target]) -> Proof | None:
        resource = _concrete_resource(members, candidate, targets, budget)
        if resource is None:
            return None
        request = Request(action, resource, candidate)
        decided = judges.proposed.evaluate(request)
        if not decided.allowed or judges.existing.evaluate(request).allowed:
            return None
        future = catalog.action(action) is None
        example = Counterexample(action, resource, dict(request.context), future)
        return Proof(example, _granting(decided.statements, statements, finding.grant))

    for candidate in _with_other_variables(context, finding.grant, members):
        for action in actions:
            shapes = request_shapes(catalog, action)
            targets = [(g, shape.admits) for shape in shapes for g in shape.globs(fields)]
            proof = attempt(action, candidate, targets)
            if proof is not None:
                return proof
            if off_shape is None and (loose := attempt(action, candidate, _ANY_STRING)):
                off_shape = OffShape(action, loose.counterexample.resource)
    return off_shape


def _with_other_variables(
    context: dict[str, tuple[str, ...]],
    grant: IndexedStatement,
    members: Sequence[IndexedStatement],
) -> Iterator[dict[str, tuple[str, ...]]]:
    """The context, then variants giving the other statements' variables a value taken from
    the grant's resource text: an existing NotResource `home/${aws:username}/*` denies
    `home/bob/x` only when the user is bob."""
    yield context
    keys = sorted(
        {
            part.key
            for s in members
            for text in s.resources.variable_texts
            for part in _template_parts(text)
            if isinstance(part, Variable) and part.key not in context
        }
    )
    words = sorted({w for t in grant.resources.texts for w in _WORDS.split(t) if w})
    for key in keys[:_MAX_VARIANTS]:
        for word in words[:_MAX_VARIANTS]:
            yield {**context, key: (word,)}


def _template_parts(text: str) -> tuple[object, ...]:
    template = parse_template(text)
    return template.parts if template else ()


def _to_switch_off(
    finding: NewAccessFinding, members: Sequence[IndexedStatement]
) -> list[IndexedStatement]:
    """Statements the finding assumed not to apply: proposed Denys outside its atoms and, when
    no existing Deny is relied on, existing Allows outside them."""
    return [
        s
        for s in members
        if not s.atoms <= finding.atoms
        and (
            _is(s, Side.PROPOSED, Effect.DENY)
            or (finding.deny is None and _is(s, Side.EXISTING, Effect.ALLOW))
        )
    ]


def _conditions_of(finding: NewAccessFinding) -> list[Condition]:
    """The finding's atoms as conditions (keys lower-cased, values in a stable order)."""
    return [
        Condition(operator, key, tuple(sorted(values)))
        for operator, key, values, _ in sorted(finding.atoms, key=repr)
    ]


def _fill_variables(context: dict[str, tuple[str, ...]], finding: NewAccessFinding) -> None:
    """Give every variable of the grant's (and deny's) resources a value, so they resolve."""
    involved = [finding.grant] + ([finding.deny] if finding.deny is not None else [])
    for statement in involved:
        for text in statement.resources.variable_texts:
            for part in _template_parts(text):
                if isinstance(part, Variable) and part.key not in context:
                    context[part.key] = (FRESH_VALUE,)


def _granting(
    refs: Iterable[StatementRef], statements: Sequence[IndexedStatement], fallback: IndexedStatement
) -> IndexedStatement:
    """The proposed statement the evaluator names as allowing (the finding's if none)."""
    for ref in refs:
        for s in statements:
            if s.side is Side.PROPOSED and (s.policy, s.number) == (ref.policy, ref.statement):
                return s
    return fallback


def action_candidates(
    grant: IndexedStatement,
    signature: frozenset[int],
    action_name: str,
    statements: Sequence[IndexedStatement],
    catalog: Catalog,
) -> list[str]:
    """Catalog actions with exactly this signature first (realistic), then the automaton's
    (an action AWS may add). A NotAction grant, or a name of a service the catalog lacks,
    looks through every service."""
    matchers = [_action_matcher(s) for s in statements]
    found: list[str] = []
    spec = grant.action_spec
    service = action_name.partition(":")[0]
    patterns = () if spec.negated else spec.patterns
    pool = itertools.chain(
        catalog.actions(service) if catalog.has_service(service) else (),
        (a for p in patterns for a in catalog.expand(p)),
        catalog.actions() if spec.negated or not catalog.has_service(service) else (),
    )
    for checked, action in enumerate(pool):
        if len(found) >= _MAX_CATALOG_ACTIONS or checked > _MAX_CANDIDATES_CHECKED:
            break
        key = action.key.lower()
        if frozenset(i for i, m in enumerate(matchers) if m(key)) == signature:
            found.append(action.key)
    return [*found, action_name]


def _action_matcher(statement: IndexedStatement) -> Callable[[str], bool]:
    spec = statement.action_spec
    globs = GlobSet(spec.patterns, ignore_case=True)
    if spec.negated:
        return lambda action: not globs.matches(action)
    return globs.matches


def _concrete_resource(
    members: Sequence[IndexedStatement],
    context: Context,
    targets: Iterable[_Target],
    budget: Budget,
) -> str | None:
    """A resource within a target's glob (and admitted by its test) that the active proposed
    statements allow and the active existing ones do not, all patterns resolved for
    `context`: exact, no approximation left."""
    active = [s for s in members if all(test(context) for test in _tests(s))]
    denied_now = [_resolved(s, context) for s in active if _is(s, Side.PROPOSED, Effect.DENY)]
    allows = [_resolved(s, context) for s in active if _is(s, Side.EXISTING, Effect.ALLOW)]
    denies = [_resolved(s, context) for s in active if _is(s, Side.EXISTING, Effect.DENY)]
    for grant in (s for s in active if _is(s, Side.PROPOSED, Effect.ALLOW)):
        granted = _resolved(grant, context)
        for deny in [None, *denies]:
            outside = [*denied_now, *(allows if deny is None else [])]
            inside = [granted, *([deny] if deny is not None else [])]
            for shaped, admits in targets:
                found = _solve([*inside, _Resolved(False, (shaped,))], outside, budget)
                if found is not None and admits(found):
                    return found
    return None


def _is(statement: IndexedStatement, side: Side, effect: Effect) -> bool:
    return statement.side is side and statement.effect is effect


def _tests(statement: IndexedStatement) -> tuple[Callable[[Context], bool], ...]:
    return compile_conditions(statement.conditions, statement.variables)


@dataclass(frozen=True, slots=True)
class _Resolved:
    negated: bool
    globs: tuple[Glob, ...]


def _resolved(statement: IndexedStatement, context: Context) -> _Resolved:
    globs: list[Glob] = []
    for text in statement.resources.texts:  # short ARNs already read as IAM does
        template = parse_template(text) if statement.variables else None
        if template is None:
            globs.append(glob(text))
            continue
        resolved = template.resolve(context)
        if resolved is not None:  # an unresolved pattern matches nothing
            globs.append(glob(resolved))
    return _Resolved(statement.resources.negated, tuple(globs))


def _solve(inside: list[_Resolved], outside: list[_Resolved], budget: Budget) -> str | None:
    includes: list[tuple[Glob, ...]] = []
    excludes: list[Glob] = []
    for r in inside:
        if r.negated:
            excludes.extend(r.globs)
        else:
            includes.append(r.globs)
    for r in outside:
        if r.negated:
            includes.append(r.globs)
        else:
            excludes.extend(r.globs)
    try:
        return find_string(includes, excludes, budget=budget)
    except AutomatonLimitError:
        return None
