"""The chance a proposal breaks something, computed from the evidence.

Each factor estimates, from the evidence alone, the probability that the principal needs
something the observation missed or the proposal drops. Factors are treated as independent
sources of breakage and combined as `1 - Π(1 - p_i)`: monotone (raising any factor never
lowers the total), 0 only when every factor is 0, and within [0, 1] by construction.

1. `window` (the window against recurrence). An action used every day is seen by any window;
   one used monthly is seen by a 30-day window only if the window covers a run. Actions "recur
   slowly" when seen on a single day or with a mean gap of 2 days or more between days of
   activity; the share of slow actions (add-one smoothed, (slow + 1) / (used + 2)) estimates
   how likely this principal runs periodic jobs at all. A job of period P with a random phase
   is missed by a window of W days with probability max(0, 1 - W/P); unseen jobs are taken to
   be monthly, quarterly or yearly with weights 0.5 / 0.3 / 0.2. Factor = share × miss(W).
2. `good_turing`. The Good-Turing estimate of the probability that the next call is of an
   action not seen yet: N1 / N, N1 = actions seen exactly once, N = allowed calls. With no
   calls nothing is known, and it is 1.
3. `removed_grants`. Removing grants never used can still break a rare path. Weighted count
   x = 1 × Write + 2 × Permissions management removed grants; factor = 0.15 × x / (x + 50).
   It saturates at 15% on purpose: the removal is the point of the proposal, and an unused
   write or permissions grant is a larger risk to security than to availability.
4. `data_events`. When no data events were logged, data-plane use (see `data_plane`) could not
   be seen. Per service whose data-plane actions are removed: 0.5 if the principal used some
   other action of the service (it works with it: object or item access is likely), else 0.1;
   combined as 1 - Π(1 - p_s), and a warning.
5. `replay`. A seen call the proposal denies will fail when it recurs: 0.5 + 0.5 × missed /
   observed when any is missed, else 0.
6. `denied`. Calls IAM refused show needs the current policy already misses: 0.5 × denied /
   (denied + allowed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alpha.catalog import AccessLevel, Catalog
from alpha.reasoning.data_plane import is_data_plane
from alpha.reasoning.evidence import ActionObservation, Evidence

SLOW_RECURRENCE_DAYS = 2.0
UNSEEN_PERIODS: tuple[tuple[str, float, float], ...] = (
    ("monthly", 30.0, 0.5),
    ("quarterly", 90.0, 0.3),
    ("yearly", 365.0, 0.2),
)
GRANT_WEIGHTS: tuple[tuple[AccessLevel, float], ...] = (
    (AccessLevel.WRITE, 1.0),
    (AccessLevel.PERMISSIONS_MANAGEMENT, 2.0),
)
GRANT_CAP = 0.15
GRANT_HALF = 50.0
DATA_SERVICE_USED = 0.5
DATA_SERVICE_UNUSED = 0.1
DENIED_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class RiskFactor:
    code: str
    probability: float
    explanation: str
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "probability": round(self.probability, 6),
            "explanation": self.explanation,
        }
        if self.warning is not None:
            out["warning"] = self.warning
        return out


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """The seed's `risk_signal`, with the factors it was computed from."""

    probability_of_break: float
    rationale: str
    factors: tuple[RiskFactor, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f.warning for f in self.factors if f.warning is not None)

    def factor(self, code: str) -> RiskFactor:
        return next(f for f in self.factors if f.code == code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability_of_break": round(self.probability_of_break, 4),
            "rationale": self.rationale,
            "factors": [f.to_dict() for f in self.factors],
            "warnings": list(self.warnings),
        }


def combine(probabilities: Iterable[float]) -> float:
    """1 - Π(1 - p_i), each p clamped to [0, 1] first; monotone in every p_i."""
    keep = 1.0
    for p in probabilities:
        keep *= 1.0 - clamp(p)
    return clamp(1.0 - keep)


def clamp(p: float) -> float:
    return 0.0 if math.isnan(p) or p < 0.0 else min(p, 1.0)


