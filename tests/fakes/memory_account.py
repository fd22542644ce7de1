"""`MemoryAccount`: the `AccountState` port over a snapshot held in memory."""

from __future__ import annotations

from alpha.account import AccountSnapshot, EffectivePolicies, Principal


class MemoryAccount:
    """Hands out the snapshot it was given, as an adapter hands out the one it loaded."""

    def __init__(self, snapshot: AccountSnapshot, name: str = "memory") -> None:
        self._snapshot = snapshot
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def snapshot(self) -> AccountSnapshot:
        return self._snapshot

    def principal(self, arn: str) -> Principal:
        return self._snapshot.principal(arn)

    def effective_policies(self, arn: str) -> EffectivePolicies:
        return self._snapshot.effective_policies(arn)
