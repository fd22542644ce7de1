"""An organization as a folder: `organization.json` and one authorization-details file per
account (docs/org.md). `alpha org export` writes it from Organizations; `--org DIR` reads it
exactly as `--org aws` reads the live organization.

    DIR/organization.json        {"Id", "ManagementAccountId", "Units", "Accounts", "Policies"}
    DIR/accounts/<id>.json       `aws iam get-account-authorization-details` of that account

organization.json is untrusted input: pydantic checks it and an error names the file and the
field (`Accounts[1].ParentId`). An account without its file is a read failure, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alpha.account.errors import AccountError
from alpha.account.model import Tag
from alpha.adapters.local.authorization_details import AuthorizationDetailsFile
from alpha.org.errors import OrgError
from alpha.org.levels import policy_levels
from alpha.org.model import AccountReadFailure, OrgAccount, Organization, OrgUnit
from alpha.policy.errors import PolicyParseError
from alpha.policy.model import Policy
from alpha.policy.org_policies import OrgGuardrails, OrgPolicy, PolicyLevel
from alpha.policy.parse import parse_policy
from alpha.policy.serialize import to_document
from alpha.policy.user_files import InputTextError, decode_json, one_line, read_input, shown

__all__ = [
    "ORGANIZATION_FILE",
    "FolderAccount",
    "OrgFolder",
    "account_file",
    "organization_document",
    "write_org_folder",
]

ORGANIZATION_FILE = "organization.json"
ACCOUNTS = "accounts"
SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Unit(_Model):
    Id: str = Field(pattern=r"^(r-|ou-)[0-9a-z-]+$")
    Name: str
    ParentId: str | None = None


class _Tag(_Model):
    Key: str
    Value: str = ""


class _Account(_Model):
    Id: str = Field(pattern=r"^\d{12}$")
    Name: str = ""
    Status: str = "ACTIVE"
    ParentId: str
    Tags: list[_Tag] = Field(default_factory=list)


class _Policy(_Model):
    Id: str
    Name: str
    Type: str = Field(pattern=f"^({SCP}|{RCP})$")
    Content: dict[str, Any] | str
    Targets: list[str] = Field(default_factory=list)


class _Organization(_Model):
    Id: str = Field(pattern=r"^o-[0-9a-z]+$")
    ManagementAccountId: str = Field(pattern=r"^\d{12}$")
    Units: list[_Unit] = Field(min_length=1)
    Accounts: list[_Account] = Field(default_factory=list)
    Policies: list[_Policy] = Field(default_factory=list)


def account_file(folder: Path, account_id: str) -> Path:
    return folder / ACCOUNTS / f"{account_id}.json"


class FolderAccount(AuthorizationDetailsFile):
    """One account's file, as `AccountState` and as its decoded document."""

    def document(self) -> object:
        path = Path(self.name)
        try:
            return decode_json(read_input(path, AccountError))
        except InputTextError as exc:
            raise AccountError(f"{shown(path)}: {exc}") from exc


