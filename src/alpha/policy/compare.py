"""Does a proposed set of identity policies allow anything the existing set does not?

`no_new_access` is sound: it answers `NoNewAccess` only when, for every action name (those in
the catalog and those AWS may add later under a wildcard), every resource and every request
context, the proposed set allowing implies the existing set allowing. It is exact when neither
side has conditions or policy variables; otherwise it is conservative in the direction that
keeps it sound:

- a condition on a proposed Allow only narrows it; an existing Allow covers it only when its
  own conditions are among the proposed statement's (same operator, key and values);
- a condition on an existing Allow cannot be assumed to hold, and one on an existing Deny
  cannot be assumed not to hold (unless the proposed side denies under the same conditions);
- a policy variable in a resource matches anything on the proposed side and nothing on the
  existing side, except that identical text on both sides covers itself.

When access may be added, a concrete request is built and checked with the evaluator: the
result is `NewAccess` with that request when the evaluator confirms it, or `PossibleNewAccess`
when the analysis cannot rule new access out but no confirmed request was found (conditions
whose tests contradict each other, or patterns too complex for the automaton). Principals in
resource-policy statements are ignored: both sides are taken as applying to one caller.

The method: all statements' action patterns run together as one automaton over action names,
giving each set of statements some action matches at once (`action_space`); for each such
set, resource languages are compared by glob automata (`symbolic`, `globlang`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpha.catalog import Catalog
from alpha.policy.access_reasons import Unconfirmed, unconfirmed_reason
from alpha.policy.action_space import action_signatures
from alpha.policy.counterexample import Counterexample, Judges, Proof, confirm
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.globlang import AutomatonLimitError, Budget
from alpha.policy.model import ALWAYS_ALLOWED_ACTION, ActionList, Effect, Policy, Statement
from alpha.policy.request_shapes import request_problem
from alpha.policy.symbolic import (
    IndexedStatement,
    Side,
    index_statements,
    new_access_findings,
)

__all__ = [
    "AccessCheck",
    "Counterexample",
    "InternalFinding",
    "NewAccess",
    "NoNewAccess",
    "PossibleNewAccess",
    "ProposedStatement",
    "no_new_access",
]

_MAX_ATTEMPTS = 25  # findings tried for a confirmed counterexample before settling for one
_ALWAYS_ALLOWED_ON_BOTH = Policy(
    (Statement(Effect.DENY, ActionList((ALWAYS_ALLOWED_ACTION,)), sid="AlwaysAllowed"),)
)


@dataclass(frozen=True, slots=True)
class ProposedStatement:
    """A statement of the proposed set: `policy` indexes the proposed policies."""

    policy: int
    number: int
    sid: str | None

    def __str__(self) -> str:
        sid = f" ({self.sid})" if self.sid else ""
        return f"proposed[{self.policy}].Statement[{self.number}]{sid}"


@dataclass(frozen=True, slots=True)
class NoNewAccess:
    """Everything the proposed set allows, the existing set allows too."""


@dataclass(frozen=True, slots=True)
class NewAccess:
    """The proposed set allows `counterexample` (confirmed by the evaluator) and the existing
    set does not; `statement` is the proposed Allow that grants it."""

    counterexample: Counterexample
    statement: ProposedStatement


@dataclass(frozen=True, slots=True)
class PossibleNewAccess:
    """New access could not be ruled out, nor confirmed with a concrete request; `statement`
    is the proposed Allow in question and `reason` says why: the action and resource, the
    pattern that widened or the condition that was dropped, and why no request confirmed it."""

    statement: ProposedStatement
    reason: str


@dataclass(frozen=True, slots=True)
class InternalFinding:
    """A bug in ALPHA, never new access: the counterexample found for `statement` did not hold
    when checked again by a freshly compiled evaluator, or is no request AWS could receive;
    `reason` says which."""

    statement: ProposedStatement
    counterexample: Counterexample
    reason: str


AccessCheck = NoNewAccess | NewAccess | PossibleNewAccess | InternalFinding


def no_new_access(
    existing: Sequence[Policy], proposed: Sequence[Policy], catalog: Catalog
) -> AccessCheck:
    """Whether `proposed` allows nothing `existing` does not (see the module docstring)."""
    if _kept_as_written(existing, proposed):
        return NoNewAccess()
    statements = [
        *index_statements(Side.EXISTING, existing),
        *index_statements(Side.PROPOSED, proposed),
        # Allowed whatever either side says: never new access (see `ALWAYS_ALLOWED_ACTION`).
        *index_statements(Side.PROPOSED, [_ALWAYS_ALLOWED_ON_BOTH], first=len(proposed)),
    ]
    wanted = [
        i for i, s in enumerate(statements) if s.side is Side.PROPOSED and s.effect is Effect.ALLOW
    ]
    if not wanted:
        return NoNewAccess()
    # One budget for every automaton of the check, so that its time is bounded whatever the
    # patterns (many statements each with a hard pattern would otherwise add up).
    budget = Budget()
    try:
        signatures = action_signatures([s.action_spec for s in statements], wanted, budget)
    except AutomatonLimitError:
        first = statements[wanted[0]]
        return PossibleNewAccess(
            _located(first),
            f"the action patterns of both sides are too complex to compare within "
            f"{budget.limit:,} automaton steps, so no action of {first} (the first proposed "
            "Allow) could be shown to be granted today",
        )
    return _search(statements, signatures, existing, proposed, catalog, budget=budget)


def _search(
    statements: list[IndexedStatement],
    signatures: dict[frozenset[int], str],
    existing: Sequence[Policy],
    proposed: Sequence[Policy],
    catalog: Catalog,
    *,
    budget: Budget,
) -> AccessCheck:
    judges: Judges | None = None
    first: Unconfirmed | None = None
    attempts = 0
    for signature, action_name in signatures.items():
        for finding in new_access_findings(statements, signature, budget):
            judges = judges or Judges(
                compile_policy_set(PolicySet(identity=tuple(existing))),
                compile_policy_set(PolicySet(identity=tuple(proposed))),
            )
            found = confirm(
                finding,
                signature,
                action_name,
                statements=statements,
                catalog=catalog,
                judges=judges,
                budget=budget,
            )
            if isinstance(found, Proof):
                return check_again(found, existing, proposed, catalog)
            # Report a finding that may be real access before one only a resource of no
            # request's shape confirms.
            if first is None or (first.off_shape is not None and found is None):
                first = Unconfirmed(finding, signature, action_name, found)
            attempts += 1
            if attempts >= _MAX_ATTEMPTS:
                break
        if attempts >= _MAX_ATTEMPTS:
            break
    if first is None:
        return NoNewAccess()
    reason = unconfirmed_reason(first, statements, catalog)
    return PossibleNewAccess(_located(first.finding.grant), reason)


def _kept_as_written(existing: Sequence[Policy], proposed: Sequence[Policy]) -> bool:
    """Every proposed Allow is an existing statement, and every existing Deny a proposed one:
    whatever the proposal allows, an existing Allow allows and no existing Deny denies (a
    policy against itself, a proposal that only drops statements). Exact statements, so the
    variables of each side resolve alike; the automata are spared their budget."""
    before = {(s, p.supports_variables) for p in existing for s in p.statements}
    after = {(s, p.supports_variables) for p in proposed for s in p.statements}
    allows = {x for x in after if x[0].effect is Effect.ALLOW}
    denies = {x for x in before if x[0].effect is Effect.DENY}
    return allows <= before and denies <= after


def check_again(
    proof: Proof, existing: Sequence[Policy], proposed: Sequence[Policy], catalog: Catalog
) -> NewAccess | InternalFinding:
    """The counterexample as reported, decided again by evaluators compiled afresh and
    checked to be a request AWS could receive; any disagreement is a bug, said as such."""
    example = proof.counterexample
    request = Request(example.action, example.resource, example.context)
    problems: list[str] = []
    if not compile_policy_set(PolicySet(identity=tuple(proposed))).evaluate(request).allowed:
        problems.append("the evaluator does not allow it under the proposed policies")
    if compile_policy_set(PolicySet(identity=tuple(existing))).evaluate(request).allowed:
        problems.append("the evaluator allows it under the existing policies")
    invalid = request_problem(catalog, example.action, example.resource)
    if invalid is not None:
        problems.append(f"no request AWS could receive: {invalid}")
    if problems:
        return InternalFinding(_located(proof.grant), example, "; ".join(problems))
    return NewAccess(example, _located(proof.grant))


def _located(statement: IndexedStatement) -> ProposedStatement:
    return ProposedStatement(statement.policy, statement.number, statement.statement.sid)
