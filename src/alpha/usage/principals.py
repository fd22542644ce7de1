"""Who made a CloudTrail call, as an IAM principal ARN (and a session, for shared roles)."""

from __future__ import annotations

from dataclasses import dataclass

from alpha.usage.events import UserIdentity


@dataclass(frozen=True, slots=True)
class Principal:
    arn: str
    session: str | None


def principal_of(identity: UserIdentity | None) -> Principal | None:
    raise NotImplementedError
