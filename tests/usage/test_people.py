"""People behind shared roles: the same person per call on every ingest path, folded per person,
the split hint, and whose work a proposal might break."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alpha.usage.aggregate import BatchUsage
from alpha.usage.fast_tally import FastTally
from alpha.usage.interpret import interpret
from alpha.usage.mapping import EventMapper
from alpha.usage.native import NativeFile, native_module
from alpha.usage.people import (
    PersonActivity,
    PersonUse,
    people_at_risk,
    people_of,
    person_uses,
    splits_by_person,
)
from alpha.usage.reader import LazyLogReader, LogReader
from alpha.usage.tally import BatchTally
from alpha.usage.worker import tally_fast

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = DATA / "people" / "shared_roles.json.gz"
PANTHER = DATA / "cloudtrail" / "panther_cloudtrail_test_events"
SSO_ROLE = (
    "arn:aws:iam::726589425873:role/aws-reserved/sso.amazonaws.com/"
    "AWSReservedSSO_PowerUserAccess_e80e5005a16af40e"
)
SRE_ROLE = "sre-automation-dev-ops-role"
SIX = {f"{name}@acme-corp.com" for name in ("dave", "heidi", "ivan", "sybil", "walter", "yvonne")}


def interpreted(data: bytes, mapper: EventMapper) -> BatchUsage:
    """The reference path: every record decoded whole and interpreted."""
    tally = BatchTally()
    for event in LogReader().decode(data, "f.json").events:
        tally.add(interpret(event, mapper))
    return tally.finish()


def python_fast(data: bytes, mapper: EventMapper) -> BatchUsage:
    found = tally_fast(LazyLogReader(), FastTally(mapper), "f.json", data).usage
    assert found is not None
    return found


def native(data: bytes, mapper: EventMapper) -> BatchUsage:
    module = native_module()
    assert module is not None
    found = NativeFile(module, mapper).tally(data, "f.json")
    assert found is not None
    assert found[0] is not None
    return found[0]


PATHS = {"interpreted": interpreted, "python": python_fast, "native": native}


def inputs() -> list[tuple[str, bytes]]:
    real = [(p.name, p.read_bytes()) for p in sorted(PANTHER.glob("*.json"))]
    return [("synthetic", gzip.decompress(SHARED.read_bytes())), *real]


@pytest.mark.parametrize(("name", "data"), inputs(), ids=lambda v: str(v)[:40])
def test_every_path_names_the_same_people(name: str, data: bytes, mapper: EventMapper) -> None:
    found = {path: person_uses(run(data, mapper).hourly()) for path, run in PATHS.items()}
    assert found["python"] == found["interpreted"]
    assert found["native"] == found["interpreted"]


def test_the_shared_roles_people(mapper: EventMapper) -> None:
    usage = native(gzip.decompress(SHARED.read_bytes()), mapper)
    people = people_of(person_uses(usage.hourly()))
    sso = people[SSO_ROLE]
    assert {p.person for p in sso} == SIX
    # 173 records; some need two authorisations (an SSE-KMS upload needs the key as well)
    assert 150 < sum(p.calls + p.denied for p in sso) < 200
    assert [p.calls for p in sso] == sorted((p.calls for p in sso), reverse=True)
    (sre,) = (arn for arn in people if arn.endswith(SRE_ROLE))
    # the chained role: source identities, and the identity-enhanced session's user id
    assert {p.person for p in people[sre]} == {
        "walter@acme-corp.com",
        "mallory@acme-corp.com",
        "identitystore:94482488-3041-7026-18f3-be45837cd0e4",
    }


def test_real_identity_center_sessions_are_people(mapper: EventMapper) -> None:
    data = (PANTHER / "aws_overwrite_lambda_code.json").read_bytes()
    people = people_of(person_uses(native(data, mapper).hourly()))
    ((role, (bob,)),) = people.items()
    assert role.endswith("/AWSReservedSSO_DevAdmin_abc123")
    assert (bob.person, bob.calls, bob.actions) == ("bob.ross", 1, ("lambda:UpdateFunctionCode",))


START = datetime(2024, 5, 1, tzinfo=UTC)
ROLE = "arn:aws:iam::111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123"


def use(person: str, action: str, calls: int = 10, days_ago: int = 1) -> PersonUse:
    seen = START + timedelta(days=30 - days_ago)
    return PersonUse(ROLE, person, action, calls, 0, seen - timedelta(days=3), seen)


def activity(person: str, *actions: str) -> PersonActivity:
    return PersonActivity(person, 5, 0, actions, START, START)


@pytest.mark.parametrize(
    ("people", "splits"),
    [
        ([activity("ann", "s3:GetObject"), activity("bob", "ec2:RunInstances")], True),
        ([activity("ann", "s3:GetObject", "s3:PutObject"), activity("bob", "s3:PutObject")], False),
        ([activity("ann", "s3:GetObject")], False),
        ([activity("ann", "s3:GetObject"), activity("bob")], False),  # bob only denied
        (
            [activity("a", "x:A"), activity("b", "x:B"), activity("c", "x:C", "x:A")],
            False,
        ),
    ],
)
def test_a_role_splits_when_its_people_share_no_action(
    people: list[PersonActivity], splits: bool
) -> None:
    assert splits_by_person(people) is splits


def test_people_at_risk_are_the_quiet_the_occasional_and_the_specialised() -> None:
    end = START + timedelta(days=30)
    uses = [
        use("ann", "s3:GetObject"),
        use("ann", "s3:PutObject"),
        use("bob", "s3:GetObject"),
        use("bob", "s3:PutObject"),
        use("cat", "s3:GetObject", days_ago=20),  # quiet for 20 days
        use("dan", "s3:GetObject"),
        use("dan", "rds:ModifyDBSnapshotAttribute", calls=1),  # rare, and only dan
    ]
    found = people_at_risk(uses, end)
    assert found is not None
    assert found.people == 4
    assert [(p.person, p.reasons) for p in found.top] == [
        (
            "dan",
            ("rare: rds:ModifyDBSnapshotAttribute", "only user of rds:ModifyDBSnapshotAttribute"),
        ),
        ("cat", ("last seen 20 days before the window's end",)),
    ]
    assert found.more == 0
    assert found.summary().startswith(
        "may break the work of dan (1 rare action, only user of 1), cat (quiet 20 days)"
    )
    assert found.summary().endswith(" of 4 people using this role")


def test_people_at_risk_list_the_top_and_count_the_rest() -> None:
    end = START + timedelta(days=30)
    uses = [use(f"p{i:02}", f"s3:Action{i}", calls=1 + i % 3) for i in range(12)]
    found = people_at_risk(uses, end, top=5)
    assert found is not None
    assert (len(found.top), found.more, found.people) == (5, 7, 12)
    assert found.to_dict()["more"] == 7
    assert "and 7 more of 12 people" in found.summary()


def test_one_person_alone_is_not_the_only_user_of_everything() -> None:
    found = people_at_risk([use("ann", "s3:GetObject"), use("ann", "s3:PutObject")], START)
    assert found is not None
    assert found.top == ()
    assert people_at_risk([], START) is None
