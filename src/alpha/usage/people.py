"""People behind shared roles: who used a role, what, and whose work narrowing it may break.

Pure: no I/O. An IAM Identity Center permission set is one role per account shared by every
person assigned to it; usage keeps the person of each call (`HourlyUsage.session`, chosen by
`alpha.usage.principals`), so a report can break a shared role down per person. The stores
fold hourly rows into `PersonUse` rows (one per principal, person and action; the DuckDB store
in SQL, `person_uses` here as the reference); `people_of` folds those per person.

`people_at_risk` says whose work a proposal built from the window's usage might break, most
exposed first: a person last seen long before the window's end (their next task is likely
outside what was observed), a person who made the role's rare calls (actions called once or
twice by all its people together: occasional work, whose sibling actions were probably not
observed), and a person who alone used some
actions (specialised work that the rest of the role's usage does not vouch for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from alpha.usage.aggregate import HourlyUsage

__all__ = [
    "PeopleAtRisk",
    "PersonActivity",
    "PersonAtRisk",
    "PersonUse",
    "people_at_risk",
    "people_of",
    "person_uses",
    "splits_by_person",
]

RARE_CALLS = 2  # an action the role's people called at most this often is occasional work
QUIET_DAYS = 14  # last seen this long before the window's end: their next task may be unseen
TOP_AT_RISK = 5


class PersonUse(msgspec.Struct, frozen=True):
    """One person's calls of one action through one principal, over the report's batches."""

    principal: str
    person: str
    action: str
    calls: int  # allowed
    denied: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class PersonActivity:
    """One person's use of one principal: allowed calls, the actions they used (sorted),
    denied calls, and first and last seen (of any call, allowed or denied)."""

    person: str
    calls: int
    denied: int
    actions: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "calls": self.calls,
            "denied": self.denied,
            "actions": list(self.actions),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
        }


def person_uses(hourly: Iterable[HourlyUsage]) -> list[PersonUse]:
    """Fold hourly rows that name a person into `PersonUse` rows, sorted by principal, person,
    action (rows without a person are workloads, left out)."""
    folded: dict[tuple[str, str, str], list[int]] = {}
    for row in hourly:
        if row.session is None:
            continue
        key = (row.principal, row.session, row.action)
        tally = folded.setdefault(key, [0, 0, row.first_seen, row.last_seen])
        tally[0] += row.used
        tally[1] += row.denied
        tally[2] = min(tally[2], row.first_seen)
        tally[3] = max(tally[3], row.last_seen)
    return [
        PersonUse(
            *key, t[0], t[1], datetime.fromtimestamp(t[2], UTC), datetime.fromtimestamp(t[3], UTC)
        )
        for key, t in sorted(folded.items())
    ]


def people_of(uses: Iterable[PersonUse]) -> dict[str, tuple[PersonActivity, ...]]:
    """Per principal, its people, most allowed calls first (then by name)."""
    grouped: dict[str, dict[str, list[PersonUse]]] = {}
    for use in uses:
        grouped.setdefault(use.principal, {}).setdefault(use.person, []).append(use)
    return {
        principal: tuple(sorted((_activity(p, u) for p, u in people.items()), key=_by_calls))
        for principal, people in sorted(grouped.items())
    }


def _activity(person: str, uses: Sequence[PersonUse]) -> PersonActivity:
    return PersonActivity(
        person=person,
        calls=sum(u.calls for u in uses),
        denied=sum(u.denied for u in uses),
        actions=tuple(sorted({u.action for u in uses if u.calls > 0})),
        first_seen=min(u.first_seen for u in uses),
        last_seen=max(u.last_seen for u in uses),
    )


def _by_calls(activity: PersonActivity) -> tuple[int, str]:
    return -activity.calls, activity.person


def splits_by_person(people: Sequence[PersonActivity]) -> bool:
    """Whether two or more people use the role and no action is used by more than one of
    them: each person's work is apart, a sign the permission set should be split."""
    working = [p for p in people if p.actions]
    if len(working) < 2:
        return False
    seen: set[str] = set()
    for person in working:
        if seen.intersection(person.actions):
            return False
        seen.update(person.actions)
    return True


