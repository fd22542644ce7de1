"""Which patterns in one list are redundant: repeated, or covered by another pattern.

A list of patterns (Action, NotAction, Resource, NotResource) matches the union of its
patterns, for the negated elements too, so dropping a pattern that another one in the same list
covers never changes what the list matches. `covers` answers only when it can be sure
(a sufficient test, not a complete one): a wrong "covers" would change a policy's meaning,
a missed one only leaves a redundant pattern in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from alpha.policy.globlang import glob

_WILDCARDS = ("*", "?", "${")


def _literal_prefix(pattern: str) -> str:
    """The text before the first wildcard or policy variable: every match starts with it,
    whatever a variable is substituted with."""
    cut = min((i for i in (pattern.find(w) for w in _WILDCARDS) if i >= 0), default=len(pattern))
    return pattern[:cut]


def covers(general: str, specific: str, *, ignore_case: bool) -> bool:
    """True only if every string `specific` matches, `general` matches too."""
    if ignore_case:
        general, specific = general.lower(), specific.lower()
    if general in ("*", specific):
        return True
    if "${" in general:  # substituted per request (or literal before 2012-10-17): unknown
        return False
    if "*" not in general and "?" not in general:  # a literal covers only itself
        return False
    if _literal_prefix(specific) == specific:
        return glob(general).matches(specific)
    body = general[:-1]
    if general.endswith("*") and _literal_prefix(body) == body:
        return _literal_prefix(specific).startswith(body)
    return False


def redundant(patterns: Sequence[str], *, ignore_case: bool) -> dict[int, int]:
    """Index of each pattern that can be dropped -> index of a kept pattern that covers it.

    Of two equivalent patterns the first is kept; a strictly covered pattern is dropped.
    """
    dropped: dict[int, int] = {}
    for j, specific in enumerate(patterns):
        for k, general in enumerate(patterns):
            if k == j or not covers(general, specific, ignore_case=ignore_case):
                continue
            mutual = covers(specific, general, ignore_case=ignore_case)
            if not mutual or k < j:
                dropped[j] = k
                break
    return {j: _kept(k, dropped) for j, k in dropped.items()}


def _kept(index: int, dropped: dict[int, int]) -> int:
    """Follow the chain to a pattern that stays: covering is transitive, and equivalent
    patterns always point to an earlier one, so the chain ends."""
    seen = {index}
    while index in dropped:
        index = dropped[index]
        if index in seen:  # cannot happen (see above); guard against a silent loop
            raise AssertionError("cycle in pattern coverage")
        seen.add(index)
    return index