def estimate_risk(evidence: Evidence, catalog: Catalog) -> RiskSignal:
    factors = (
        window_factor(evidence),
        good_turing_factor(evidence),
        removed_grants_factor(evidence),
        data_events_factor(evidence, catalog),
        replay_factor(evidence),
        denied_factor(evidence),
    )
    total = combine(f.probability for f in factors)
    sentences = [
        observed_sentence(evidence),
        *(f.explanation for f in factors),
        *(f"WARNING: {f.warning}" for f in factors if f.warning is not None),
        f"Combined as 1 - Π(1 - p) over the factors: probability of break {pct(total)}.",
    ]
    return RiskSignal(total, " ".join(sentences), factors)


def sessions_phrase(evidence: Evidence) -> str:
    """` in N named sessions`, or nothing: session names are kept only for roles people
    assume, so a machine role's zero says nothing about how it ran."""
    return f" in {num(evidence.sessions)} named sessions" if evidence.sessions else ""


def observed_sentence(evidence: Evidence) -> str:
    start, end = evidence.window_start.date(), evidence.window_end.date()
    return (
        f"Observed {num(evidence.total_calls)} calls of {num(len(evidence.used_actions))} "
        f"actions over {days(evidence.window_days)} days ({start} to {end})"
        f"{sessions_phrase(evidence)}."
    )


def is_slow(action: ActionObservation) -> bool:
    recurrence = action.recurrence_days
    return recurrence is None or recurrence >= SLOW_RECURRENCE_DAYS


def miss_probability(window_days: float) -> float:
    """The chance a job of an unseen longer period falls outside a window of this length."""
    return sum(w * max(0.0, 1.0 - window_days / period) for _, period, w in UNSEEN_PERIODS)


def window_factor(evidence: Evidence) -> RiskFactor:
    used = evidence.used_actions
    slow = sum(1 for a in used if is_slow(a))
    share = (slow + 1) / (len(used) + 2)
    miss = miss_probability(evidence.window_days)
    recurrences = [r for a in used if (r := a.recurrence_days) is not None]
    longest = (
        f"the longest observed recurrence is {days(max(recurrences))} days"
        if recurrences
        else "no action recurred on more than one day"
    )
    bound = "" if evidence.days_exact else " (days seen are a lower bound from first/last seen)"
    text = (
        f"{num(slow)} of {num(len(used))} used actions recur every "
        f"{days(SLOW_RECURRENCE_DAYS)} days or less often or were seen on a single day{bound}; "
        f"{longest}. Share of periodic work (add-one smoothed) ({num(slow)}+1)/"
        f"({num(len(used))}+2) = {pct(share)}; a monthly, quarterly or yearly job "
        f"(weights 0.5/0.3/0.2) is missed by a {days(evidence.window_days)}-day window with "
        f"probability {pct(miss)}: window factor {pct(share * miss)}."
    )
    return RiskFactor("window", clamp(share * miss), text)


def good_turing_factor(evidence: Evidence) -> RiskFactor:
    total = evidence.total_calls
    once = [a.action for a in evidence.used_actions if a.calls == 1]
    if total == 0:
        text = (
            "No allowed calls were observed: the chance that a needed action was not seen "
            "cannot be estimated and is taken as 100%."
        )
        return RiskFactor("good_turing", 1.0, text)
    p = len(once) / total
    text = (
        f"{num(len(once))} {plural(len(once), 'action was', 'actions were')} seen exactly "
        f"once: Good-Turing estimate of an unseen next action N1/N = "
        f"{num(len(once))}/{num(total)} = {pct(p)}."
    )
    return RiskFactor("good_turing", clamp(p), text)


