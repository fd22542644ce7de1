"""A fleet rollout against live IAM in an organisation (moto in server mode, over HTTP): the
management account and three accounts made with `organizations` CreateAccount each hold the
role `app`; the organisation folder is written from each account's IAM (reached through
`OrganizationAccountAccessRole`, as moto's STS lands assumed credentials in the account);
`alpha propose --role app --org DIR` makes one proposal; `alpha rollout` with `iam = aws` and
`ALPHA_ORG_ROLE` changes IAM in every account (the management account with the caller's own
credentials), and a breach in production puts every account back exactly as it was. An
account whose role cannot be assumed stops the rollout before anything changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.aws.assume_role import RoleInAccounts, assumed_session
from alpha.adapters.aws.clients import make_client
from alpha.adapters.aws.iam_account import fetch_authorization_details
from tests.cli.test_fleet_rollout import fleet_setting
from tests.cli.test_live_iam import WIDE, role_state
from tests.cli.workflow_helpers import alpha
from tests.fakes.cloudtrail_logs import delivery_folder, record, write_log
from tests.fakes.local_http import serving
from tests.fakes.refusing_sts import RefusingSts, RefusingStsHandler
from tests.moto_iam import TRUST, iam_client, reset

pytestmark = pytest.mark.slow

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
ORG_ROLE = "OrganizationAccountAccessRole"


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


@dataclass
class Org:
    accounts: list[str]  # the management account first
    clients: dict[str, Any]  # each account's IAM client
    folder: Path


def make_org(endpoint: str, folder: Path) -> Org:
    organizations = make_client("organizations", region="us-east-1", endpoint_url=endpoint)
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(AccountName=name, Email=f"{name}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for name in ("payments", "search", "ledger")
    ]
    sts = make_client("sts", region="us-east-1", endpoint_url=endpoint)
    management = str(sts.get_caller_identity()["Account"])
    clients = {management: iam_client(endpoint)}
    for member in members:
        session = assumed_session(sts, RoleInAccounts(ORG_ROLE), member)
        clients[member] = session.client("iam", endpoint_url=endpoint)
    for account_id, client in clients.items():
        client.create_policy(PolicyName="shared-read", PolicyDocument=json.dumps(WIDE))
        client.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))
        client.put_role_policy(
            RoleName="app", PolicyName="old-inline", PolicyDocument=json.dumps(WIDE)
        )
        client.attach_role_policy(
            RoleName="app", PolicyArn=f"arn:aws:iam::{account_id}:policy/shared-read"
        )
    accounts = [management, *members]
    write_org_folder(folder, accounts, clients)
    return Org(accounts, clients, folder)


def write_org_folder(folder: Path, accounts: list[str], clients: dict[str, Any]) -> None:
    """The organisation folder's form (ORG_SEAMS.md), as `alpha org export` writes it."""
    (folder / "accounts").mkdir(parents=True)
    root = {"Id": "r-ab12", "Name": "Root"}
    listed = [{"Id": a, "Name": a, "Status": "ACTIVE", "ParentId": root["Id"]} for a in accounts]
    index = {
        "Id": "o-example",
        "ManagementAccountId": accounts[0],
        "Units": [root],
        "Accounts": listed,
    }
    (folder / "organization.json").write_text(json.dumps(index))
    for account_id in accounts:
        document = fetch_authorization_details(clients[account_id], account_id)
        (folder / "accounts" / f"{account_id}.json").write_text(json.dumps(document))


