"""Rank an account's principals by excess: what they are granted and never used.

Usage is matched to the snapshot's roles and users by ARN (with or without the IAM path, as
`AccountSnapshot.principal` accepts). A grant counts as used when its action was called and
allowed at least once in the window, on whatever resource: CloudTrail names resources too
unevenly to tell resource types apart reliably, so the score never calls a grant unused that
might have been used. Denied calls are never use.

The window is the one asked for; an open end is closed at the first or last call the usage holds,
so "unused in the window" and IAM's last-used date are compared over the span the logs cover.

The organization's SCP and RCP levels over the account (`org`) limit what counts as granted
(`alpha.scan.entitlement`): a grant they deny is not granted, so it is neither excess nor a
reason for a flag. Service-linked roles and the management account are exempt from them.

Ranking: score (weighted unused grants) highest first, then unused share, then ARN.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from operator import itemgetter

from alpha.account import (
    AccountSnapshot,
    AccountState,
    Principal,
    PrincipalNotFoundError,
    Role,
    Unresolved,
)
from alpha.catalog import AccessLevel, Catalog
from alpha.policy.diff import ActionTypePair
from alpha.policy.org_policies import OrgGuardrails
from alpha.scan.entitlement import NO_LEVELS, Entitlement, EntitlementCache, OrgLevels
from alpha.scan.flags import admin_equivalent, escalation_risk, unused_principal
from alpha.scan.model import (
    LevelExcess,
    PrincipalScore,
    ScanFinding,
    ScanReport,
)
from alpha.scan.weights import ACCESS_WEIGHTS
from alpha.usage.aggregate import UsageOutline, UsageQuery, UsageRow
from alpha.usage.authorisations import service_prefix, unmapped_call
from alpha.usage.ports import TimeWindow, UsageReader

__all__ = ["CallsSeen", "calls_seen", "scan", "scan_account", "scan_seen"]


@dataclass(slots=True)
class CallsSeen:
    """One principal's calls in the window, as the rows tell them: all a ranking needs of
    them (an organisation's scan keeps this per account, never the rows)."""

    allowed: set[str] = field(default_factory=set)
    denied: int = 0


@dataclass(frozen=True, slots=True)
class _Weights:
    """An entitlement's grants counted per action (catalog spelling) and per level, so that a
    principal's excess costs one lookup per action it used, not one per grant."""

    total: float
    by_action: Mapping[str, int]
    by_level: Mapping[AccessLevel, int]


def scan_account(
    state: AccountState,
    store: UsageReader,
    query: UsageQuery,
    catalog: Catalog,
    org: OrgGuardrails | None = None,
) -> ScanReport:
    """Scan the account behind `state` with the usage the query selects from `store`."""
    return scan(state.snapshot(), store.usage(query), catalog, query.window, org)


def scan(
    snapshot: AccountSnapshot,
    usage: Iterable[UsageRow],
    catalog: Catalog,
    window: TimeWindow | None = None,
    org: OrgGuardrails | None = None,
    *,
    outline: UsageOutline | None = None,
) -> ScanReport:
    """Every role and user of the snapshot, ranked, with the usage rows of the window, under
    the organization's levels `org` (none: not in an organization). With
    the usage's `outline`, the rows need only be the snapshot's principals', and are read once
    as they come (a part at a time): the time covered and the callers the snapshot lacks come
    from the outline."""
    if outline is not None:
        seen = calls_seen(snapshot, usage)
        return scan_seen(snapshot, seen, outline, catalog, window=window, org=org)
    rows = list(usage)
    calls, unknown = _calls_by_principal(snapshot, rows)
    covered = _covered(window or TimeWindow(), rows)
    return _ranked(snapshot, calls, unknown, covered, catalog, org=org)


def scan_seen(
    snapshot: AccountSnapshot,
    calls: Mapping[str, CallsSeen],
    outline: UsageOutline,
    catalog: Catalog,
    *,
    window: TimeWindow | None = None,
    org: OrgGuardrails | None = None,
) -> ScanReport:
    """`scan` from each principal's calls (`calls_seen`) and the usage's outline."""
    names = (n for n, _ in outline.principals)
    unknown = tuple(sorted(n for n in names if _snapshot_arn(snapshot, n) is None))
    covered = _outlined(window or TimeWindow(), outline)
    return _ranked(snapshot, calls, unknown, covered, catalog, org=org)


def calls_seen(snapshot: AccountSnapshot, rows: Iterable[UsageRow]) -> dict[str, CallsSeen]:
    """Each snapshot principal's calls, from rows read as they come."""
    return _calls_by_principal(snapshot, rows)[0]


def _ranked(
    snapshot: AccountSnapshot,
    calls: Mapping[str, CallsSeen],
    unknown: tuple[str, ...],
    covered: TimeWindow,
    catalog: Catalog,
    *,
    org: OrgGuardrails | None,
) -> ScanReport:
    cache = EntitlementCache(catalog)
    weights: dict[frozenset[ActionTypePair], _Weights] = {}
    org = org or OrgGuardrails()
    in_force = OrgLevels(org.scp_documents(), org.rcp_documents())
    scores = []
    for principal in snapshot.principals:
        effective = snapshot.effective_policies(principal.arn)
        exempt = org.in_force_for(principal.arn).empty
        entitlement = cache.entitlement(effective, NO_LEVELS if exempt else in_force)
        folded = weights.get(entitlement.grants)
        if folded is None:
            folded = weights[entitlement.grants] = _fold(entitlement, catalog)
        seen = calls.get(principal.arn, CallsSeen())
        flags = _flags(cache, entitlement, principal, seen, covered)
        scores.append(
            _score(
                catalog,
                principal,
                folded=folded,
                seen=seen,
                flags=flags,
                unresolved=effective.unresolved,
                org_blocked=entitlement.org_blocked,
            )
        )
    ranked = sorted(scores, key=lambda s: (-s.score, -s.unused_share, s.principal))
    return ScanReport(
        tuple(replace(score, rank=rank) for rank, score in enumerate(ranked, start=1)),
        covered,
        unknown,
    )


def _calls_by_principal(
    snapshot: AccountSnapshot, rows: Iterable[UsageRow]
) -> tuple[dict[str, CallsSeen], tuple[str, ...]]:
    arns: dict[str, str | None] = {}
    calls: dict[str, CallsSeen] = {}
    for row in rows:
        name = row.principal
        arn = arns[name] if name in arns else arns.setdefault(name, _snapshot_arn(snapshot, name))
        if arn is None:
            continue
        seen = calls.get(arn)
        if seen is None:
            seen = calls[arn] = CallsSeen()
        if row.count:
            seen.allowed.add(row.action)
        seen.denied += row.denied
    for seen in calls.values():
        # Catalog keys and CloudTrail names differ in case at times; compare lower-cased.
        seen.allowed = {action.lower() for action in seen.allowed}
    unknown = tuple(sorted(a for a, found in arns.items() if found is None))
    return calls, unknown


def _snapshot_arn(snapshot: AccountSnapshot, arn: str) -> str | None:
    try:
        return snapshot.principal(arn).arn
    except PrincipalNotFoundError:
        return None


def _covered(window: TimeWindow, rows: list[UsageRow]) -> TimeWindow:
    if not rows or (window.since is not None and window.until is not None):
        return window
    since = window.since or min(r.first_seen for r in rows)
    until = window.until or max(r.last_seen for r in rows) + timedelta(seconds=1)
    return TimeWindow(since, until)


def _outlined(window: TimeWindow, outline: UsageOutline) -> TimeWindow:
    """`_covered`, from the outline of the rows."""
    if outline.first_seen is None or outline.last_seen is None:
        return window
    since = window.since or outline.first_seen
    until = window.until or outline.last_seen + timedelta(seconds=1)
    return TimeWindow(since, until)


def _fold(entitlement: Entitlement, catalog: Catalog) -> _Weights:
    # Counted in C: an admin-equivalent principal holds tens of thousands of grants.
    keys = list(map(itemgetter(0), entitlement.grants))
    by_level = dict.fromkeys(AccessLevel, 0)
    by_level.update(Counter(map(_levels(catalog).__getitem__, keys)))
    total = sum(ACCESS_WEIGHTS[level] * count for level, count in by_level.items())
    return _Weights(total, Counter(keys), by_level)


@functools.cache
def _levels(catalog: Catalog) -> dict[str, AccessLevel]:
    """Access level by catalog key as the catalog spells it (grants use that spelling)."""
    return {action.key: action.access_level for action in catalog.actions()}


def _flags(
    cache: EntitlementCache,
    entitlement: Entitlement,
    principal: Principal,
    seen: CallsSeen,
    window: TimeWindow,
) -> tuple[ScanFinding, ...]:
    flags: list[ScanFinding] = []
    admin = admin_equivalent(entitlement.reach, cache.catalog_size, cache.iam_admin)
    if admin is not None:
        flags.append(admin)
    escalation = escalation_risk(entitlement.reach)
    if escalation is not None:
        flags.append(escalation)
    if not seen.allowed:
        is_role = isinstance(principal, Role)
        last = principal.last_used if isinstance(principal, Role) else None
        date = None if last is None else last.date
        flags.append(unused_principal(date, seen.denied, window, is_role=is_role))
    return tuple(flags)


def _used_actions(catalog: Catalog, allowed: set[str], folded: _Weights) -> set[str]:
    """The granted actions the calls may have used: each mapped call's own, and for a call
    ALPHA cannot map (`alpha.usage.authorisations`) every grant of its service, so no grant
    it may have used is called unused."""
    used = set(allowed)
    for name in allowed:
        call = unmapped_call(name)
        prefix = service_prefix(catalog, call[0]) if call is not None else None
        if prefix is not None:
            used.update(k for k in folded.by_action if k.lower().startswith(f"{prefix}:"))
    return used


def _score(
    catalog: Catalog,
    principal: Principal,
    *,
    folded: _Weights,
    seen: CallsSeen,
    flags: tuple[ScanFinding, ...],
    unresolved: tuple[Unresolved, ...],
    org_blocked: int = 0,
) -> PrincipalScore:
    used_by_level = dict.fromkeys(AccessLevel, 0)
    for key in _used_actions(catalog, seen.allowed, folded):
        action = catalog.action(key)
        if action is not None:
            used_by_level[action.access_level] += folded.by_action.get(action.key, 0)
    levels = tuple(
        LevelExcess(level, folded.by_level[level], folded.by_level[level] - used_by_level[level])
        for level in AccessLevel
    )
    score = sum(ACCESS_WEIGHTS[lv.access_level] * lv.unused for lv in levels)
    granted = sum(folded.by_level.values())
    return PrincipalScore(
        rank=0,
        principal=principal.arn,
        kind="role" if isinstance(principal, Role) else "user",
        granted=granted,
        used=len(seen.allowed),
        unused_grants=sum(lv.unused for lv in levels),
        score=score,
        unused_share=score / folded.total if folded.total else 0.0,
        by_access_level=levels,
        flags=flags,
        boundary=principal.boundary_arn,
        unresolved=tuple(u.describe() for u in unresolved),
        blocked_by_org=org_blocked,
    )
