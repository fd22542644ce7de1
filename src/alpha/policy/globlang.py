"""The languages of IAM globs: emptiness, inclusion and witness strings, by automata.

A glob (`*` any run of characters including `/` and `:`, `?` exactly one) denotes a regular
language. `find_string` answers "is there a string in every `includes` union and in no
`excludes` glob?" and returns the shortest such string, by breadth-first search over the
subset construction of the globs' position automata, built lazily. Characters that no glob
names literally behave alike, so one representative (`other`) stands for all of them and the
search alphabet stays small.

Easy cases never reach the automaton: a literal string is matched directly, a `prefix*`
container decides by `startswith`, and identical globs by equality.

Everything stays polynomial in the pattern and the string. A glob is kept canonical (in a run
of wildcards, every `?` before at most one `*`: `*?*?` is `??*`), and its regex matches each
text between two `*` at its leftmost place, in an atomic group, so the regex engine never
backtracks into an earlier `*` (leftmost is always right: a later place leaves less room to
what follows). The searches over subset automata are capped by a `Budget` of work, since
inclusion of such patterns is coNP-complete in general (`*a` and twenty `?` need a million
states): past it the caller answers conservatively.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "AutomatonLimitError",
    "Budget",
    "Glob",
    "canonical",
    "contains",
    "find_string",
    "glob",
    "is_subset",
    "wildcard_regex",
]


STAR = 0
ONE = 1
Token = str | int
"""A one-character literal, STAR or ONE."""

_OTHER_CHOICES = "xyzqjkvw0123456789abcdefghilmnoprstu_-"
WORK_LIMIT = 1_000_000
"""Positions a search may step through: half a second and 100 MB at worst, where real policies
need a few hundred per search (benchmarks/bench_compare.py) and the tests at most ~40,000."""


class AutomatonLimitError(Exception):
    """The subset construction grew past its limit; the caller must answer conservatively."""


class Budget:
    """The work one automaton search may do, counted in positions stepped through; spending
    past `limit` raises AutomatonLimitError, so a search is bounded whatever the patterns."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int = WORK_LIMIT) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise AutomatonLimitError(f"patterns too complex: over {self.limit:,} automaton steps")


@dataclass(frozen=True, slots=True)
class Glob:
    tokens: tuple[Token, ...]

    def __post_init__(self) -> None:
        # Equal languages get equal tokens, and automata and regexes stay small (see above).
        object.__setattr__(self, "tokens", canonical(self.tokens))

    @property
    def is_literal(self) -> bool:
        return all(isinstance(t, str) for t in self.tokens)

    @property
    def literal_prefix(self) -> str:
        out: list[str] = []
        for token in self.tokens:
            if not isinstance(token, str):
                break
            out.append(token)
        return "".join(out)

    @property
    def text(self) -> str:
        return "".join(t if isinstance(t, str) else "*?"[t] for t in self.tokens)

    def sample(self, other: str = "x") -> str:
        """A short member: `*` empty, `?` the `other` character."""
        return "".join(
            t if isinstance(t, str) else ("" if t == STAR else other) for t in self.tokens
        )

    def matches(self, value: str) -> bool:
        return _regex(self.tokens).fullmatch(value) is not None


@lru_cache(maxsize=8192)
def glob(pattern: str) -> Glob:
    """The glob for IAM pattern text (no policy variables: callers substitute them first)."""
    return Glob(tuple(STAR if c == "*" else ONE if c == "?" else c for c in pattern))


def canonical(tokens: Iterable[Token]) -> tuple[Token, ...]:
    """The same language with each run of wildcards written as its `?`s, then one `*` if the
    run has any: `*?*?` and `?*?*` both become `??*`."""
    out: list[Token] = []
    ones = 0
    star = False
    for token in (*tokens, None):
        if token == ONE:
            ones += 1
        elif token == STAR:
            star = True
        else:
            out.extend([ONE] * ones + ([STAR] if star else []))
            ones, star = 0, False
            if token is not None:
                out.append(token)
    return tuple(out)


