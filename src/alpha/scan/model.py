"""What `alpha scan` finds: per principal, its excess (granted but unused) and its flags.

Flags are sibling types, one per kind of finding: `UnusedPrincipal` (no allowed call in the
window), `EscalationRisk` (known privilege-escalation methods it holds) and `AdminEquivalent`
(it can do anything, or grant itself anything). `FLAG_CODES` are their stable codes, as
`--fail-on` and the JSON output name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alpha.catalog import AccessLevel
from alpha.usage.people import PersonActivity
from alpha.usage.ports import TimeWindow

__all__ = [
    "ADMIN",
    "ESCALATION",
    "FLAG_CODES",
    "SPLIT",
    "UNUSED",
    "AdminEquivalent",
    "EscalationRisk",
    "PrincipalScore",
    "ScanFinding",
    "ScanReport",
    "SplitByPerson",
    "UnusedPrincipal",
]


UNUSED = "unused"
ESCALATION = "escalation"
ADMIN = "admin"
SPLIT = "split"
FLAG_CODES = (ADMIN, ESCALATION, UNUSED, SPLIT)


@dataclass(frozen=True, slots=True)
class UnusedPrincipal:
    """No call it made was allowed in the window. `last_used` is IAM's own record
    (`RoleLastUsed`; None for users and for roles IAM has no record of), `denied` the calls it
    made that IAM refused, `evidence` a sentence a reviewer can check."""

    last_used: datetime | None
    denied: int
    evidence: str

    @property
    def code(self) -> str:
        return UNUSED

    def describe(self) -> str:
        return f"unused in the window: {self.evidence}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": UNUSED,
            "last_used": None if self.last_used is None else _iso(self.last_used),
            "denied": self.denied,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class EscalationMethodHeld:
    """One escalation method the principal's grants allow: `name` is its actions joined by
    ` + `, `where` the policy and place granting its first action."""

    name: str
    how: str
    where: str

    def to_dict(self) -> dict[str, str]:
        return {"method": self.name, "how": self.how, "where": self.where}


@dataclass(frozen=True, slots=True)
class EscalationRisk:
    methods: tuple[EscalationMethodHeld, ...]

    @property
    def code(self) -> str:
        return ESCALATION

    def describe(self) -> str:
        return "can escalate privileges: " + "; ".join(m.name for m in self.methods)

    def to_dict(self) -> dict[str, Any]:
        return {"code": ESCALATION, "methods": [m.to_dict() for m in self.methods]}


@dataclass(frozen=True, slots=True)
class AdminEquivalent:
    """`reason` says which test it meets (every action on `*`, or all of IAM's permissions
    management on `*`); `via` names the policies and places that grant it (a place ending in
    `.NotAction` is an Allow with NotAction)."""

    reason: str
    via: tuple[str, ...]

    @property
    def code(self) -> str:
        return ADMIN

    def describe(self) -> str:
        where = f" (via {'; '.join(self.via)})" if self.via else ""
        return f"admin-equivalent: {self.reason}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": ADMIN, "reason": self.reason, "via": list(self.via)}


@dataclass(frozen=True, slots=True)
class SplitByPerson:
    """A role shared by `people` people, none of whose actions another of them used: each
    person's work is apart, so one permission set per kind of work would grant less."""

    people: int

    @property
    def code(self) -> str:
        return SPLIT

    def describe(self) -> str:
        return f"{self.people} people use disjoint sets of actions: split it per kind of work"

    def to_dict(self) -> dict[str, Any]:
        return {"code": SPLIT, "people": self.people}


ScanFinding = UnusedPrincipal | EscalationRisk | AdminEquivalent | SplitByPerson


@dataclass(frozen=True, slots=True)
class LevelExcess:
    access_level: AccessLevel
    granted: int
    unused: int

    def to_dict(self) -> dict[str, int]:
        return {"granted": self.granted, "unused": self.unused}


@dataclass(frozen=True, slots=True)
class PrincipalScore:
    """One principal's line in the ranking.

    `granted` counts grants, one per (action, resource type) as `alpha diff` counts them;
    `used` the distinct actions it called successfully in the window; `unused_grants` the
    grants whose action it never called. `score` is the access-level weight of the unused
    grants (see `alpha.scan.weights`), `unused_share` that weight over the weight of all its
    grants (0 when it has none). `blocked_by_org` counts the grants its policies hold that the
    organization's SCPs/RCPs deny: they are not in `granted`.
    """

    rank: int
    principal: str
    kind: str
    granted: int
    used: int
    unused_grants: int
    score: float
    unused_share: float
    by_access_level: tuple[LevelExcess, ...]
    flags: tuple[ScanFinding, ...]
    boundary: str | None = None
    unresolved: tuple[str, ...] = ()
    blocked_by_org: int = 0
    # the people behind a shared role (sessions that name a person), most calls first
    people: tuple[PersonActivity, ...] = ()

    @property
    def flag_codes(self) -> tuple[str, ...]:
        return tuple(flag.code for flag in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "principal": self.principal,
            "kind": self.kind,
            "score": round(self.score, 2),
            "unused_share": round(self.unused_share, 4),
            "granted": self.granted,
            "used": self.used,
            "unused_grants": self.unused_grants,
            "by_access_level": {
                level.access_level.value: level.to_dict() for level in self.by_access_level
            },
            "flags": [flag.to_dict() for flag in self.flags],
            "boundary": self.boundary,
            "unresolved": list(self.unresolved),
            **({"blocked_by_org": self.blocked_by_org} if self.blocked_by_org else {}),
            **({"people": [p.to_dict() for p in self.people]} if self.people else {}),
        }


@dataclass(frozen=True, slots=True)
class ScanReport:
    """The ranking, most excess first, and what the usage held that the snapshot does not
    (`unknown_principals`: callers that are not a role or user of the snapshot, such as root
    or another account's roles)."""

    scores: tuple[PrincipalScore, ...]
    window: TimeWindow
    unknown_principals: tuple[str, ...] = ()

    def flagged(self, codes: frozenset[str]) -> tuple[PrincipalScore, ...]:
        return tuple(s for s in self.scores if codes.intersection(s.flag_codes))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
