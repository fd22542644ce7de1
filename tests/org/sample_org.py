"""One small organization, built three ways for the `OrganizationSource` contract: as values
for the in-memory fake, as an organization folder, and in moto's server mode (Organizations,
IAM in every member account, a role that refuses to read one account).

    Root (FullAWSAccess)
      management                         the management account
      Prod (FullAWSAccess)
        prod        env=prod             DenyLeave also attached on the account
        locked      env=prod             its role may not read IAM: a read failure
        Payments (FullAWSAccess, DenyS3)
          payments  env=prod, team=pay
      Sandbox (no SCP at all: the level allows nothing)
        sandbox     env=dev
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alpha.account import Tag
from alpha.org import OrgAccount, Organization, OrgUnit
from alpha.org.levels import policy_levels
from alpha.policy.org_policies import OrgGuardrails, OrgPolicy
from alpha.policy.parse import parse_policy
from tests.moto_iam import TRUST

ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
DENY_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
}
DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}
READ_IAM = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}],
}

UNITS = {"Prod": "Root", "Payments": "Prod", "Sandbox": "Root"}  # unit -> parent
ACCOUNTS: dict[str, tuple[str, dict[str, str]]] = {  # name -> (parent unit, tags)
    "prod": ("Prod", {"env": "prod"}),
    "locked": ("Prod", {"env": "prod"}),
    "payments": ("Payments", {"env": "prod", "team": "pay"}),
    "sandbox": ("Sandbox", {"env": "dev"}),
}
MEMBERS = tuple(ACCOUNTS)
UNREADABLE = "locked"
# policy name -> (document, target names: units or accounts)
POLICIES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "FullAWSAccess": (
        ALLOW_ALL,
        ("Root", "Prod", "Payments", "management", "prod", "locked", "payments", "sandbox"),
    ),
    "DenyS3": (DENY_S3, ("Payments",)),
    "DenyLeave": (DENY_LEAVE, ("prod",)),
}


def role_name(account: str) -> str:
    return f"{account}-app"


def authorization_details(account_id: str, account: str) -> dict[str, Any]:
    name = role_name(account)
    return {
        "RoleDetailList": [
            {
                "RoleName": name,
                "Arn": f"arn:aws:iam::{account_id}:role/{name}",
                "Path": "/",
                "RoleId": f"AROA{account_id}",
                "CreateDate": "2024-01-01T00:00:00Z",
                "RolePolicyList": [{"PolicyName": "app", "PolicyDocument": READ_IAM}],
                "AttachedManagedPolicies": [],
            }
        ],
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
    }


@dataclass
class Ids:
    """Each account's and unit's id in one build (moto makes its own)."""

    organization: str = "o-example1"
    root: str = "r-ab12"
    accounts: dict[str, str] = field(
        default_factory=lambda: {
            "management": "111111111111",
            "prod": "222222222222",
            "locked": "333333333333",
            "payments": "444444444444",
            "sandbox": "555555555555",
        }
    )
    units: dict[str, str] = field(
        default_factory=lambda: {
            "Prod": "ou-ab12-prod0001",
            "Payments": "ou-ab12-pay00001",
            "Sandbox": "ou-ab12-sand0001",
        }
    )
    policies: dict[str, str] = field(
        default_factory=lambda: {
            "FullAWSAccess": "p-FullAWSAccess",
            "DenyS3": "p-denys3x1",
            "DenyLeave": "p-denylv01",
        }
    )

    def target(self, name: str) -> str:
        if name == "Root":
            return self.root
        return self.units.get(name) or self.accounts[name]


def _path(ids: Ids, unit: str) -> tuple[OrgUnit, ...]:
    path: list[OrgUnit] = []
    current: str | None = unit
    while current is not None:
        path.append(OrgUnit(ids.target(current), current))
        current = UNITS.get(current)
    return tuple(reversed(path))


def organization(ids: Ids) -> Organization:
    """The organization as values, built independently of both readers."""
    attached: dict[str, list[OrgPolicy]] = {}
    for name, (document, targets) in POLICIES.items():
        policy = OrgPolicy(ids.policies[name], name, parse_policy(document))
        for target in targets:
            attached.setdefault(ids.target(target), []).append(policy)
    placed = {"management": ("Root", {}), **ACCOUNTS}
    accounts = []
    for name, (unit, tags) in placed.items():
        bare = OrgAccount(
            ids.accounts[name],
            name,
            "ACTIVE",
            _path(ids, unit),
            tuple(Tag(k, v) for k, v in tags.items()),
        )
        levels = policy_levels(bare, lambda target: tuple(attached.get(target, ())))
        accounts.append(
            OrgAccount(bare.id, name, "ACTIVE", bare.path, bare.tags, OrgGuardrails(scps=levels))
        )
    accounts.sort(key=lambda a: a.id)
    return Organization(ids.organization, ids.accounts["management"], tuple(accounts))


def documents(ids: Ids) -> dict[str, dict[str, Any]]:
    """Every readable account's IAM."""
    return {
        ids.accounts[name]: authorization_details(ids.accounts[name], name)
        for name in ("management", *MEMBERS)
        if name != UNREADABLE
    }


