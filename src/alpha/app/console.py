"""What the web console shows beyond the JSON views (`alpha.app.views`): the action-level diff
grouped by service and access level, what the viewer may do with a proposal and why not, and
the status overview (the seed's metrics, privilege removed over time, each rollout's
IAMErrorRate against its threshold during the bakes). Values only; interfaces draw them."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from alpha.rollout.approvals import approval_wait
from alpha.rollout.metrics import Metrics, ProposalFacts, generation_failures, metrics_of
from alpha.rollout.runs import latest_run
from alpha.rollout.settings import StageSettings
from alpha.store.model import JsonDict, ProposalState, Stage, StageRecord
from alpha.store.ports import Store
from alpha.store.summaries import ProposalSummary, SummaryQuery, page_summaries

if TYPE_CHECKING:
    from alpha.catalog import Catalog

__all__ = [
    "UNKNOWN_LEVEL",
    "ErrorCheck",
    "LevelChange",
    "Overview",
    "PrivilegePoint",
    "RolloutWatch",
    "ServiceChange",
    "StageChecks",
    "action_changes",
    "overview",
]

ROLLOUTS_SHOWN = 12
"""The latest rollouts the overview draws."""
_WATCHED = (Stage.CANARY, Stage.PRODUCTION)
UNKNOWN_LEVEL = "Unknown"


@dataclass(frozen=True, slots=True)
class LevelChange:
    level: str
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceChange:
    service: str
    name: str
    levels: tuple[LevelChange, ...]

    def count(self, which: str) -> int:
        return sum(len(getattr(level, which)) for level in self.levels)

    def level(self, name: str) -> LevelChange | None:
        return next((level for level in self.levels if level.level == name), None)

    @property
    def granted(self) -> tuple[str, ...]:
        """What the proposal lets the principal do in this service: kept, then added."""
        return tuple(
            a for kind in ("kept", "added") for lv in self.levels for a in getattr(lv, kind)
        )


def action_changes(document: JsonDict, catalog: Catalog) -> tuple[ServiceChange, ...]:
    """The proposal's removed, added and kept actions by service, then access level (from the
    catalog; an action it does not know is `Unknown`)."""
    found = document.get("diff")
    diff: JsonDict = found if isinstance(found, dict) else {}
    groups: dict[str, dict[str, dict[str, set[str]]]] = {}
    kinds = {
        "removed": _strings(diff.get("removed_actions")),
        "added": _strings(diff.get("added_actions")),
        "kept": _kept_actions(document.get("proposed_policy"), catalog),
    }
    levels: dict[str, dict[str, str]] = {}  # service -> action name (lower case) -> level
    for kind, actions in kinds.items():
        for action in actions:
            service, _, name = action.lower().partition(":")
            if service not in levels:
                levels[service] = _levels_of(service, catalog)
            level = levels[service].get(name, UNKNOWN_LEVEL)
            groups.setdefault(service, {}).setdefault(level, {}).setdefault(kind, set()).add(action)
    return tuple(
        ServiceChange(
            service,
            catalog.service_name(service) or service,
            tuple(
                LevelChange(level, *(tuple(sorted(kinds.get(k, ()))) for k in _KINDS))
                for level, kinds in sorted(by_level.items())
            ),
        )
        for service, by_level in sorted(groups.items(), key=_granted_first)
    )


_KINDS = ("removed", "added", "kept")


def _granted_first(item: tuple[str, dict[str, dict[str, set[str]]]]) -> tuple[bool, str]:
    """Services the proposal grants something of first: what it keeps is what to review."""
    service, by_level = item
    granted = any(kinds.get("kept") or kinds.get("added") for kinds in by_level.values())
    return not granted, service


@functools.lru_cache(maxsize=1024)
def _levels_of(service: str, catalog: Catalog) -> dict[str, str]:
    """Each of the service's actions, by lower-case name, with its access level (one walk
    of the service's actions: a proposal may remove thousands)."""
    if not service or not catalog.has_service(service):
        return {}
    return {a.name.lower(): a.access_level.value for a in catalog.actions(service)}


def _kept_actions(policy: object, catalog: Catalog) -> list[str]:
    """The actions the proposed policy allows, each pattern expanded through the catalog."""
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    kept: set[str] = set()
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        for pattern in _strings(statement.get("Action")):
            expanded = catalog.expand(pattern)
            kept.update(a.key for a in expanded) if expanded else kept.add(pattern)
    return sorted(kept)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# The status overview ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrivilegePoint:
    """Grants removed up to `at`: by proposals made, and by rollouts that reached production."""

    at: datetime
    proposed: int
    applied: int


@dataclass(frozen=True, slots=True)
class ErrorCheck:
    at: datetime
    calls: int
    denied: int
    error_rate: float