def wildcard_regex(tokens: Iterable[Token], star: str = ".*", one: str = ".") -> str:
    """A regex (without anchors, for `fullmatch`) that matches what the tokens do in time
    linear in the string for each piece of the pattern: `star` and `one` say what the
    wildcards match (`[^:]*` and `[^:]` keep them inside an ARN field).

    The text before the first `*` is anchored at the start and the text after the last at the
    end; each text between two `*` is matched at its leftmost place after the previous one,
    in an atomic group: that is always a match when there is one, and the engine cannot
    backtrack into it, which would be exponential in the number of `*` (`*?*?*?...x`).
    """
    pieces: list[list[str]] = [[]]
    for token in canonical(tokens):
        if token == STAR:
            pieces.append([])
        else:
            pieces[-1].append(re.escape(token) if isinstance(token, str) else one)
    texts = ["".join(piece) for piece in pieces]
    if len(texts) == 1:
        return texts[0]
    first, *middle, last = texts
    return first + "".join(f"(?>{star}?{text})" for text in middle) + star + last


@lru_cache(maxsize=8192)
def _regex(tokens: tuple[Token, ...]) -> re.Pattern[str]:
    return re.compile(wildcard_regex(tokens), re.DOTALL)


def contains(general: Glob, specific: Glob) -> bool | None:
    """Whether every string of `specific` matches `general`, when cheap to decide; else None.

    Beyond literal and `prefix*` cases, `general` is matched against `specific`'s tokens with
    its wildcards as symbols: a `?` there may be absorbed by `?` or `*`, a `*` only by `*`.
    Such a match proves inclusion; its absence proves nothing (`?*` holds `*?`).
    """
    if general.tokens == (STAR,) or general == specific:
        return True
    if specific.is_literal:
        return general.matches(specific.text)
    tokens = general.tokens
    if tokens and tokens[-1] == STAR and all(isinstance(t, str) for t in tokens[:-1]):
        # `prefix*` holds exactly the strings starting with prefix; every string of `specific`
        # starts with its literal prefix and nothing longer is guaranteed.
        return specific.literal_prefix.startswith(general.literal_prefix)
    symbols = _as_symbols(specific)
    if symbols is not None and _symbolic_regex(tokens).fullmatch(symbols):
        return True
    return None


_STAR_SYMBOL = "\ue000"
_ONE_SYMBOL = "\ue001"


def _as_symbols(g: Glob) -> str | None:
    text = "".join(
        t if isinstance(t, str) else _STAR_SYMBOL if t == STAR else _ONE_SYMBOL for t in g.tokens
    )
    literal = (t for t in g.tokens if isinstance(t, str))
    return None if any(t in (_STAR_SYMBOL, _ONE_SYMBOL) for t in literal) else text


@lru_cache(maxsize=8192)
def _symbolic_regex(tokens: tuple[Token, ...]) -> re.Pattern[str]:
    return re.compile(wildcard_regex(tokens, one=f"[^{_STAR_SYMBOL}]"), re.DOTALL)


def disjoint(a: Glob, b: Glob) -> bool:
    """True when the two globs certainly share no string (literal prefixes or suffixes clash)."""
    pa, pb = a.literal_prefix, b.literal_prefix
    if not (pa.startswith(pb) or pb.startswith(pa)):
        return True
    sa, sb = _literal_suffix(a), _literal_suffix(b)
    return not (sa.endswith(sb) or sb.endswith(sa))


def _literal_suffix(g: Glob) -> str:
    out: list[str] = []
    for token in reversed(g.tokens):
        if not isinstance(token, str):
            break
        out.append(token)
    return "".join(reversed(out))


def is_subset(specific: Glob, general: Sequence[Glob]) -> bool:
    """Whether every string `specific` matches is matched by one of `general`."""
    return find_string([[specific]], general) is None


def find_string(
    includes: Sequence[Sequence[Glob]],
    excludes: Sequence[Glob] = (),
    prefer: Iterable[str] = (),
    budget: Budget | None = None,
) -> str | None:
    """A string matching some glob of every `includes` union and no glob of `excludes`, or None
    when there is none. Candidates in `prefer` are tried first, so a caller can ask for a
    realistic answer (an ARN of the right shape) rather than the shortest one. Past the
    `budget` (a fresh `Budget()` by default) AutomatonLimitError."""
    if not includes or any(not union for union in includes):
        return None if includes else _without_includes(excludes, prefer)
    for candidate in prefer:
        if _member(candidate, includes, excludes):
            return candidate
    if len(includes) == 1 and len(includes[0]) == 1:
        only = includes[0][0]
        excludes = [q for q in excludes if not disjoint(q, only)]
        if any(contains(q, only) for q in excludes):
            return None
        if only.is_literal:
            return None if any(q.matches(only.text) for q in excludes) else only.text
        if not excludes:
            return only.sample(_other_char((only,)))
    if not excludes and all(len(u) == 1 for u in includes):
        heads = [u[0] for u in includes]
        if any(disjoint(a, b) for i, a in enumerate(heads) for b in heads[i + 1 :]):
            return None
    return _Search(includes, excludes).run(budget or Budget())


