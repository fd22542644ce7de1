"""Which statements an action can match together, over every possible action name.

Comparing two policy sets action by action over the catalog would miss actions AWS adds
tomorrow that a wildcard (`s3:*`) already grants. Instead, the action patterns of all
statements are run together as one automaton over lower-cased names of the form
`service:name`; every reachable accepting state is a *signature*, the set of statements that
some action name matches all at once. Catalog actions and future ones are covered alike, and
actions with the same signature need to be compared only once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alpha.policy.globlang import (
    STAR,
    Budget,
    Token,
    advance,
    glob,
    trace_path,
)
from alpha.policy.patterns import has_wildcard

_SHAPE = "?*:?*"  # every action name is `service:name`, both parts non-empty
_OTHER_CHOICES = "zqxjkvwy0123456789"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A statement's Action (or, `negated`, NotAction) patterns."""

    negated: bool
    patterns: tuple[str, ...]


def action_signatures(
    specs: Sequence[ActionSpec], wanted: Iterable[int], budget: Budget | None = None
) -> dict[frozenset[int], str]:
    """Every feasible signature containing a statement of `wanted`, with an action name (lower
    case) that has it. Raises AutomatonLimitError on pathological pattern sets: the automata
    together may spend `budget` (a fresh `Budget()` by default).

    Patterns naming one service literally meet only patterns of that service or with a
    wildcard in the service part, so each service named gets its own small automaton; names of
    services no pattern names literally are explored once, with only the service-wildcard
    patterns, when a wanted statement reaches them.
    """
    wanted = frozenset(wanted)
    budget = budget or Budget()
    services = {_service(p) for spec in specs for p in spec.patterns} - {None}
    open_ended = any(
        specs[i].negated or any(_service(p) is None for p in specs[i].patterns) for i in wanted
    )
    targets = (
        services
        if open_ended
        else {_service(p) for i in wanted for p in specs[i].patterns} - {None}
    )
    found: dict[frozenset[int], str] = {}
    for service in sorted(s for s in targets if s is not None):
        own = frozenset({service, None})
        part = [_restricted(spec, own) for spec in specs]
        _merge(found, _signatures(part, wanted, f"{service}:?*", (), budget))
    if open_ended:
        part = [_restricted(spec, frozenset({None})) for spec in specs]
        blocked = tuple(f"{s}:*" for s in sorted(s for s in services if s is not None))
        _merge(found, _signatures(part, wanted, _SHAPE, blocked, budget))
    return found


def _signatures(
    specs: Sequence[ActionSpec],
    wanted: frozenset[int],
    shape: str,
    blocked: tuple[str, ...],
    budget: Budget,
) -> dict[frozenset[int], str]:
    """Literal action names are looked up directly; the automaton then needs only the
    wildcard patterns, since a name no literal spells matches no literal pattern. Should its
    shortest name for a signature be a literal after all, the signature may belong to that
    literal alone, so the exploration is redone with every pattern."""
    literal_owners: dict[str, set[int]] = {}
    wild: list[ActionSpec] = []
    for index, spec in enumerate(specs):
        for pattern in spec.patterns:
            if not has_wildcard(pattern):
                literal_owners.setdefault(pattern.lower(), set()).add(index)
        wild.append(ActionSpec(spec.negated, tuple(p for p in spec.patterns if has_wildcard(p))))
    found: dict[frozenset[int], str] = {}
    wild_globs = [(i, glob(p.lower())) for i, spec in enumerate(wild) for p in spec.patterns]
    negated = frozenset(i for i, spec in enumerate(specs) if spec.negated)
    for name in sorted(literal_owners):
        if any(glob(b).matches(name) for b in blocked):
            continue
        matched = literal_owners[name] | {i for i, g in wild_globs if g.matches(name)}
        signature = frozenset(matched - negated) | (negated - matched)
        if signature & wanted:
            found.setdefault(signature, name)
    explored = _Explorer(wild, wanted, shape, blocked).run(budget)
    if any(name in literal_owners for name in explored.values()):
        return _Explorer(specs, wanted, shape, blocked).run(budget)
    _merge(found, explored)
    return found


