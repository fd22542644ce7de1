"""What a reasoner sees: plain values about one principal's usage and its proposal.

`Evidence` is decoupled from the engine and the store on purpose: a reasoner (local or a model
behind an API) reads numbers and names, never a `Policy` or a database row. `build_evidence`
makes it from the objects the generator holds (report rows, a `PolicyDiff`, the catalog,
inferred permissions, guardrail violations, the replay counts).

Counting: `calls` are the calls IAM allowed, `denied` the calls it refused (as in the usage
report). `days_seen` is the number of distinct UTC days with a call; report rows only carry first
and last seen, so without exact counts (`days_seen_from_hourly`) it is a lower bound, which can
only make an action look rarer, and so the risk higher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from alpha.catalog import AccessLevel, Catalog
from alpha.policy.diff import PolicyDiff
from alpha.usage.aggregate import HourlyUsage, UsageRow
from alpha.usage.people import PeopleAtRisk

SECONDS_PER_DAY = 86400
HOURS_PER_DAY = 24
SAMPLES = 3


@dataclass(frozen=True, slots=True)
class ActionObservation:
    """One action's use in the window, over all its resources."""

    action: str
    calls: int
    denied: int
    first_seen: datetime
    last_seen: datetime
    days_seen: int
    resources: int
    # a few of the resources called most (CloudTrail-derived: attacker-controlled text)
    resource_samples: tuple[str, ...] = ()

    @property
    def span_days(self) -> float:
        return (self.last_seen - self.first_seen).total_seconds() / SECONDS_PER_DAY

    @property
    def mean_interval_days(self) -> float | None:
        """Mean time between calls, (last - first) / (calls - 1); None for a single call."""
        return self.span_days / (self.calls - 1) if self.calls > 1 else None

    @property
    def recurrence_days(self) -> float | None:
        """Mean gap between days of activity, (last - first) / (days seen - 1): the period of
        a job that runs in bursts. None when seen on a single day (period unknown)."""
        return self.span_days / (self.days_seen - 1) if self.days_seen > 1 else None


@dataclass(frozen=True, slots=True)
class RemovedAction:
    action: str
    access_level: AccessLevel | None  # None: the catalog does not know the action


@dataclass(frozen=True, slots=True)
class LevelGrants:
    access_level: AccessLevel
    existing: int
    removed: int


@dataclass(frozen=True, slots=True)
class DiffView:
    """The parts of a `PolicyDiff` a reasoner needs."""

    added_actions: tuple[str, ...]
    removed_actions: tuple[RemovedAction, ...]
    existing_grants: int
    removed_grants: int
    by_access_level: tuple[LevelGrants, ...]

    def removed_at(self, level: AccessLevel) -> int:
        return sum(g.removed for g in self.by_access_level if g.access_level is level)

    @property
    def reduction(self) -> float:
        return self.removed_grants / self.existing_grants if self.existing_grants else 0.0


@dataclass(frozen=True, slots=True)
class InferredPermission:
    """A permission CloudTrail cannot show, added with the reason."""

    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class GuardrailSummary:
    code: str
    message: str
    blocking: bool


@dataclass(frozen=True, slots=True)
class ReplayCoverage:
    """Observed successful calls, and how many of them the proposal allows."""

    observed: int
    allowed: int

    @property
    def missed(self) -> int:
        return max(self.observed - self.allowed, 0)

    @property
    def ratio(self) -> float:
        return self.allowed / self.observed if self.observed else 1.0


@dataclass(frozen=True, slots=True)
class Evidence:
    principal: str
    window_start: datetime
    window_end: datetime
    actions: tuple[ActionObservation, ...]
    sessions: int
    data_events_logged: bool
    diff: DiffView
    replay: ReplayCoverage
    inferred: tuple[InferredPermission, ...] = ()
    guardrails: tuple[GuardrailSummary, ...] = ()
    days_exact: bool = True
    # a few session names (CloudTrail-derived: attacker-controlled text)
    session_samples: tuple[str, ...] = ()
    # removed actions the organization's SCPs/RCPs deny anyway: (action, why), by action
    org_blocked: tuple[tuple[str, str], ...] = ()
    # the people behind a shared role whose work narrowing it might break
    people_at_risk: PeopleAtRisk | None = None

    @property
    def window_days(self) -> float:
        return max((self.window_end - self.window_start).total_seconds(), 0) / SECONDS_PER_DAY

    @property
    def total_calls(self) -> int:
        return sum(a.calls for a in self.actions)

    @property
    def denied_calls(self) -> int:
        return sum(a.denied for a in self.actions)

    @property
    def used_actions(self) -> tuple[ActionObservation, ...]:
        """Actions with at least one allowed call (denied-only actions were not used)."""
        return tuple(a for a in self.actions if a.calls > 0)