@dataclass(frozen=True, slots=True)
class StageChecks:
    stage: Stage
    state: str
    bake_since: datetime | None
    bake_until: datetime | None
    checks: tuple[ErrorCheck, ...]


@dataclass(frozen=True, slots=True)
class RolloutWatch:
    """One rollout's IAMErrorRate checks during its canary and production bakes, and the
    thresholds it was held to (those it started with)."""

    proposal_id: str
    principal: str
    state: ProposalState
    max_new_denials: int | None
    max_error_rate: float | None
    stages: tuple[StageChecks, ...]


@dataclass(frozen=True, slots=True)
class Overview:
    metrics: Metrics
    removed_over_time: tuple[PrivilegePoint, ...]
    rollouts: tuple[RolloutWatch, ...]


def overview(store: Store, defaults: StageSettings) -> Overview:
    """Read through summaries: only proposals past `proposed` have approvals or stages read."""
    summaries = page_summaries(store, SummaryQuery(limit=None)).items
    stages = {s.id: store.stages(s.id) for s in summaries if s.state is not ProposalState.PROPOSED}
    facts = [_facts(store, s, stages.get(s.id, [])) for s in summaries]
    return Overview(
        metrics_of(facts, generation_failures(store)),
        _removed_over_time(summaries, stages),
        _rollouts(store, summaries, stages, defaults),
    )


def _facts(store: Store, summary: ProposalSummary, stages: list[StageRecord]) -> ProposalFacts:
    wait = None
    if summary.state is not ProposalState.PROPOSED:
        wait = approval_wait(summary.id, summary.created_at, store.approvals(summary.id))
    return ProposalFacts(summary.state, summary.privilege_reduction, wait, tuple(stages))


def _removed_over_time(
    summaries: Sequence[ProposalSummary], stages: dict[str, list[StageRecord]]
) -> tuple[PrivilegePoint, ...]:
    moments: list[tuple[datetime, int, int]] = []
    for summary in summaries:
        removed = summary.grants_removed or 0
        moments.append((summary.created_at, removed, 0))
        done = _production_done(summary, stages.get(summary.id, []))
        if done is not None:
            moments.append((done, 0, removed))
    points: list[PrivilegePoint] = []
    proposed = applied = 0
    for at, more_proposed, more_applied in sorted(moments, key=lambda m: m[0]):
        proposed, applied = proposed + more_proposed, applied + more_applied
        points.append(PrivilegePoint(at, proposed, applied))
    return tuple(points)


def _production_done(summary: ProposalSummary, records: Iterable[StageRecord]) -> datetime | None:
    if summary.state is not ProposalState.SUCCEEDED:
        return None
    return next((r.updated_at for r in records if r.stage is Stage.PRODUCTION), None)


def _rollouts(
    store: Store,
    summaries: Sequence[ProposalSummary],
    stages: dict[str, list[StageRecord]],
    defaults: StageSettings,
) -> tuple[RolloutWatch, ...]:
    watched = [s for s in summaries if any(r.stage in _WATCHED for r in stages.get(s.id, []))]
    watched.sort(key=lambda s: max(r.started_at for r in stages[s.id]), reverse=True)
    found: list[RolloutWatch] = []
    for summary in watched[:ROLLOUTS_SHOWN]:
        kept = latest_run(store, summary.id, summary.principal, defaults).stages
        found.append(
            RolloutWatch(
                summary.id,
                summary.principal,
                summary.state,
                kept.max_new_denials,
                kept.max_error_rate,
                tuple(_stage_checks(r, kept) for r in stages[summary.id] if r.stage in _WATCHED),
            )
        )
    return tuple(found)


def _stage_checks(record: StageRecord, kept: StageSettings) -> StageChecks:
    metrics = record.metrics
    checks = metrics.get("checks")
    if not isinstance(checks, list):  # a stage judged before checks were kept: its last one
        last = metrics.get("last")
        checks = [{"at": record.updated_at.isoformat(), **last}] if isinstance(last, dict) else []
    since = _time(metrics.get("bake_since"))
    return StageChecks(
        record.stage,
        record.state.value,
        since,
        None if since is None else since + kept.bake_of(record.stage.value),
        tuple(c for c in map(_check, checks) if c is not None),
    )


def _check(raw: Any) -> ErrorCheck | None:
    if not isinstance(raw, dict) or "error_rate" not in raw:
        return None  # a sandbox-style check (replayed calls), or damaged
    at = _time(raw.get("at"))
    if at is None:
        return None
    return ErrorCheck(
        at, int(raw.get("calls") or 0), int(raw.get("denied") or 0), float(raw["error_rate"])
    )


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
