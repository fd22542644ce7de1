"""The scan's lines carry the people behind shared roles, and flag a role whose people work
apart (`split`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alpha.catalog import Catalog
from alpha.cli.scan_render import people_text
from alpha.scan import scan
from alpha.scan.model import SPLIT, SplitByPerson
from alpha.scan.people import with_people
from alpha.usage.people import PersonUse
from tests.scan.factories import START, allow, role, snapshot, used

SSO = "AWSReservedSSO_Dev_0123"
AT = START + timedelta(days=2)


def person(who: str, action: str, calls: int = 3) -> PersonUse:
    # usage names the role without its path, as CloudTrail does
    return PersonUse(f"arn:aws:iam::111122223333:role/{SSO}", who, action, calls, 0, AT, AT)


@pytest.mark.parametrize(
    ("uses", "split"),
    [
        ([person("ann", "s3:GetObject"), person("bob", "ec2:RunInstances")], True),
        ([person("ann", "s3:GetObject"), person("bob", "s3:GetObject")], False),
    ],
)
def test_a_shared_roles_line_lists_its_people(
    catalog: Catalog, uses: list[PersonUse], split: bool
) -> None:
    account = snapshot(role(SSO, allow("*")), role("app", allow("s3:*")))
    rows = used(f"arn:aws:iam::111122223333:role/{SSO}", ["s3:GetObject", "ec2:RunInstances"])
    report = with_people(scan(account, rows, catalog), account, uses)
    (shared,) = (s for s in report.scores if s.principal.endswith(SSO))
    (app,) = (s for s in report.scores if s.principal.endswith("/app"))
    assert [p.person for p in shared.people] == ["ann", "bob"]
    assert (SPLIT in shared.flag_codes) is split
    assert app.people == ()
    assert "people" not in app.to_dict()
    document = shared.to_dict()
    assert [p["person"] for p in document["people"]] == ["ann", "bob"]
    assert document["people"][0]["actions"] == ["s3:GetObject"]
    assert (SplitByPerson(2).to_dict() in document["flags"]) is split
    assert people_text(shared).startswith("people: ann 3 calls 1 actions last ")


def test_people_of_principals_not_in_the_snapshot_are_left_out(catalog: Catalog) -> None:
    account = snapshot(role("app", allow("s3:*")))
    report = scan(account, [], catalog)
    assert with_people(report, account, [person("ann", "s3:GetObject")]) == report