def _service(pattern: str) -> str | None:
    """The service part when written literally, else None (`*`, `s3*:Get*`, no colon)."""
    prefix, colon, _ = pattern.lower().partition(":")
    return prefix if colon and "*" not in prefix and "?" not in prefix else None


def _restricted(spec: ActionSpec, services: frozenset[str | None]) -> ActionSpec:
    """The spec with only the patterns whose service part is one of `services`."""
    return ActionSpec(spec.negated, tuple(p for p in spec.patterns if _service(p) in services))


def _merge(found: dict[frozenset[int], str], more: dict[frozenset[int], str]) -> None:
    for signature, name in more.items():
        found.setdefault(signature, name)


class _Explorer:
    """Breadth-first search over the subset automaton of all patterns (and `shape`); states
    where a `blocked` pattern has matched are skipped (their names are explored elsewhere)."""

    def __init__(
        self,
        specs: Sequence[ActionSpec],
        wanted: frozenset[int],
        shape: str,
        blocked: tuple[str, ...],
    ) -> None:
        self.specs = specs
        self.wanted = wanted
        self.prunable = not any(specs[i].negated for i in wanted)
        self.negated = frozenset(i for i, spec in enumerate(specs) if spec.negated)
        self.tokens: list[Token | None] = []
        self.owner: list[int] = []  # statement index; -1 for the shape, -2 for blocked
        self.closure: list[tuple[int, ...]] = []
        self.starts: list[int] = []
        self._add(shape, -1)
        for pattern in blocked:
            self._add(pattern, -2)
        for index, spec in enumerate(specs):
            for pattern in spec.patterns:
                self._add(pattern.lower(), index)
        used = {t for t in self.tokens if isinstance(t, str)}
        self.other = next((c for c in _OTHER_CHOICES if c not in used), "\x00")

    def _add(self, pattern: str, owner: int) -> None:
        tokens = glob(pattern).tokens
        base = len(self.tokens)
        self.starts.append(base)
        self.tokens.extend(tokens)
        self.tokens.append(None)
        self.owner.extend([owner] * (len(tokens) + 1))
        for i in range(len(tokens) + 1):
            j = i
            while j < len(tokens) and tokens[j] == STAR:
                j += 1
            self.closure.append(tuple(range(base + i, base + j + 1)))

    def _close(self, positions: Iterable[int]) -> frozenset[int]:
        return frozenset(p for q in positions for p in self.closure[q])

    def _step(self, state: frozenset[int], char: str) -> frozenset[int]:
        return self._close(advance(self.tokens, state, char))

    def _alive(self, state: frozenset[int]) -> bool:
        owners = {self.owner[p] for p in state}
        if -1 not in owners:
            return False
        return not self.prunable or not self.wanted.isdisjoint(owners)

    def _signature(self, state: frozenset[int]) -> frozenset[int] | None:
        finals = {self.owner[p] for p in state if self.tokens[p] is None}
        if -1 not in finals or -2 in finals:
            return None
        finals.discard(-1)
        return frozenset(finals - self.negated) | (self.negated - finals)

    def run(self, budget: Budget) -> dict[frozenset[int], str]:
        start = self._close(self.starts)
        found: dict[frozenset[int], str] = {}
        parent: dict[frozenset[int], tuple[frozenset[int], str] | None] = {start: None}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            signature = self._signature(state)
            if signature is not None and signature not in found and signature & self.wanted:
                found[signature] = trace_path(parent, state)
            chars = {t for p in state if isinstance(t := self.tokens[p], str)}
            budget.spend(len(state) * (len(chars) + 1))
            for char in [self.other, *sorted(chars)]:
                following = self._step(state, char)
                if following in parent or not self._alive(following):
                    continue
                parent[following] = (state, char)
                queue.append(following)
        return found
