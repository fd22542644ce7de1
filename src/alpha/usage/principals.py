"""Who made a CloudTrail call, as the IAM principal whose policies allowed it.

AssumedRole -> the role (`sessionIssuer.arn`, which keeps the role's path), IAMUser -> the user,
Root -> `arn:PARTITION:iam::ACCOUNT:root`, FederatedUser -> its federated-user ARN. Calls made by
AWS services (`AWSService`), by another account (`AWSAccount`) or without an identity have no
principal whose policy we could tighten, so they yield None.

Sessions: a role shared by people is worth breaking down per person, a machine role is not.
`Principal.session` is that person (see docs/people.md), the first of:
1. `sessionContext.sourceIdentity`: set at the first AssumeRole of a chain and kept, unchanged,
   by every role the chain assumes next, so it still names the person two roles later;
2. the session name of an IAM Identity Center role (`AWSReservedSSO_*`): Identity Center sets
   it to the user's name, the user cannot choose it;
3. `onBehalfOf.userId`: the identity store user id of an identity-enhanced session (trusted
   identity propagation), as `identitystore:<user id>` (an id, not a name);
4. a session name that looks like a person (contains `@`, as SAML / OIDC federation usually
   sets the e-mail).
Every other session name is dropped: Lambda, ECS, EC2 and SDK sessions are function names, task
ids, instance ids or `botocore-session-<n>`, which would split one workload into thousands of
"users".
"""

from __future__ import annotations

import msgspec

from alpha.usage.events import UserIdentity

__all__ = ["IDENTITY_STORE_PREFIX", "Principal", "PrincipalCache", "principal_of"]

_SSO_ROLE_PREFIX = "AWSReservedSSO_"
IDENTITY_STORE_PREFIX = "identitystore:"
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
        context.sourceIdentity if context is not None else None,
        identity.onBehalfOf.userId if identity.onBehalfOf is not None else None,
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
    return Principal(role_arn, person_of(identity, role_name, session))


def person_of(identity: UserIdentity, role_name: str, session: str) -> str | None:
    """Who acts in a role session, by the rule in the module docstring; None for a workload."""
    context = identity.sessionContext
    if context is not None and context.sourceIdentity:
        return context.sourceIdentity
    if session and role_name.startswith(_SSO_ROLE_PREFIX):
        return session
    behalf = identity.onBehalfOf
    if behalf is not None and behalf.userId:
        return IDENTITY_STORE_PREFIX + behalf.userId
    return session if "@" in session else None


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
