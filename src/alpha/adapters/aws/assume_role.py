"""Credentials in another account: a boto3 session on a role assumed there.

Organizations-wide work reads and changes IAM through a role in each member account
(`OrganizationAccountAccessRole` or a role made for ALPHA). The assumed session is a plain
`boto3.Session`, so every adapter that takes a client works unchanged in any account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from alpha.adapters.aws.clients import describe_error
from alpha.org.errors import OrgError

__all__ = ["AssumeRoleError", "RoleInAccounts", "assumed_session"]

_SESSION_NAME = "alpha"


class AssumeRoleError(OrgError):
    """STS refused the role (it is missing, or its trust policy does not name the caller)."""


@dataclass(frozen=True, slots=True)
class RoleInAccounts:
    """The role ALPHA assumes in each member account: its name (or path/name), the partition,
    and the external id its trust policy may require."""

    name: str
    partition: str = "aws"
    external_id: str | None = None

    def arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.name.strip('/')}"


def assumed_session(
    sts: Any, role: RoleInAccounts, account_id: str, *, session_name: str = _SESSION_NAME
) -> Any:
    """A `boto3.Session` with the role's temporary credentials in `account_id`.

    `sts` is the caller's STS client (its endpoint and adaptive retries apply); the session's
    clients resolve endpoints as any client does, `AWS_ENDPOINT_URL_<SERVICE>` included."""
    arguments: dict[str, Any] = {"RoleArn": role.arn(account_id), "RoleSessionName": session_name}
    if role.external_id:
        arguments["ExternalId"] = role.external_id
    try:
        answer = sts.assume_role(**arguments)
    except (ClientError, BotoCoreError) as error:
        raise AssumeRoleError(
            f"cannot assume {arguments['RoleArn']}: {describe_error(error)}"
        ) from error
    credentials = answer["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=sts.meta.region_name,
    )