def write_folder(folder: Path, ids: Ids) -> Path:
    """The organization folder, organization.json written by hand (not by the writer)."""
    units = [{"Id": ids.root, "Name": "Root"}] + [
        {"Id": ids.units[name], "Name": name, "ParentId": ids.target(parent)}
        for name, parent in UNITS.items()
    ]
    placed = {"management": ("Root", {}), **ACCOUNTS}
    accounts = [
        {
            "Id": ids.accounts[name],
            "Name": name,
            "Status": "ACTIVE",
            "ParentId": ids.target(unit),
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        }
        for name, (unit, tags) in placed.items()
    ]
    policies = [
        {
            "Id": ids.policies[name],
            "Name": name,
            "Type": "SERVICE_CONTROL_POLICY",
            "Content": document,
            "Targets": [ids.target(t) for t in targets],
        }
        for name, (document, targets) in POLICIES.items()
    ]
    (folder / "accounts").mkdir(parents=True, exist_ok=True)
    document = {
        "Id": ids.organization,
        "ManagementAccountId": ids.accounts["management"],
        "Units": units,
        "Accounts": accounts,
        "Policies": policies,
    }
    (folder / "organization.json").write_text(json.dumps(document, indent=2))
    for account_id, details in documents(ids).items():
        (folder / "accounts" / f"{account_id}.json").write_text(json.dumps(details))
    return folder


# moto ------------------------------------------------------------------------------------


def moto_post(endpoint: str, path: str, body: bytes = b"") -> None:
    request = urllib.request.Request(
        f"{endpoint}{path}", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


@dataclass
class MotoOrg:
    endpoint: str
    ids: Ids
    key_id: str
    secret: str

    def client(self, service: str) -> Any:
        """A client as the management account's `alpha` user (moto checks its policies)."""
        import boto3

        from alpha.adapters.aws.clients import retry_config

        return boto3.session.Session(
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        ).client(service, endpoint_url=self.endpoint, config=retry_config(2))  # type: ignore[call-overload]


def build_in_moto(endpoint: str) -> MotoOrg:
    """The organization in moto, then moto's IAM authentication switched on
    (`/moto-api/reset-auth`): from then on every request is checked against the caller's
    policies, so the `locked` account's role, which may not read IAM, gets AccessDenied.
    (moto's STS lands any assume_role whether or not the role exists or trusts the caller.)"""
    import boto3

    def client(service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = (
            {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
            if credentials
            else {}
        )
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", **keys)  # type: ignore[call-overload]

    moto_post(endpoint, "/moto-api/reset")
    org = client("organizations")
    described = org.create_organization(FeatureSet="ALL")["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ids = Ids(organization=described["Id"], root=root, accounts={}, units={}, policies={})
    ids.accounts["management"] = described["MasterAccountId"]
    for name, parent in UNITS.items():
        unit = org.create_organizational_unit(ParentId=ids.target(parent), Name=name)
        ids.units[name] = unit["OrganizationalUnit"]["Id"]
    for name, (unit, tags) in ACCOUNTS.items():
        made = org.create_account(
            AccountName=name,
            Email=f"{name}@example.com",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        ids.accounts[name] = made["CreateAccountStatus"]["AccountId"]
        org.move_account(
            AccountId=ids.accounts[name], SourceParentId=root, DestinationParentId=ids.target(unit)
        )
    _policies(org, ids)
    sts = client("sts")
    for name in ("management", *MEMBERS):
        account_id = ids.accounts[name]
        if name == "management":
            iam = client("iam")
        else:
            arn = f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
            credentials = sts.assume_role(RoleArn=arn, RoleSessionName="setup")["Credentials"]
            iam = client("iam", credentials)
            if name != UNREADABLE:
                iam.put_role_policy(
                    RoleName="OrganizationAccountAccessRole",
                    PolicyName="alpha-read",
                    PolicyDocument=json.dumps(READ_IAM),
                )
        detail = authorization_details(account_id, name)["RoleDetailList"][0]
        iam.create_role(RoleName=detail["RoleName"], AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(
            RoleName=detail["RoleName"], PolicyName="app", PolicyDocument=json.dumps(READ_IAM)
        )
    management_iam = client("iam")
    management_iam.create_user(UserName="alpha")
    management_iam.put_user_policy(
        UserName="alpha", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
    )
    key = management_iam.create_access_key(UserName="alpha")["AccessKey"]
    moto_post(endpoint, "/moto-api/reset-auth", b"0")
    return MotoOrg(endpoint, ids, key["AccessKeyId"], key["SecretAccessKey"])


def _policies(org: Any, ids: Ids) -> None:
    """Attach as POLICIES says: moto attaches FullAWSAccess to every new unit and account,
    so it is detached where the sample has none."""
    ids.policies["FullAWSAccess"] = "p-FullAWSAccess"
    for name, (document, _) in POLICIES.items():
        if name == "FullAWSAccess":
            continue
        made = org.create_policy(
            Content=json.dumps(document),
            Description=name,
            Name=name,
            Type="SERVICE_CONTROL_POLICY",
        )
        ids.policies[name] = made["Policy"]["PolicySummary"]["Id"]
    targets = ["Root", *UNITS, "management", *MEMBERS]
    for name, (_, wanted) in POLICIES.items():
        for target in targets:
            attached = {
                p["Id"]
                for p in org.list_policies_for_target(
                    TargetId=ids.target(target), Filter="SERVICE_CONTROL_POLICY"
                )["Policies"]
            }
            policy = ids.policies[name]
            if target in wanted and policy not in attached:
                org.attach_policy(PolicyId=policy, TargetId=ids.target(target))
            elif target not in wanted and policy in attached:
                org.detach_policy(PolicyId=policy, TargetId=ids.target(target))
