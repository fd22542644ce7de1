"""The same role in many accounts (a StackSet, a landing-zone role): one fleet, proposed once
and rolled out as one rollout.

A fleet is the role of one path and name in each account given, in the order given (the
canary's accounts first). It is proposed once only when every copy has the same policies: the
same inline documents under the same names, the same managed policies (by path and name, with
the same default documents), the same boundary. Copies that differ would each need their own
proposal (one policy written from the union of their usage could widen what one of them may
do, or remove what another needs), so a fleet whose copies differ is refused, naming each
account that differs from the first and how; propose those accounts on their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alpha.account.model import AccountSnapshot, EffectivePolicies, Role
from alpha.org.errors import OrgError
from alpha.policy.model import Policy

__all__ = ["FleetError", "FleetRole", "fleet_role", "has_role"]


class FleetError(OrgError):
    """The role is not one fleet: missing in an account, or its copies' policies differ."""


@dataclass(frozen=True, slots=True)
class FleetRole:
    """The role (`path/name` as asked) and its ARN in each account, in rollout order."""

    role: str
    targets: tuple[str, ...]

    @property
    def lead(self) -> str:
        """The first account's copy: the proposal is made for it and recorded under it."""
        return self.targets[0]

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(t.split(":")[4] for t in self.targets)


Fingerprint = dict[str, Policy | str | None]
"""A copy's policies by where they come from (account ids written as `<account>`)."""


def fleet_role(role: str, snapshots: Sequence[AccountSnapshot]) -> FleetRole:
    """The fleet of `role` (`name`, or `/path/name`) over the accounts, in their order;
    `FleetError` naming the accounts without it, or whose copy's policies differ."""
    if len(snapshots) < 2:
        raise FleetError(f"role {role}: a fleet needs two accounts or more")
    found = [(_account(s), _find(role, s)) for s in snapshots]
    _check_distinct([account for account, _ in found])
    missing = [account for account, copy in found if copy is None]
    if missing:
        raise FleetError(
            f"role {role} is not in account(s) {', '.join(missing)}; leave them out to "
            "propose for the others"
        )
    copies = [(account, copy, s) for (account, copy), s in zip(found, snapshots, strict=True)]
    first_account, first_role, first_snapshot = copies[0]
    assert first_role is not None
    reference = fingerprint(first_snapshot, first_role.arn, first_account)
    differing: list[str] = []
    for account, copy, snapshot in copies[1:]:
        assert copy is not None
        changes = _differences(reference, fingerprint(snapshot, copy.arn, account))
        if changes:
            differing.append(f"{account} ({'; '.join(changes)})")
    if differing:
        raise FleetError(
            f"role {role}: the policies of its copies differ from account {first_account}'s "
            f"in {', '.join(differing)}; a fleet is proposed once only for identical copies, "
            "so propose those accounts on their own"
        )
    return FleetRole(role, tuple(copy.arn for _, copy, _ in copies if copy is not None))


def fingerprint(snapshot: AccountSnapshot, arn: str, account: str) -> Fingerprint:
    """What the copy is granted, keyed by origin with the account's own id written out."""
    effective: EffectivePolicies = snapshot.effective_policies(arn)
    found: Fingerprint = {}
    for applied in effective.identity:
        origin = applied.origin
        where = _general(origin.arn, account) if origin.arn else f"inline policy {origin.name!r}"
        found[where] = applied.document
    for unresolved in effective.unresolved:
        found[_general(f"unresolved {unresolved.describe()}", account)] = None
    boundary = _general(effective.boundary_arn, account) if effective.boundary_arn else "none"
    found[f"boundary {boundary}"] = effective.boundary
    return found


def _differences(reference: Fingerprint, other: Fingerprint) -> list[str]:
    changes = [f"no {key}" for key in reference if key not in other]
    changes += [f"also {key}" for key in other if key not in reference]
    changes += [
        f"{key} differs" for key in reference if key in other and reference[key] != other[key]
    ]
    return changes


def has_role(role: str, snapshot: AccountSnapshot) -> bool:
    """The account holds the role (`name` or `/path/name`)."""
    return _find(role, snapshot) is not None


def _find(role: str, snapshot: AccountSnapshot) -> Role | None:
    path, _, name = role.strip().rpartition("/")
    wanted_path = f"/{path.strip('/')}/".replace("//", "/") if path else None
    for candidate in snapshot.roles:
        if candidate.name.lower() == name.lower() and wanted_path in (None, candidate.path):
            return candidate
    return None


def _account(snapshot: AccountSnapshot) -> str:
    if snapshot.account_id:
        return snapshot.account_id
    arns = [p.arn for p in snapshot.principals]
    if not arns:
        raise FleetError(f"{snapshot.source}: no account id and no principal to read one from")
    return arns[0].split(":")[4]


def _check_distinct(accounts: list[str]) -> None:
    seen: set[str] = set()
    for account in accounts:
        if account in seen:
            raise FleetError(f"account {account} is given twice: a fleet has one copy per account")
        seen.add(account)


def _general(arn: str, account: str) -> str:
    """The ARN with the account's own id as `<account>`: the same policy in every account."""
    return arn.replace(f":{account}:", ":<account>:")
