"""The SCP or RCP levels over one account, from what is attached to each target.

Both readers (Organizations and the folder) know, per target (the root, an OU, an account),
which policies are attached; the levels follow the account's path: the root, each OU down to
its parent, then the account itself. A level with nothing of the type attached stays, empty:
with the type enabled, it allows nothing (AWS denies everything under it).
"""

from __future__ import annotations

from collections.abc import Callable

from alpha.org.model import OrgAccount, OrgUnit
from alpha.policy.org_policies import LevelKind, OrgPolicy, PolicyLevel

__all__ = ["Attached", "policy_levels"]

Attached = Callable[[str], tuple[OrgPolicy, ...]]
"""The policies of one type attached to a target id."""


def policy_levels(account: OrgAccount, attached: Attached) -> tuple[PolicyLevel, ...]:
    """Root first, then each OU of the path, then the account."""
    levels = [_level(unit, number, attached) for number, unit in enumerate(account.path)]
    levels.append(PolicyLevel(LevelKind.ACCOUNT, account.id, account.name, attached(account.id)))
    return tuple(levels)


def _level(unit: OrgUnit, number: int, attached: Attached) -> PolicyLevel:
    kind = LevelKind.ROOT if number == 0 else LevelKind.OU
    return PolicyLevel(kind, unit.id, unit.name, attached(unit.id))
