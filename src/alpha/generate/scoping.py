"""Resource scoping: few ARNs stay exact; many become the tightest readable prefix patterns.

ARNs are grouped by container: the ARN up to the first `/` or `:` of its resource part (the
bucket for S3 objects, `table/` for DynamoDB, `function:` for Lambda) or, for names without
one, up to the fifth `:` (the account and region). A pattern never reaches above its container:
objects under `data-lake/raw/2026/...` become at best `arn:aws:s3:::data-lake/raw/*`, never
`arn:aws:s3:::*`.

In a group with more than `max_exact` members, the deepest cut (in `/`/`:` segments below the
container) that gives at most `max_patterns` distinct prefixes is chosen, each prefix then
tightened to its members' longest common prefix ending at `/ : - _ .`. A pattern the existing
grants do not cover (`covered` is False) falls back to its members, listed exactly: they were
allowed today, so they are covered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_SEGMENT = re.compile(r"[^/:]*[/:]|[^/:]+$")
_CUT = "/:-_."


def container(arn: str) -> str:
    """The part of `arn` no pattern may generalise: up to the first `/` or `:` after the
    fifth `:` (inclusive), or the first five fields."""
    fields = arn.split(":", 5)
    if len(fields) < 6:
        return arn
    head = ":".join(fields[:5]) + ":"
    rest = fields[5]
    cut = min((i for i in (rest.find("/"), rest.find(":")) if i >= 0), default=-1)
    return head if cut < 0 else head + rest[: cut + 1]


def scope_resources(
    resources: Iterable[str],
    *,
    max_exact: int,
    max_patterns: int,
    covered: Callable[[str], bool],
) -> tuple[str, ...]:
    """Patterns covering every resource, each `covered` (see the module docstring)."""
    unique = sorted(set(resources))
    if len(unique) <= max_exact or "*" in unique:
        return tuple(unique)
    groups: dict[str, list[str]] = {}
    for arn in unique:
        groups.setdefault(container(arn), []).append(arn)
    out: list[str] = []
    for floor, members in groups.items():
        if len(members) <= max_exact:
            out.extend(members)
            continue
        for pattern, covering in _generalise(floor, members, max_patterns):
            if pattern in covering or covered(pattern):
                out.append(pattern)
            else:
                out.extend(covering)
    return tuple(sorted(set(out)))


def _segments(text: str) -> list[str]:
    return _SEGMENT.findall(text)


def _generalise(floor: str, members: list[str], limit: int) -> list[tuple[str, list[str]]]:
    """(pattern, members it covers) for one container group."""
    split = {m: _segments(m[len(floor) :]) for m in members}
    deepest = max(len(s) for s in split.values())
    chosen: dict[str, list[str]] = {"": members}
    for depth in range(deepest, 0, -1):
        keyed: dict[str, list[str]] = {}
        for member, parts in split.items():
            key = "".join(parts[:depth]) + ("" if len(parts) <= depth else "\0")
            keyed.setdefault(key, []).append(member)
        if len(keyed) <= limit:
            chosen = keyed
            break
    out: list[tuple[str, list[str]]] = []
    for key, group in chosen.items():
        if len(group) == 1 and not key.endswith("\0") and key:
            out.append((group[0], group))
        else:
            out.append((floor + _common_prefix([m[len(floor) :] for m in group]) + "*", group))
    return out


def common_pattern(resources: list[str]) -> str:
    """The tightest readable pattern matching every resource: their common prefix cut back to
    a separator, then `*` (the resource itself when all are one; `*` when nothing is shared)."""
    prefix = _common_prefix(resources)
    return prefix if prefix in resources and len(set(resources)) == 1 else prefix + "*"


def _common_prefix(texts: list[str]) -> str:
    """Longest common prefix of `texts`, cut back to end at a separator (or empty)."""
    first, last = min(texts), max(texts)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    if prefix == first == last:
        return prefix
    cut = max(prefix.rfind(c) for c in _CUT)
    return prefix[: cut + 1] if cut >= 0 else ""