@dataclass(frozen=True, slots=True)
class PersonAtRisk:
    """A person whose work the proposal might break, and why: `quiet_days` since they were
    last seen (None when recent), their `rare` actions and those they `alone` used (sorted)."""

    person: str
    calls: int
    last_seen: datetime
    quiet_days: int | None
    rare: tuple[str, ...]
    alone: tuple[str, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Each reason as a short phrase naming a few of its actions."""
        found = []
        if self.quiet_days is not None:
            found.append(f"last seen {self.quiet_days} days before the window's end")
        if self.rare:
            found.append(f"rare: {_some(self.rare)}")
        if self.alone:
            found.append(f"only user of {_some(self.alone)}")
        return tuple(found)

    def brief(self) -> str:
        """`quiet 20 days, 3 rare actions, only user of 2`: the reasons by count."""
        found = []
        if self.quiet_days is not None:
            found.append(f"quiet {self.quiet_days} days")
        if self.rare:
            found.append(f"{len(self.rare)} rare action{'s' if len(self.rare) > 1 else ''}")
        if self.alone:
            found.append(f"only user of {len(self.alone)}")
        return ", ".join(found)

    def to_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "calls": self.calls,
            "last_seen": _iso(self.last_seen),
            "reasons": list(self.reasons),
            "quiet_days": self.quiet_days,
            "rare": list(self.rare),
            "alone": list(self.alone),
        }


@dataclass(frozen=True, slots=True)
class PeopleAtRisk:
    """The people of a shared principal (`people`: how many), the most exposed of those at
    risk (at most `TOP_AT_RISK`), and how many more are at risk beyond those listed."""

    people: int
    top: tuple[PersonAtRisk, ...]
    more: int

    def to_dict(self) -> dict[str, object]:
        return {
            "people": self.people,
            "at_risk": [p.to_dict() for p in self.top],
            "more": self.more,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """One line: `may break the work of a (why), b (why) and 3 more of 9 people`."""
        named = ", ".join(f"{p.person} ({p.brief()})" for p in self.top)
        more = f" and {self.more} more" if self.more else ""
        return f"may break the work of {named}{more} of {self.people} people using this role"


def people_at_risk(
    uses: Iterable[PersonUse], window_end: datetime, top: int = TOP_AT_RISK
) -> PeopleAtRisk | None:
    """Whose work narrowing one principal to its observed usage might break (see the module
    docstring); None when no call named a person."""
    listed = list(uses)
    if not listed:
        return None
    users_of: dict[str, set[str]] = {}
    calls_of: dict[str, int] = {}
    for use in listed:
        if use.calls > 0:
            users_of.setdefault(use.action, set()).add(use.person)
            calls_of[use.action] = calls_of.get(use.action, 0) + use.calls
    per_person: dict[str, list[PersonUse]] = {}
    for use in listed:
        per_person.setdefault(use.person, []).append(use)
    found = [
        risk
        for person, mine in per_person.items()
        if (risk := _at_risk(person, mine, (users_of, calls_of), window_end)) is not None
    ]
    found.sort(key=_most_exposed)
    return PeopleAtRisk(len(per_person), tuple(found[:top]), max(len(found) - top, 0))


def _at_risk(
    person: str,
    mine: Sequence[PersonUse],
    role: tuple[Mapping[str, set[str]], Mapping[str, int]],
    window_end: datetime,
) -> PersonAtRisk | None:
    """`role`: per action, the people who used it and the calls of all of them."""
    users_of, calls_of = role
    used = [u for u in mine if u.calls > 0]
    last = max(u.last_seen for u in mine)
    quiet = (window_end - last) // timedelta(days=1)
    rare = tuple(sorted(u.action for u in used if calls_of[u.action] <= RARE_CALLS))
    alone = tuple(sorted(u.action for u in used if users_of.get(u.action) == {person}))
    if len(users_of) == len(alone):
        alone = ()  # the only person of the role: "only user" would say nothing
    if quiet < QUIET_DAYS and not rare and not alone:
        return None
    return PersonAtRisk(
        person,
        sum(u.calls for u in used),
        last,
        quiet if quiet >= QUIET_DAYS else None,
        rare,
        alone,
    )


def _most_exposed(risk: PersonAtRisk) -> tuple[int, int, str]:
    return -len(risk.reasons), risk.calls, risk.person


def _some(actions: Sequence[str], shown: int = 3) -> str:
    more = f" +{len(actions) - shown}" if len(actions) > shown else ""
    return ", ".join(actions[:shown]) + more


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
