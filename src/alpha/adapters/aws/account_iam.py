"""The IAM changer of one account of an organisation: the caller's own account through the
caller's credentials, any other through the organisation role assumed there.

A fleet rollout changes the same role in many accounts; each account's changes go to its own
`LiveIam`, which checks (once, before its first call) that its credentials are that account's.
An account whose role cannot be assumed fails with `AssumeRoleError` when first asked, which
is before any change: a rollout reads every target's state before it changes one."""

from __future__ import annotations

from typing import Any

from alpha.adapters.aws.assume_role import RoleInAccounts, assumed_session
from alpha.adapters.aws.clients import retry_config
from alpha.adapters.aws.iam_changer import LiveIam

__all__ = ["account_iam"]


def account_iam(sts: Any, iam: Any, account_id: str, role: RoleInAccounts) -> LiveIam:
    """`iam` and `sts` are the caller's clients; for another account, clients on a session in
    it (their endpoints resolved as any client's, `AWS_ENDPOINT_URL_<SERVICE>` included)."""
    caller = str(sts.get_caller_identity()["Account"])
    if caller == account_id:
        return LiveIam(iam, account_id, identity=lambda: caller)
    session = assumed_session(sts, role, account_id)
    member_iam = session.client("iam", config=retry_config())
    member_sts = session.client("sts", config=retry_config())
    return LiveIam(
        member_iam,
        account_id,
        identity=lambda: str(member_sts.get_caller_identity()["Account"]),
    )
