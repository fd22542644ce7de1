"""The flags a principal can earn: admin-equivalent, able to escalate, unused in the window.

Admin-equivalent, by what the principal's policies grant together (after its boundary):
- every action in the catalog on `*`: `Action: *` (AWS's AdministratorAccess), or an Allow with
  NotAction on `*` that leaves nothing out once other statements fill the gaps;
- every IAM permissions-management action on `*` (`iam:*`, IAMFullAccess, or a NotAction Allow
  that does not exclude IAM): whoever holds that can attach AdministratorAccess to itself.

Escalation: the methods of `alpha.guardrails.escalation`, each requirement met with its scope
(some grant anywhere, on a wildcard pattern, or on `*`) by any of the principal's policies. A
method is left out when a simpler one it contains is held, as the guardrail does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from alpha.guardrails.escalation import ESCALATION_METHODS, EscalationMethod
from alpha.scan.entitlement import Reach
from alpha.scan.model import (
    AdminEquivalent,
    EscalationMethodHeld,
    EscalationRisk,
    UnusedPrincipal,
)
from alpha.usage.ports import TimeWindow

ALL_ACTIONS = "every action on every resource (*)"
IAM_ADMIN = "all of IAM's permissions management on every resource: can grant itself anything"


def admin_equivalent(
    reach: Reach, catalog_size: int, iam_admin: frozenset[str]
) -> AdminEquivalent | None:
    if len(reach.everywhere) >= catalog_size:
        return AdminEquivalent(ALL_ACTIONS, reach.wide)
    if iam_admin and iam_admin <= reach.everywhere:
        return AdminEquivalent(IAM_ADMIN, reach.iam_wide)
    return None


def escalation_risk(reach: Reach) -> EscalationRisk | None:
    held = [m for m in ESCALATION_METHODS if _holds(m, reach)]
    methods = tuple(
        EscalationMethodHeld(m.name, m.how, _first_place(m, reach)) for m in _simplest(held)
    )
    return EscalationRisk(methods) if methods else None


def _holds(method: EscalationMethod, reach: Reach) -> bool:
    return all((r.action.lower(), r.scope) in reach.places for r in method.requires)


def _first_place(method: EscalationMethod, reach: Reach) -> str:
    first = method.requires[0]
    return reach.places[(first.action.lower(), first.scope)]


def _simplest(methods: list[EscalationMethod]) -> Iterator[EscalationMethod]:
    needs = [frozenset(r.action for r in m.requires) for m in methods]
    for method, need in zip(methods, needs, strict=True):
        if not any(other < need for other in needs):
            yield method


def unused_principal(
    last_used: datetime | None, denied: int, window: TimeWindow, *, is_role: bool
) -> UnusedPrincipal:
    return UnusedPrincipal(last_used, denied, _evidence(last_used, denied, window, is_role))


def _evidence(last_used: datetime | None, denied: int, window: TimeWindow, is_role: bool) -> str:
    calls = "no calls in the logs" if not denied else f"only {denied} denied calls in the logs"
    if not is_role:
        return f"{calls}; IAM keeps no last-used date for users in this snapshot"
    if last_used is None:
        return f"{calls}; IAM records no use of the role (it tracks the last 400 days)"
    day = last_used.astimezone(UTC).strftime("%Y-%m-%d")
    if window.since is not None and last_used < window.since:
        return f"{calls}; IAM last saw the role used on {day}, before the window"
    if window.contains(last_used):
        return (
            f"{calls}; but IAM saw the role used on {day}, inside the window: "
            "the logs may miss a region or account"
        )
    return f"{calls}; IAM last saw the role used on {day}"
