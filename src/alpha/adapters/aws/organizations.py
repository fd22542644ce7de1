"""The organization read live: AWS Organizations for the accounts, their OU paths, tags and
SCP/RCP levels, and each account's IAM through a role assumed in it.

Every list is paginated; throttling is retried by the clients' adaptive retries
(`alpha.adapters.aws.clients.retry_config`), never here. The policies attached to a target are
asked for once per target and each policy's content once, however many accounts share them.
An account whose IAM cannot be read (the role is missing or refuses the trust, AccessDenied)
becomes an `AccountReadFailure` saying what to fix; the other accounts are read as usual.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from alpha.account.errors import AccountError
from alpha.account.model import Tag
from alpha.adapters.aws.assume_role import AssumeRoleError, RoleInAccounts, assumed_session
from alpha.adapters.aws.clients import describe_error, retry_config
from alpha.adapters.aws.iam_account import LiveAccount
from alpha.org.errors import OrgError
from alpha.org.levels import policy_levels
from alpha.org.model import AccountReadFailure, OrgAccount, Organization, OrgUnit
from alpha.policy.errors import PolicyParseError
from alpha.policy.org_policies import OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import parse_policy

__all__ = ["RCP", "SCP", "AwsOrganization", "MemberIam"]

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
_SETUP = "see docs/org.md for the role ALPHA needs in each account"


@dataclass(frozen=True, slots=True)
class MemberIam:
    """How each account's IAM is reached: `role`, assumed with the caller's `sts` client; the
    account the caller is in through the caller's own `own_iam` client (the management
    account need not hold the role). `endpoint_url` is the IAM endpoint of the assumed
    sessions' clients (None: botocore's resolution, `AWS_ENDPOINT_URL_IAM` included)."""

    sts: Any
    role: RoleInAccounts
    own_iam: Any | None = None
    endpoint_url: str | None = None

    def client(self, account_id: str, own_account: str | None) -> Any:
        if self.own_iam is not None and account_id == own_account:
            return self.own_iam
        session = assumed_session(self.sts, self.role, account_id)
        return session.client("iam", endpoint_url=self.endpoint_url, config=retry_config())


class AwsOrganization:
    """`OrganizationSource` over Organizations (`client`) and each account's IAM (`members`)."""

    def __init__(self, client: Any, members: MemberIam, name: str = "aws") -> None:
        self._client = client
        self._members = members
        self._name = name
        self._organization: Organization | None = None
        self._own_account: str | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def organization(self) -> Organization:
        if self._organization is None:
            self._organization = self._call("read", lambda: _OrgReader(self._client).read())
        return self._organization

    def open_account(self, account: OrgAccount) -> LiveAccount | AccountReadFailure:
        role = self._members.role
        try:
            client = self._members.client(account.id, self._caller_account())
            state = LiveAccount(client, f"account {account.id}")
            state.snapshot()
        except AssumeRoleError as exc:
            return AccountReadFailure(
                account.id,
                f"{exc}: create the role {role.name!r} in account {account.id} with a trust "
                f"policy that lets this account assume it ({_SETUP})",
            )
        except AccountError as exc:
            return AccountReadFailure(
                account.id,
                f"{exc}: allow iam:GetAccountAuthorizationDetails to {role.arn(account.id)} "
                f"({_SETUP})",
            )
        except (ClientError, BotoCoreError) as exc:
            return AccountReadFailure(account.id, f"cannot read IAM: {describe_error(exc)}")
        return state

    def _caller_account(self) -> str | None:
        if self._members.own_iam is None:
            return None
        with self._lock:
            if self._own_account is None:
                identity = self._members.sts.get_caller_identity()
                self._own_account = str(identity["Account"])
            return self._own_account

    def _call(self, what: str, work: Any) -> Organization:
        try:
            found: Organization = work()
        except (ClientError, BotoCoreError) as exc:
            raise OrgError(
                f"{self._name}: cannot {what} the organization: {describe_error(exc)}"
            ) from exc
        return found


class _OrgReader:
    """One read of the organization's structure and policies."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._attached: dict[tuple[str, str], tuple[OrgPolicy, ...]] = {}
        self._policies: dict[str, OrgPolicy] = {}

    def read(self) -> Organization:
        described = self._client.describe_organization()["Organization"]
        root = self._client.list_roots()["Roots"][0]
        enabled = {
            item["Type"] for item in root.get("PolicyTypes") or [] if item["Status"] == "ENABLED"
        }
        accounts = []
        for account in self._accounts(OrgUnit(root["Id"], root.get("Name") or "Root")):
            tags = tuple(Tag(t["Key"], t.get("Value", "")) for t in self._tags(account.id))
            found = replace(account, tags=tags)
            accounts.append(replace(found, guardrails=self._guardrails(found, enabled)))
        return Organization(
            described["Id"], described["MasterAccountId"], tuple(sorted(accounts, key=_by_id))
        )

    def _pages(self, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        for page in self._client.get_paginator(operation).paginate(**arguments):
            yield from page.get(key) or []

    def _accounts(self, root: OrgUnit) -> Iterator[OrgAccount]:
        """Every account under the root, walking the OU tree one unit at a time."""
        waiting: list[tuple[OrgUnit, ...]] = [(root,)]
        while waiting:
            path = waiting.pop()
            parent = path[-1].id
            for item in self._pages("list_accounts_for_parent", "Accounts", ParentId=parent):
                status = item.get("Status") or item.get("State") or "ACTIVE"
                yield OrgAccount(item["Id"], item.get("Name") or "", str(status).upper(), path)
            units = self._pages(
                "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent
            )
            waiting.extend((*path, OrgUnit(u["Id"], u.get("Name") or u["Id"])) for u in units)

    def _tags(self, account_id: str) -> Iterator[dict[str, Any]]:
        return self._pages("list_tags_for_resource", "Tags", ResourceId=account_id)

    def _guardrails(self, account: OrgAccount, enabled: set[str]) -> OrgGuardrails:
        def levels(kind: str) -> tuple[PolicyLevel, ...]:
            if kind not in enabled:
                return ()
            return policy_levels(account, lambda target: self._attached_to(target, kind))

        return OrgGuardrails(scps=levels(SCP), rcps=levels(RCP))

    def _attached_to(self, target: str, kind: str) -> tuple[OrgPolicy, ...]:
        key = (target, kind)
        if key not in self._attached:
            summaries = self._pages(
                "list_policies_for_target", "Policies", TargetId=target, Filter=kind
            )
            self._attached[key] = tuple(self._policy(item["Id"]) for item in summaries)
        return self._attached[key]

    def _policy(self, policy_id: str) -> OrgPolicy:
        if policy_id not in self._policies:
            policy = self._client.describe_policy(PolicyId=policy_id)["Policy"]
            summary = policy["PolicySummary"]
            source = f"policy {summary.get('Name')} ({policy_id})"
            try:
                document = parse_policy(json.loads(policy["Content"]), source)
            except (ValueError, PolicyParseError) as exc:
                raise OrgError(f"{source}: its content is not a policy: {exc}") from exc
            self._policies[policy_id] = OrgPolicy(policy_id, summary.get("Name") or "", document)
        return self._policies[policy_id]


def _by_id(account: OrgAccount) -> str:
    return account.id
