"""The local reasoner: rationale, risk and remediation notes from the evidence alone.

Deterministic: no clock, no randomness, no network; every list is sorted, so the same
evidence gives byte-identical text.
"""

from __future__ import annotations

import math
from collections import Counter

from alpha.catalog import AccessLevel, Catalog
from alpha.reasoning.evidence import Evidence
from alpha.reasoning.ports import Reasoning
from alpha.reasoning.risk import (
    abbreviate,
    days,
    estimate_risk,
    num,
    pct,
    plural,
    removed_data_plane,
    sessions_phrase,
)

TOP_ACTIONS = 5
ONCE_LISTED = 5
TARGET_WINDOW_DAYS = 90
_SERVICE_LABELS = (
    ("dynamodb", "DynamoDB"),
    ("kinesis", "Kinesis"),
    ("kms", "KMS"),
    ("lambda", "Lambda"),
    ("s3", "S3"),
    ("sns", "SNS"),
    ("sqs", "SQS"),
)


class LocalReasoner:
    """Implements `Reasoner` without a model."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def reason(self, evidence: Evidence) -> Reasoning:
        risk = estimate_risk(evidence, self._catalog)
        rationale = " ".join(
            sentence
            for sentence in (
                activity_sentence(evidence),
                kept_sentence(evidence),
                removed_sentence(evidence),
                org_sentence(evidence),
                inferred_sentence(evidence),
                guardrails_sentence(evidence),
                f"Estimated probability of break: {pct(risk.probability_of_break)}.",
            )
            if sentence
        )
        return Reasoning(rationale, risk, remediation_notes(evidence, self._catalog))


def activity_sentence(evidence: Evidence) -> str:
    start, end = evidence.window_start.date(), evidence.window_end.date()
    return (
        f"Based on {days(evidence.window_days)} days of activity ({start} to {end}), "
        f"{evidence.principal} made {num(evidence.total_calls)} allowed calls of "
        f"{num(len(evidence.used_actions))} actions{sessions_phrase(evidence)}."
    )


def kept_sentence(evidence: Evidence) -> str:
    used = sorted(evidence.used_actions, key=lambda a: (-a.calls, a.action.lower(), a.action))
    if not used:
        return "No action was used, so none is kept for use."
    top = ", ".join(
        f"{a.action} ({num(a.calls)} {plural(a.calls, 'call', 'calls')})"
        for a in used[:TOP_ACTIONS]
    )
    more = f", and {num(len(used) - TOP_ACTIONS)} more" if len(used) > TOP_ACTIONS else ""
    return f"Kept the {num(len(used))} used actions: {top}{more}."


def removed_sentence(evidence: Evidence) -> str:
    diff = evidence.diff
    if not diff.removed_actions and not diff.removed_grants:
        return "Removed nothing: the proposal grants every action the current policy does."
    levels = Counter(
        r.access_level.value if r.access_level is not None else "not in the catalog"
        for r in diff.removed_actions
    )
    by_level = ", ".join(f"{name} {num(levels[name])}" for name in sorted(levels))
    detail = f" ({by_level})" if by_level else ""
    return (
        f"Removed {num(len(diff.removed_actions))} actions never used{detail}: "
        f"{num(diff.removed_grants)} of {num(diff.existing_grants)} grants "
        f"({pct(diff.reduction)})."
    )


def org_sentence(evidence: Evidence) -> str:
    """Removed access the organization already denies: the identity policy shrinks, but
    what the principal can do does not."""
    blocked = evidence.org_blocked
    if not blocked:
        return ""
    shown = "; ".join(f"{action} ({why})" for action, why in blocked[:ONCE_LISTED])
    more = f" and {num(len(blocked) - ONCE_LISTED)} more" if len(blocked) > ONCE_LISTED else ""
    return (
        f"The organization's policies deny {num(len(blocked))} of the removed actions anyway, "
        f"so removing them changes no effective access: {shown}{more}."
    )


def inferred_sentence(evidence: Evidence) -> str:
    if not evidence.inferred:
        return "Inferred nothing beyond the observed calls."
    listed = "; ".join(f"{i.action} ({i.reason})" for i in evidence.inferred)
    n = len(evidence.inferred)
    what = plural(n, "permission", "permissions")
    return f"Inferred {num(n)} {what} CloudTrail does not show: {listed}."


def guardrails_sentence(evidence: Evidence) -> str:
    if not evidence.guardrails:
        return "No guardrail is violated."
    blocking = sorted({g.code for g in evidence.guardrails if g.blocking})
    other = sorted({g.code for g in evidence.guardrails if not g.blocking})
    parts = []
    if blocking:
        parts.append(f"blocking: {', '.join(blocking)}")
    if other:
        parts.append(f"not blocking: {', '.join(other)}")
    return f"Guardrails raised {num(len(evidence.guardrails))} violations ({'; '.join(parts)})."


def remediation_notes(evidence: Evidence, catalog: Catalog) -> tuple[str, ...]:
    return (
        *guardrail_notes(evidence, blocking=True),
        *data_event_notes(evidence, catalog),
        *replay_notes(evidence),
        *window_notes(evidence),
        *once_seen_notes(evidence),
        *denied_notes(evidence),
        *permissions_notes(evidence),
        *(
            f"{i.action} kept although CloudTrail does not show it: {i.reason}."
            for i in evidence.inferred
        ),
        *guardrail_notes(evidence, blocking=False),
    )


def guardrail_notes(evidence: Evidence, *, blocking: bool) -> list[str]:
    chosen = sorted((g.code, g.message) for g in evidence.guardrails if g.blocking is blocking)
    if blocking:
        return [
            f"Blocking guardrail violation {c} must be fixed before approval: {m}"
            for c, m in chosen
        ]
    return [f"Guardrail {c} (not blocking): {m}" for c, m in chosen]


def data_event_notes(evidence: Evidence, catalog: Catalog) -> list[str]:
    if evidence.data_events_logged:
        return []
    labels = dict(_SERVICE_LABELS)
    notes = []
    for service, actions in removed_data_plane(evidence, catalog).items():
        label = labels.get(service, service)
        how = (
            "stop excluding KMS events from the trail"
            if service == "kms"
            else f"enable {label} data events on the trail"
        )
        notes.append(
            f"Data events were not logged for {label}; {how} and observe again before "
            f"removing {abbreviate(actions)}."
        )
    return notes


def replay_notes(evidence: Evidence) -> list[str]:
    replay = evidence.replay
    if not replay.missed:
        return []
    return [
        f"{num(replay.missed)} of {num(replay.observed)} observed calls are not allowed by "
        f"the proposal: confirm they are no longer needed before approval."
    ]


def window_notes(evidence: Evidence) -> list[str]:
    recurrences = [r for a in evidence.used_actions if (r := a.recurrence_days) is not None]
    longest = max(recurrences, default=0.0)
    target = max(TARGET_WINDOW_DAYS, math.ceil(2 * longest))
    if evidence.window_days >= target:
        return []
    why = (
        f"the longest observed recurrence is {days(longest)} days"
        if recurrences
        else "no action recurred on more than one day"
    )
    return [
        f"Extend the window to {target} days (now {days(evidence.window_days)}): {why}, and a "
        f"periodic job is only seen by a window longer than its period."
    ]


def once_seen_notes(evidence: Evidence) -> list[str]:
    once = [a.action for a in evidence.used_actions if a.calls == 1]
    if not once:
        return []
    return [f"Actions seen once: re-check {abbreviate(once, ONCE_LISTED)} before production."]


def denied_notes(evidence: Evidence) -> list[str]:
    denied = [a.action for a in evidence.actions if a.denied]
    if not denied:
        return []
    return [
        f"Calls to {abbreviate(denied, ONCE_LISTED)} were denied in the window and stay denied: "
        f"grant them separately if they are needed."
    ]


def permissions_notes(evidence: Evidence) -> list[str]:
    removed = evidence.diff.removed_at(AccessLevel.PERMISSIONS_MANAGEMENT)
    if not removed:
        return []
    return [
        f"{num(removed)} Permissions management grants are removed: confirm no deployment or "
        f"break-glass process uses this principal to manage IAM."
    ]
