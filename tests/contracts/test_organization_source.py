"""The `OrganizationSource` port, run against every implementation over the same organization
(tests/org/sample_org.py): the in-memory fake, the organization folder, and Organizations with
IAM in every account in moto's server mode (its IAM authentication on, so the `locked`
account's role really is refused)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alpha.adapters.aws.assume_role import RoleInAccounts
from alpha.adapters.aws.organizations import AwsOrganization, MemberIam
from alpha.adapters.local.org_folder import OrgFolder
from alpha.org import AccountReadFailure, OrganizationSource
from alpha.policy.org_policies import LevelKind
from tests.fakes.memory_org import MemoryOrganization
from tests.org import sample_org
from tests.org.sample_org import Ids


@dataclass(frozen=True)
class Rig:
    source: OrganizationSource
    ids: Ids
    live: bool = False

    def account(self, name: str):  # type: ignore[no-untyped-def]
        found = self.source.organization().account(self.ids.accounts[name])
        assert found is not None
        return found


@pytest.fixture(scope="module")
def moto_org(aws_env: None) -> Iterator[sample_org.MotoOrg]:
    from tests.conftest import _moto_server

    with _moto_server() as endpoint:
        built = sample_org.build_in_moto(endpoint)
        try:
            yield built
        finally:
            sample_org.moto_post(endpoint, "/moto-api/reset-auth", b"inf")
            sample_org.moto_post(endpoint, "/moto-api/reset")


def _aws(moto: sample_org.MotoOrg) -> AwsOrganization:
    members = MemberIam(
        moto.client("sts"),
        RoleInAccounts("OrganizationAccountAccessRole"),
        own_iam=moto.client("iam"),
        endpoint_url=moto.endpoint,
    )
    return AwsOrganization(moto.client("organizations"), members, "aws")


@pytest.fixture(params=["memory", "folder", "aws"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    if request.param == "aws":
        moto: sample_org.MotoOrg = request.getfixturevalue("moto_org")
        return Rig(_aws(moto), moto.ids, live=True)
    ids = Ids()
    if request.param == "folder":
        return Rig(OrgFolder(sample_org.write_folder(tmp_path / "org", ids)), ids)
    organization = sample_org.organization(ids)
    return Rig(MemoryOrganization(organization, sample_org.documents(ids)), ids)


def test_every_account_is_listed_with_its_ou_path(rig: Rig) -> None:
    organization = rig.source.organization()
    assert organization.id == rig.ids.organization
    assert organization.management_account == rig.ids.accounts["management"]
    assert sorted(a.id for a in organization.accounts) == sorted(rig.ids.accounts.values())
    payments = rig.account("payments")
    assert [u.name for u in payments.path] == ["Root", "Prod", "Payments"]
    assert [u.id for u in payments.path] == [
        rig.ids.root,
        rig.ids.units["Prod"],
        rig.ids.units["Payments"],
    ]
    assert payments.active
    assert payments.name == "payments"


def test_tags_are_read(rig: Rig) -> None:
    payments = rig.account("payments")
    assert payments.tag("team") == "pay"
    assert payments.tag("env") == "prod"
    assert rig.account("sandbox").tag("env") == "dev"


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("prod", [["FullAWSAccess"], ["FullAWSAccess"], ["DenyLeave", "FullAWSAccess"]]),
        (
            "payments",
            [["FullAWSAccess"], ["FullAWSAccess"], ["DenyS3", "FullAWSAccess"], ["FullAWSAccess"]],
        ),
        ("sandbox", [["FullAWSAccess"], [], ["FullAWSAccess"]]),  # Sandbox allows nothing
        ("management", [["FullAWSAccess"], ["FullAWSAccess"]]),
    ],
)
def test_scps_are_read_level_by_level_root_first(
    rig: Rig, account: str, expected: list[list[str]]
) -> None:
    levels = rig.account(account).guardrails.scps
    assert [sorted(p.name for p in level.policies) for level in levels] == expected
    assert levels[0].kind is LevelKind.ROOT
    assert levels[-1].kind is LevelKind.ACCOUNT
    assert levels[-1].target_id == rig.ids.accounts[account]


def test_a_policy_keeps_its_document_and_id(rig: Rig) -> None:
    level = rig.account("payments").guardrails.scps[2]
    deny = next(p for p in level.policies if p.name == "DenyS3")
    assert deny.id == rig.ids.policies["DenyS3"]
    assert deny.document.statements[0].action.patterns == ("s3:*",)
    assert "OU 'Payments'" in level.origin(1 if level.policies[0] is deny else 0).describe("SCP")


def test_a_policy_type_not_enabled_gives_no_levels(rig: Rig) -> None:
    assert all(a.guardrails.rcps == () for a in rig.source.organization().accounts)


@pytest.mark.parametrize("name", ["prod", "payments", "sandbox", "management"])
def test_a_readable_account_gives_its_iam(rig: Rig, name: str) -> None:
    state = rig.source.open_account(rig.account(name))
    assert not isinstance(state, AccountReadFailure), state
    roles = {p.name for p in state.snapshot().principals}
    assert sample_org.role_name(name) in roles
    assert state.snapshot().account_id == rig.ids.accounts[name]
    assert isinstance(state.document(), dict)


def test_an_account_that_cannot_be_read_is_a_failure_naming_it(rig: Rig) -> None:
    locked = rig.account(sample_org.UNREADABLE)
    failure = rig.source.open_account(locked)
    assert isinstance(failure, AccountReadFailure)
    assert failure.account_id == locked.id
    assert locked.id in failure.reason
    if rig.live:
        assert "AccessDenied" in failure.reason
        assert "docs/org.md" in failure.reason
