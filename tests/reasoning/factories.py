"""Small builders for evidence in reasoning tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alpha.catalog import AccessLevel
from alpha.reasoning.evidence import (
    ActionObservation,
    DiffView,
    Evidence,
    GuardrailSummary,
    InferredPermission,
    LevelGrants,
    RemovedAction,
    ReplayCoverage,
)

START = datetime(2026, 10, 1, tzinfo=UTC)


def obs(
    action: str, calls: int, *, days: int = 1, span: float = 0.0, denied: int = 0
) -> ActionObservation:
    """An action with `calls` calls on `days` distinct days spread over `span` days."""
    first = START + timedelta(hours=1)
    return ActionObservation(action, calls, denied, first, first + timedelta(days=span), days, 1)


def diff(
    removed: Iterable[tuple[str, AccessLevel | None]] = (),
    grants: dict[AccessLevel, tuple[int, int]] | None = None,
) -> DiffView:
    levels = tuple(LevelGrants(level, *(grants or {}).get(level, (0, 0))) for level in AccessLevel)
    return DiffView(
        (),
        tuple(RemovedAction(a, lv) for a, lv in removed),
        sum(g.existing for g in levels),
        sum(g.removed for g in levels),
        levels,
    )


def evidence(
    actions: Iterable[ActionObservation] = (),
    *,
    window_days: float = 30,
    data_events: bool = True,
    removed: DiffView | None = None,
    replay: tuple[int, int] | None = None,
    inferred: Iterable[InferredPermission] = (),
    guardrails: Iterable[GuardrailSummary] = (),
) -> Evidence:
    acts = tuple(actions)
    calls = sum(a.calls for a in acts)
    return Evidence(
        principal="arn:aws:iam::123456789012:role/app",
        window_start=START,
        window_end=START + timedelta(days=window_days),
        actions=acts,
        sessions=3,
        data_events_logged=data_events,
        diff=removed if removed is not None else diff(),
        replay=ReplayCoverage(*(replay or (calls, calls))),
        inferred=tuple(inferred),
        guardrails=tuple(guardrails),
    )


def with_window(base: Evidence, window_days: float) -> Evidence:
    return replace(base, window_end=base.window_start + timedelta(days=window_days))


def steady(n: int, calls: int = 1000) -> list[ActionObservation]:
    """`n` actions used every day of a 30-day window."""
    return [obs(f"svc{i}:Act", calls, days=30, span=29.5) for i in range(n)]