class _Inferred(Protocol):
    @property
    def action(self) -> str: ...
    @property
    def reason(self) -> str: ...


class _Violation(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def blocks(self) -> bool: ...


def build_evidence(
    *,
    principal: str,
    window: tuple[datetime, datetime],
    rows: Iterable[UsageRow],
    diff: PolicyDiff,
    catalog: Catalog,
    data_events_logged: bool,
    replay: tuple[int, int],
    inferred: Iterable[_Inferred] = (),
    violations: Iterable[_Violation] = (),
    days_seen: Mapping[str, int] | None = None,
    org_blocked: Mapping[str, str] | None = None,
    people: PeopleAtRisk | None = None,
) -> Evidence:
    """Evidence for `principal` from its report rows (rows of other principals are ignored).

    `replay` is (observed, allowed); `days_seen` maps action -> exact distinct days (see
    `days_seen_from_hourly`); without it the days are a lower bound from first/last seen.
    `org_blocked` maps removed actions the organization denies anyway to why."""
    mine = [r for r in rows if r.principal == principal]
    names = sorted({s for r in mine for s in r.sessions})
    return Evidence(
        principal=principal,
        window_start=window[0],
        window_end=window[1],
        actions=observe_actions(mine, days_seen),
        sessions=len(names),
        data_events_logged=data_events_logged,
        diff=view_diff(diff, catalog),
        replay=ReplayCoverage(*replay),
        inferred=tuple(
            sorted({InferredPermission(i.action, i.reason) for i in inferred}, key=_by_action)
        ),
        guardrails=tuple(GuardrailSummary(v.code, v.message, v.blocks) for v in violations),
        days_exact=days_seen is not None,
        session_samples=tuple(names[:SAMPLES]),
        org_blocked=tuple(sorted((org_blocked or {}).items(), key=lambda i: i[0].lower())),
        people_at_risk=people,
    )


def _by_action(item: InferredPermission) -> tuple[str, str]:
    return item.action.lower(), item.reason


def observe_actions(
    rows: Iterable[UsageRow], days_seen: Mapping[str, int] | None = None
) -> tuple[ActionObservation, ...]:
    """Fold report rows into one observation per action, sorted by action."""
    grouped: dict[str, list[UsageRow]] = {}
    for row in rows:
        grouped.setdefault(row.action, []).append(row)
    return tuple(
        _observe(action, grouped[action], days_seen)
        for action in sorted(grouped, key=lambda a: (a.lower(), a))
    )


def _observe(
    action: str, rows: list[UsageRow], days_seen: Mapping[str, int] | None
) -> ActionObservation:
    first = min(r.first_seen for r in rows)
    last = max(r.last_seen for r in rows)
    if days_seen is not None and action in days_seen:
        days = days_seen[action]
    else:
        days = len({d for r in rows for d in (_day(r.first_seen), _day(r.last_seen))})
    return ActionObservation(
        action=action,
        calls=sum(r.count for r in rows),
        denied=sum(r.denied for r in rows),
        first_seen=first,
        last_seen=last,
        days_seen=days,
        resources=len({r.resource for r in rows}),
        resource_samples=_most_called(rows),
    )


def _most_called(rows: list[UsageRow]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.resource] = counts.get(row.resource, 0) + row.count
    ranked = sorted(counts, key=lambda resource: (-counts[resource], resource))
    return tuple(ranked[:SAMPLES])


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def days_seen_from_hourly(hourly: Iterable[HourlyUsage], principal: str) -> dict[str, int]:
    """Exact distinct UTC days with an allowed call, per action, for one principal."""
    days: dict[str, set[int]] = {}
    for row in hourly:
        if row.principal == principal and row.used:
            days.setdefault(row.action, set()).add(row.hour // HOURS_PER_DAY)
    return {action: len(found) for action, found in days.items()}


def view_diff(diff: PolicyDiff, catalog: Catalog) -> DiffView:
    removed = tuple(_removed(a, catalog) for a in diff.removed_actions)
    levels = tuple(
        LevelGrants(lv.access_level, lv.existing_grants, lv.removed_grants)
        for lv in diff.by_access_level
    )
    return DiffView(diff.added_actions, removed, diff.existing_grants, diff.removed_grants, levels)


@lru_cache(maxsize=65_536)
def _removed(action_key: str, catalog: Catalog) -> RemovedAction:
    # Cached: an account's proposals remove the same thousands of actions again and again.
    action = catalog.action(action_key)
    return RemovedAction(action_key, action.access_level if action is not None else None)


def window_of(start: datetime, days: float) -> tuple[datetime, datetime]:
    """A convenience for callers and tests: the window of `days` days from `start`."""
    return start, start + timedelta(days=days)
