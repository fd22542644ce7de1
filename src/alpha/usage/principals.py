"""Who made a CloudTrail call, as the IAM principal whose policies allowed it.

AssumedRole -> the role (`sessionIssuer.arn`, which keeps the role's path), IAMUser -> the user,
Root -> `arn:PARTITION:iam::ACCOUNT:root`, FederatedUser -> its federated-user ARN. Calls made by
AWS services (`AWSService`), by another account (`AWSAccount`) or without an identity have no
principal whose policy we could tighten, so they yield None.

Sessions: a role shared by people is worth breaking down per person, a machine role is not.
The rule: keep the session name when the role is an IAM Identity Center role
(`AWSReservedSSO_*`, whose session name is the user's name) or when the session name looks like
a person (contains `@`, as SAML / OIDC federation usually sets the e-mail). Every other session
name is dropped: Lambda, ECS, EC2 and SDK sessions are function names, task ids, instance ids or
`botocore-session-<n>`, which would split one workload into thousands of "users".
"""

from __future__ import annotations

import msgspec

from alpha.usage.events import UserIdentity

_SSO_ROLE_PREFIX = "AWSReservedSSO_"
_MAX_CACHED = 100_000


class Principal(msgspec.Struct, frozen=True, gc=False):
    """A msgspec struct: one is built per event, cheaply."""

    arn: str
    session: str | None


class PrincipalCache:
    """`principal_of` with a bounded memo: a log holds few distinct identities, each seen
    thousands of times."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[tuple[str | None, ...], Principal | None] = {}

    def of(self, identity: UserIdentity | None) -> Principal | None:
        if identity is None:
            return None
        key = principal_key(identity)
        try:
            return self._known[key]
        except KeyError:
            pass
        if len(self._known) >= _MAX_CACHED:
            self._known.clear()
        found = self._known[key] = principal_of(identity)
        return found


def principal_key(identity: UserIdentity) -> tuple[str | None, ...]:
    """Every field `principal_of` reads (a user or root ARN of an odd shape falls back on the
    account and user name, so the ARN alone does not decide); the ingest groups events by
    them (`fast_tally`, and the C scanner's identity fields: keep both in step)."""
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    return (
        identity.type,
        identity.arn,
        issuer.arn if issuer is not None else None,
        identity.accountId,
        identity.userName,
    )


def principal_of(identity: UserIdentity | None) -> Principal | None:
    """The principal of a call, or None when no IAM principal of an account made it."""
    if identity is None:
        return None
    kind = identity.type
    if kind == "AssumedRole":
        return _assumed_role(identity)
    if kind == "IAMUser":
        return _user(identity)
    if kind == "Root":
        return _root(identity)
    if kind == "FederatedUser":
        arn = identity.arn
        return Principal(arn, None) if arn and arn.startswith("arn:") else None
    return None


def _assumed_role(identity: UserIdentity) -> Principal | None:
    session_arn = identity.arn or ""
    # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    head, _, resource = session_arn.partition(":assumed-role/")
    role_name, _, session = resource.partition("/")
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    role_arn = issuer.arn if issuer is not None else None
    if not role_arn or ":role/" not in role_arn:
        if not (head.startswith("arn:") and role_name):
            return None
        partition, _, account = _partition_account(head)
        role_arn = f"arn:{partition}:iam::{account}:role/{role_name}"
    else:
        role_name = role_arn.rpartition("/")[2]
    keep = role_name.startswith(_SSO_ROLE_PREFIX) or "@" in session
    return Principal(role_arn, session if keep and session else None)


def _partition_account(sts_head: str) -> tuple[str, str, str]:
    """`arn:aws:sts::123456789012` -> (partition, service, account)."""
    parts = sts_head.split(":")
    partition = parts[1] if len(parts) > 1 and parts[1] else "aws"
    account = parts[4] if len(parts) > 4 else ""
    return partition, "sts", account


def _user(identity: UserIdentity) -> Principal | None:
    arn = identity.arn
    if arn and ":user/" in arn:
        return Principal(arn, None)
    if identity.accountId and identity.userName:
        return Principal(f"arn:aws:iam::{identity.accountId}:user/{identity.userName}", None)
    return None


def _root(identity: UserIdentity) -> Principal | None:
    arn = identity.arn
    if arn and arn.endswith(":root"):
        return Principal(arn, None)
    if identity.accountId:
        return Principal(f"arn:aws:iam::{identity.accountId}:root", None)
    return None