def _without_includes(excludes: Sequence[Glob], prefer: Iterable[str]) -> str | None:
    return find_string([[glob("*")]], excludes, prefer)


def _member(value: str, includes: Sequence[Sequence[Glob]], excludes: Sequence[Glob]) -> bool:
    return all(any(g.matches(value) for g in union) for union in includes) and not any(
        g.matches(value) for g in excludes
    )


def _other_char(globs: Iterable[Glob]) -> str:
    used = {t for g in globs for t in g.tokens if isinstance(t, str)}
    return next((c for c in _OTHER_CHOICES if c not in used), "\x00")


def advance(tokens: Sequence[Token | None], state: Iterable[int], char: str) -> list[int]:
    """The positions reached from `state` on `char`, before epsilon closure: `*` stays, `?`
    and the same character step forward, the end marker (None) goes nowhere."""
    moved: list[int] = []
    for p in state:
        token = tokens[p]
        if token is None:
            continue
        if token == STAR:
            moved.append(p)
        elif token in (ONE, char):
            moved.append(p + 1)
    return moved


class _Search:
    """Breadth-first search over the product of the globs' subset automata.

    Positions of all globs live in one numbering; a state is the frozenset of live positions.
    Include union `k` owns a group of positions; the state accepts when each group holds a final
    position and the exclude group holds none.
    """

    def __init__(self, includes: Sequence[Sequence[Glob]], excludes: Sequence[Glob]) -> None:
        self.tokens: list[Token | None] = []  # None marks a final position
        self.group: list[int] = []
        self.closure: list[tuple[int, ...]] = []
        self.dead_end: list[bool] = []  # exclude position whose rest is all `*`
        self.starts: list[int] = []
        groups = [*includes, excludes]
        self.exclude_group = len(groups) - 1
        for number, union in enumerate(groups):
            for g in union:
                self._add(g, number)
        self.include_groups = len(includes)
        self.other = _other_char(g for union in groups for g in union)

    def _add(self, g: Glob, number: int) -> None:
        base = len(self.tokens)
        self.starts.append(base)
        n = len(g.tokens)
        self.tokens.extend(g.tokens)
        self.tokens.append(None)
        self.group.extend([number] * (n + 1))
        for i in range(n + 1):
            j = i
            while j < n and g.tokens[j] == STAR:
                j += 1
            self.closure.append(tuple(range(base + i, base + j + 1)))
            # matches every continuation: only `*` left, and at least one of them
            everything = j == n and i < n
            self.dead_end.append(number == self.exclude_group and everything)

    def _close(self, positions: Iterable[int]) -> frozenset[int]:
        return frozenset(p for q in positions for p in self.closure[q])

    def _alive(self, state: frozenset[int]) -> bool:
        if any(self.dead_end[p] for p in state):
            return False
        present = {self.group[p] for p in state}
        return all(k in present for k in range(self.include_groups))

    def _accepts(self, state: frozenset[int]) -> bool:
        finals = {self.group[p] for p in state if self.tokens[p] is None}
        return self.exclude_group not in finals and all(
            k in finals for k in range(self.include_groups)
        )

    def _step(self, state: frozenset[int], char: str) -> frozenset[int]:
        return self._close(advance(self.tokens, state, char))

    def run(self, budget: Budget) -> str | None:
        start = self._close(self.starts)
        if not self._alive(start):
            return None
        parent: dict[frozenset[int], tuple[frozenset[int], str] | None] = {start: None}
        queue = deque([start])
        while queue:
            state = queue.popleft()
            if self._accepts(state):
                return trace_path(parent, state)
            chars = {t for p in state if isinstance(t := self.tokens[p], str)}
            budget.spend(len(state) * (len(chars) + 1))
            for char in [self.other, *sorted(chars)]:
                following = self._step(state, char)
                if following in parent or not self._alive(following):
                    continue
                parent[following] = (state, char)
                queue.append(following)
        return None


def trace_path(
    parent: dict[frozenset[int], tuple[frozenset[int], str] | None], state: frozenset[int]
) -> str:
    """The string that leads from the search's start to `state`."""
    chars: list[str] = []
    step = parent[state]
    while step is not None:
        previous, char = step
        chars.append(char)
        step = parent[previous]
    return "".join(reversed(chars))