@pytest.fixture(scope="module")
def org_server(aws_env: None) -> Iterator[str]:
    """A moto server of the module's own: the organisation's accounts stay out of the IAM
    server other tests reset and seed."""
    from tests.conftest import _moto_server

    with _moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def iam_endpoint(org_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # Each request's account from its credentials (moto's default account for the caller's,
    # the member's for credentials assumed there), not one account for every request.
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    reset(org_server)
    return org_server


@pytest.fixture
def org(iam_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Org:
    made = make_org(iam_endpoint, tmp_path / "org")
    fleet_setting(tmp_path, monkeypatch, made.accounts)
    for service in ("IAM", "STS", "CLOUDWATCH"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", iam_endpoint)
    return made


def propose_and_approve() -> str:
    ran = alpha(
        "propose", "--role", "app", "--org", "org", "--usage", "usage", "--by", "dana",
        "--now", at(-2), "--format", "json",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    [made] = ran.json()["proposals"]
    assert alpha("approve", made["id"], "--by", "sam", "--now", at(-1)).code == 0
    return str(made["id"])


def states(org: Org) -> dict[str, Any]:
    return {a: role_state(org.clients[a], "app") for a in org.accounts}


def alpha_policies(org: Org) -> dict[str, list[str]]:
    return {
        a: [p["Arn"] for p in c.list_policies(Scope="Local")["Policies"] if "/alpha/" in p["Arn"]]
        for a, c in org.clients.items()
    }


def test_a_production_breach_rolls_every_account_back(
    org: Org, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = states(org)
    proposal = propose_and_approve()
    assert states(org) == before  # proposing changes nothing
    monkeypatch.setenv("ALPHA_IAM", "aws")
    monkeypatch.setenv("ALPHA_ORG_ROLE", ORG_ROLE)

    canary = alpha("rollout", proposal, "--stage", "canary", "--now", at(0), "--format", "json")
    assert canary.code == 0, canary.err
    assert canary.json()[0]["stage_state"] == "passed", canary.json()
    boundaries = {a: s["boundary"] for a, s in states(org).items()}
    assert all(b and b["PermissionsBoundaryArn"].startswith(f"arn:aws:iam::{a}:policy/alpha/")
               for a, b in boundaries.items())  # fmt: skip

    # Production starts two hours on; half an hour into its bake the third member is refused.
    last = org.accounts[-1]
    denied = delivery_folder(tmp_path / "bake", "2024-03-10", account=last)
    write_log(
        denied / "denied.json",
        [record("DeleteObject", account=last, time=at(2.5), error="AccessDenied")],
    )
    ran = alpha("rollout", proposal, "--now", at(2), "--format", "json")
    assert ran.code == 1, ran.err
    assert ran.json()[0]["state"] == "rolled_back", ran.json()
    assert "IAMErrorRate breach" in ran.json()[0]["detail"]
    assert states(org) == before
    shown = alpha("proposals", "show", proposal, "--format", "json").json()
    steps = [e["reason"].split(" (")[0] for e in shown["audit"] if e["action"] == "account.changed"]
    assert [f"production applied in account {a}" for a in org.accounts] == [
        s for s in steps if s.startswith("production")
    ]
    assert steps[-len(org.accounts) :] == [
        f"rolled back in account {a}" for a in reversed(org.accounts)
    ]
    assert alpha_policies(org) == {a: [] for a in org.accounts}
    [found] = alpha("status", "--format", "json").json()["proposals"]
    assert [(t["account"], t["state"]) for t in found["targets"]] == [
        (a, "rolled back") for a in org.accounts
    ]


def test_an_account_whose_role_cannot_be_assumed_stops_before_any_change(
    org: Org, iam_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = states(org)
    proposal = propose_and_approve()
    refused = org.accounts[-1]
    fake = RefusingSts(iam_endpoint, frozenset({refused}), org.accounts[0])
    with serving(RefusingStsHandler, fake) as sts_endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_endpoint)
        monkeypatch.setenv("ALPHA_IAM", "aws")
        monkeypatch.setenv("ALPHA_ORG_ROLE", ORG_ROLE)
        ran = alpha("rollout", proposal, "--now", at(0), "--format", "json")
    assert ran.code == 2
    assert f"cannot assume arn:aws:iam::{refused}:role/{ORG_ROLE}: AccessDenied" in ran.err
    assert states(org) == before
    assert alpha_policies(org) == {a: [] for a in org.accounts}
    [found] = alpha("status", "--format", "json").json()["proposals"]
    assert found["state"] == "approved"


def test_a_fleet_proposed_from_the_live_organisation_rolls_out_to_live_iam(
    org: Org, iam_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--org aws`: the accounts from Organizations, each one's IAM through the organisation
    role; `--org-account` keeps some; an account the role cannot reach is left out and named.
    The proposal records the accounts as read live, so its rollout changes live IAM without
    `iam = aws`."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", iam_endpoint)
    monkeypatch.setenv("ALPHA_ORG_ROLE", ORG_ROLE)
    before = states(org)
    kept, refused = org.accounts[:3], org.accounts[2]
    fake = RefusingSts(iam_endpoint, frozenset({refused}), org.accounts[0])
    with serving(RefusingStsHandler, fake) as sts_endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts_endpoint)
        ran = alpha(
            "propose", "--role", "app", "--org", "aws",
            *(a for account in kept for a in ("--org-account", account)),
            "--usage", "usage", "--by", "dana", "--now", at(-2), "--format", "json",
        )  # fmt: skip
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", iam_endpoint)
    assert ran.code == 0, ran.err
    made = ran.json()
    # Organizations' accounts come in id order (moto makes member ids at random)
    assert made["targets"] == [f"arn:aws:iam::{a}:role/app" for a in sorted(org.accounts[:2])]
    [skipped] = made["skipped"]
    assert skipped.startswith(f"{refused}: not read (")
    assert f"arn:aws:iam::{refused}:role/{ORG_ROLE}" in skipped
    assert "AccessDenied" in skipped
    assert made["imported"] == []  # nothing imported: the accounts are live
    [proposal] = made["proposals"]
    assert alpha("approve", proposal["id"], "--by", "sam", "--now", at(-1)).code == 0

    rolled = alpha("rollout", proposal["id"], "--now", at(0), "--format", "json")
    assert rolled.code == 0, rolled.err
    assert rolled.json()[0]["state"] == "succeeded", rolled.json()
    after = states(org)
    for account in org.accounts[:2]:
        assert list(after[account]["inline"]) == ["alpha-least-privilege"]
        assert (after[account]["attached"], after[account]["boundary"]) == ([], None)
    assert {a: after[a] for a in org.accounts[2:]} == {a: before[a] for a in org.accounts[2:]}


def test_a_live_organisation_without_the_role_anywhere_says_so(
    org: Org, iam_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", iam_endpoint)
    monkeypatch.setenv("ALPHA_ORG_ROLE", ORG_ROLE)
    ran = alpha(
        "propose", "--role", "nobody", "--org", "aws", "--usage", "usage", "--by", "dana",
        "--now", at(-2),
    )  # fmt: skip
    assert ran.code == 2
    assert "nobody" in ran.err
