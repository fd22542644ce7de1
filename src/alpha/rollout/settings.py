"""The settings of a rollout: plain values, kept apart from the code that uses them, so that
reading settings (every command does) loads no policy engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from alpha.rollout.scope import PrincipalScope

__all__ = ["DEFAULT_EXPIRY", "ApprovalPolicy", "RolloutSettings", "StageSettings"]

DEFAULT_EXPIRY = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class StageSettings:
    bake: timedelta = timedelta(hours=1)
    sandbox_lookback: timedelta = timedelta(days=30)
    max_would_be_denials: int = 0
    max_new_denials: int | None = 0
    max_error_rate: float | None = None
    canary_fraction: float = 0.5
    policy_name: str = "alpha-least-privilege"
    managed_path: str = "/alpha/"
    bakes: dict[str, timedelta] = field(default_factory=dict)

    def bake_of(self, stage: str) -> timedelta:
        return self.bakes.get(stage, self.bake)

    def to_payload(self) -> dict[str, Any]:
        """JSON for the journal: a rollout keeps the settings it started with."""
        return {
            "bake": self.bake.total_seconds(),
            "bakes": {stage: bake.total_seconds() for stage, bake in sorted(self.bakes.items())},
            "sandbox_lookback": self.sandbox_lookback.total_seconds(),
            "max_would_be_denials": self.max_would_be_denials,
            "max_new_denials": self.max_new_denials,
            "max_error_rate": self.max_error_rate,
            "canary_fraction": self.canary_fraction,
            "policy_name": self.policy_name,
            "managed_path": self.managed_path,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StageSettings:
        return cls(
            bake=timedelta(seconds=payload["bake"]),
            bakes={k: timedelta(seconds=v) for k, v in payload["bakes"].items()},
            sandbox_lookback=timedelta(seconds=payload["sandbox_lookback"]),
            max_would_be_denials=payload["max_would_be_denials"],
            max_new_denials=payload["max_new_denials"],
            max_error_rate=payload["max_error_rate"],
            canary_fraction=payload["canary_fraction"],
            policy_name=payload["policy_name"],
            managed_path=payload["managed_path"],
        )


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """`approvers`: who may decide (empty: anyone). `separation_of_duties`: the proposer may
    not approve their own proposal (they may still reject it)."""

    expiry: timedelta = DEFAULT_EXPIRY
    approvers: frozenset[str] = frozenset()
    separation_of_duties: bool = True


@dataclass(frozen=True, slots=True)
class RolloutSettings:
    stages: StageSettings = field(default_factory=StageSettings)
    approval: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    poll_interval: timedelta = timedelta(seconds=30)
    max_wait: timedelta = timedelta(hours=2)
    # Checked with the settings in force (not the ones a rollout started with): a narrower
    # scope applies at once.
    scope: PrincipalScope = field(default_factory=PrincipalScope)