class OrgFolder:
    """`OrganizationSource` over a folder; organization.json is read once, on first use."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._organization: Organization | None = None

    @property
    def name(self) -> str:
        return str(self._path)

    def organization(self) -> Organization:
        if self._organization is None:
            self._organization = _read(self._path / ORGANIZATION_FILE)
        return self._organization

    def open_account(self, account: OrgAccount) -> FolderAccount | AccountReadFailure:
        path = account_file(self._path, account.id)
        if not path.is_file():
            return AccountReadFailure(
                account.id,
                f"no file {shown(path)}: write it with `aws iam get-account-authorization-"
                f"details` in account {account.id} (or `alpha org export`)",
            )
        state = FolderAccount(path)
        try:
            state.snapshot()
        except AccountError as exc:
            return AccountReadFailure(account.id, str(exc))
        return state


def _read(path: Path) -> Organization:
    text = read_input(path, OrgError)
    try:
        data = decode_json(text)
    except InputTextError as exc:
        raise OrgError(f"{shown(path)}: {exc}") from exc
    try:
        model = _Organization.model_validate(data)
    except ValidationError as exc:
        raise OrgError(_described(path, exc)) from exc
    return _Builder(path, model).organization()


def _described(path: Path, exc: ValidationError) -> str:
    error = exc.errors()[0]
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return one_line(f"{shown(path)}: {_field(error['loc'])}: {error['msg']}{more}")


def _field(location: Iterable[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(the document)"


class _Builder:
    """organization.json's model as values, every reference checked."""

    def __init__(self, path: Path, model: _Organization) -> None:
        self._path = path
        self._model = model
        self._units = {unit.Id: unit for unit in model.Units}
        roots = [unit for unit in model.Units if unit.ParentId is None]
        if len(roots) != 1:
            self._fail("Units", f"exactly one unit without ParentId (the root), found {len(roots)}")
        for number, unit in enumerate(model.Units):
            if unit.ParentId is not None:
                self._known_unit(unit.ParentId, f"Units[{number}].ParentId")
        self._attached = {SCP: self._policies(SCP), RCP: self._policies(RCP)}

    def _fail(self, where: str, message: str) -> NoReturn:
        raise OrgError(one_line(f"{shown(self._path)}: {where}: {message}"))

    def _known_unit(self, unit_id: str, where: str) -> None:
        if unit_id not in self._units:
            self._fail(where, f"{unit_id!r} is not the Id of any of Units")

    def _policies(self, kind: str) -> dict[str, list[OrgPolicy]]:
        accounts = {account.Id for account in self._model.Accounts}
        attached: dict[str, list[OrgPolicy]] = {}
        for number, item in enumerate(self._model.Policies):
            if item.Type != kind:
                continue
            policy = OrgPolicy(item.Id, item.Name, self._document(item, f"Policies[{number}]"))
            for place, target in enumerate(item.Targets):
                if target not in self._units and target not in accounts:
                    where = f"Policies[{number}].Targets[{place}]"
                    self._fail(where, f"{target!r} is neither a unit nor an account")
                attached.setdefault(target, []).append(policy)
        return attached

    def _document(self, item: _Policy, where: str) -> Policy:
        content: object = item.Content
        try:
            if isinstance(content, str):
                content = decode_json(content)
            return parse_policy(content, f"{shown(self._path)}: {where}.Content")
        except InputTextError as exc:
            self._fail(f"{where}.Content", str(exc))
        except PolicyParseError as exc:
            raise OrgError(one_line(str(exc))) from exc

    def _path_of(self, parent: str, where: str) -> tuple[OrgUnit, ...]:
        self._known_unit(parent, where)
        path: list[OrgUnit] = []
        current: str | None = parent
        while current is not None:
            unit = self._units[current]
            if any(u.id == unit.Id for u in path):
                self._fail(where, f"the units above {parent!r} form a cycle")
            path.append(OrgUnit(unit.Id, unit.Name))
            current = unit.ParentId
        return tuple(reversed(path))

    def _account(self, number: int, item: _Account) -> OrgAccount:
        path = self._path_of(item.ParentId, f"Accounts[{number}].ParentId")
        tags = tuple(Tag(t.Key, t.Value) for t in item.Tags)
        bare = OrgAccount(item.Id, item.Name, item.Status, path, tags)
        return replace(bare, guardrails=self._guardrails(bare))

    def _guardrails(self, account: OrgAccount) -> OrgGuardrails:
        def levels(kind: str) -> tuple[PolicyLevel, ...]:
            attached = self._attached[kind]
            if not attached:
                return ()  # no policy of the type at all: the type is not enabled
            return policy_levels(account, lambda target: tuple(attached.get(target, ())))

        return OrgGuardrails(scps=levels(SCP), rcps=levels(RCP))

    def organization(self) -> Organization:
        model = self._model
        accounts = tuple(self._account(n, a) for n, a in enumerate(model.Accounts))
        return Organization(model.Id, model.ManagementAccountId, accounts)


def organization_document(organization: Organization) -> dict[str, Any]:
    """organization.json for these accounts: the units on their paths, the policies attached
    on their levels (a type with no level at all is left out: not enabled)."""
    units: dict[str, dict[str, Any]] = {}
    policies: dict[tuple[str, str], dict[str, Any]] = {}
    accounts = []
    for account in organization.accounts:
        parent = None
        for unit in account.path:
            units.setdefault(unit.id, _unit(unit, parent))
            parent = unit.id
        accounts.append(_account_entry(account, parent))
        for kind, levels in ((SCP, account.guardrails.scps), (RCP, account.guardrails.rcps)):
            for level in levels:
                for policy in level.policies:
                    entry = policies.setdefault((kind, policy.id), _policy(kind, policy))
                    if level.target_id not in entry["Targets"]:
                        entry["Targets"].append(level.target_id)
    return {
        "Id": organization.id,
        "ManagementAccountId": organization.management_account,
        "Units": list(units.values()),
        "Accounts": accounts,
        "Policies": list(policies.values()),
    }


def _unit(unit: OrgUnit, parent: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": unit.id, "Name": unit.name}
    if parent is not None:
        entry["ParentId"] = parent
    return entry


def _account_entry(account: OrgAccount, parent: str | None) -> dict[str, Any]:
    return {
        "Id": account.id,
        "Name": account.name,
        "Status": account.status,
        "ParentId": parent,
        "Tags": [{"Key": t.key, "Value": t.value} for t in account.tags],
    }


def _policy(kind: str, policy: OrgPolicy) -> dict[str, Any]:
    return {
        "Id": policy.id,
        "Name": policy.name,
        "Type": kind,
        "Content": to_document(policy.document),
        "Targets": [],
    }


def write_org_folder(
    folder: Path, organization: Organization, documents: Iterable[tuple[str, object]]
) -> list[str]:
    """Write organization.json and each `(account id, authorization details)`; the ids
    written, in order."""
    try:
        (folder / ACCOUNTS).mkdir(parents=True, exist_ok=True)
        text = json.dumps(organization_document(organization), indent=2)
        (folder / ORGANIZATION_FILE).write_text(text + "\n", encoding="utf-8")
        written = []
        for account_id, document in documents:
            account_file(folder, account_id).write_text(json.dumps(document), encoding="utf-8")
            written.append(account_id)
    except OSError as exc:
        raise OrgError(f"{shown(folder)}: cannot write: {exc.strerror or exc}") from exc
    return written
