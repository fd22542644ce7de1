"""The people behind shared roles, on the scan's lines: who used each role and what, and the
`split` flag for a role whose people use disjoint sets of actions (see `alpha.usage.people`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from alpha.account import AccountSnapshot, PrincipalNotFoundError
from alpha.scan.model import PrincipalScore, ScanReport, SplitByPerson
from alpha.usage.people import PersonActivity, PersonUse, people_of, splits_by_person

__all__ = ["with_people"]


def with_people(
    report: ScanReport, snapshot: AccountSnapshot, uses: Iterable[PersonUse]
) -> ScanReport:
    """The report with each principal's people, and `split` where they work apart. Usage
    names roles without their path; the snapshot's ARN is the line's."""
    found: dict[str, tuple[PersonActivity, ...]] = {}
    for principal, people in people_of(uses).items():
        try:
            found[snapshot.principal(principal).arn] = people
        except PrincipalNotFoundError:
            continue
    if not found:
        return report
    return replace(
        report, scores=tuple(_with(s, found.get(s.principal, ())) for s in report.scores)
    )


def _with(score: PrincipalScore, people: tuple[PersonActivity, ...]) -> PrincipalScore:
    if not people:
        return score
    split = (SplitByPerson(len(people)),) if splits_by_person(people) else ()
    return replace(score, people=people, flags=(*score.flags, *split))