def removed_grants_factor(evidence: Evidence) -> RiskFactor:
    counts = [(level, weight, evidence.diff.removed_at(level)) for level, weight in GRANT_WEIGHTS]
    weighted = sum(weight * n for _, weight, n in counts)
    p = GRANT_CAP * weighted / (weighted + GRANT_HALF)
    parts = " and ".join(f"{num(n)} {level.value}" for level, _, n in counts)
    terms = " + ".join(f"{num(n)}×{weight:g}" for _, weight, n in counts)
    text = (
        f"Removed {parts} grants: weighted {terms} = {weighted:g}, factor "
        f"{GRANT_CAP:g} × {weighted:g}/({weighted:g}+{GRANT_HALF:g}) = {pct(p)} (at most "
        f"{pct(GRANT_CAP)}: an unused grant is a larger risk to security than to availability)."
    )
    return RiskFactor("removed_grants", clamp(p), text)


def removed_data_plane(evidence: Evidence, catalog: Catalog) -> dict[str, list[str]]:
    """Removed data-plane actions by service (services and actions sorted)."""
    found: dict[str, list[str]] = {}
    for removed in evidence.diff.removed_actions:
        if is_data_plane(removed.action, catalog):
            found.setdefault(_service(removed.action), []).append(removed.action)
    return {s: sorted(found[s], key=str.lower) for s in sorted(found)}


def data_events_factor(evidence: Evidence, catalog: Catalog) -> RiskFactor:
    removed = removed_data_plane(evidence, catalog)
    if evidence.data_events_logged or not removed:
        why = "data events were logged" if evidence.data_events_logged else "none is removed"
        return RiskFactor("data_events", 0.0, f"Data-plane actions: {why}, factor 0%.")
    used_services = {_service(a.action) for a in evidence.used_actions}
    per_service = {
        s: DATA_SERVICE_USED if s in used_services else DATA_SERVICE_UNUSED for s in removed
    }
    p = combine(per_service.values())
    listed = "; ".join(
        f"{s} ({num(len(acts))}: {abbreviate(acts)}; {pct(per_service[s])}"
        f"{', service in use' if s in used_services else ''})"
        for s, acts in removed.items()
    )
    text = f"Data events were not logged; removed data-plane actions by service: {listed}."
    text += f" Data-events factor 1 - Π(1 - p_s) = {pct(p)}."
    count = sum(len(a) for a in removed.values())
    warning = (
        f"data events were not logged, yet the proposal removes {num(count)} data-plane "
        f"actions ({', '.join(removed)}); their use could not have been observed."
    )
    return RiskFactor("data_events", p, text, warning)


def replay_factor(evidence: Evidence) -> RiskFactor:
    replay = evidence.replay
    missed = replay.missed
    p = 0.5 + 0.5 * missed / replay.observed if missed and replay.observed else 0.0
    text = (
        f"Replay: {num(replay.allowed)} of {num(replay.observed)} observed calls are allowed "
        f"by the proposal ({pct(replay.ratio)})"
    )
    if missed:
        text += (
            f"; {num(missed)} seen calls would be denied: factor 0.5 + 0.5 × "
            f"{num(missed)}/{num(replay.observed)} = {pct(p)}."
        )
    else:
        text += ", factor 0%."
    return RiskFactor("replay", clamp(p), text)


def denied_factor(evidence: Evidence) -> RiskFactor:
    denied, allowed = evidence.denied_calls, evidence.total_calls
    if not denied:
        return RiskFactor("denied", 0.0, "No calls were denied, factor 0%.")
    p = DENIED_WEIGHT * denied / (denied + allowed)
    actions = [a.action for a in evidence.actions if a.denied]
    text = (
        f"{num(denied)} calls were denied (of {num(denied + allowed)} attempted), for "
        f"{abbreviate(actions)}: factor {DENIED_WEIGHT:g} × {num(denied)}/"
        f"{num(denied + allowed)} = {pct(p)}."
    )
    return RiskFactor("denied", clamp(p), text)


def _service(action: str) -> str:
    return action.partition(":")[0].lower()


def plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def abbreviate(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {num(rest)} more" if rest > 0 else shown


def num(n: int) -> str:
    return f"{n:,}"


def pct(p: float) -> str:
    return f"{p * 100:.2f}%"


def days(d: float) -> str:
    return f"{d:.0f}" if abs(d - round(d)) < 0.05 else f"{d:.1f}"
