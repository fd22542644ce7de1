"""Principals: roles from their session issuer, users, root, federated users; services none."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from alpha.usage.events import UserIdentity
from alpha.usage.principals import Principal, PrincipalCache, principal_of


def identity(**raw: Any) -> UserIdentity:
    return msgspec.convert(raw, UserIdentity)


def assumed(session_arn: str, issuer_arn: str | None = None) -> UserIdentity:
    context = {"sessionIssuer": {"type": "Role", "arn": issuer_arn}} if issuer_arn else {}
    return identity(type="AssumedRole", arn=session_arn, sessionContext=context)


APP = "arn:aws:iam::111:role/app"
SSO_NAME = "AWSReservedSSO_Admin_0123abcd"
SSO = f"arn:aws:iam::111:role/aws-reserved/sso.amazonaws.com/{SSO_NAME}"
STORE = "arn:aws:identitystore::111:identitystore/d-1234567890"

CASES = [
    (
        assumed("arn:aws:sts::111:assumed-role/app/i-0abc", "arn:aws:iam::111:role/app"),
        Principal("arn:aws:iam::111:role/app", None),
    ),
    # the issuer keeps the role's path
    (
        assumed(
            "arn:aws:sts::111:assumed-role/app/botocore-session-1", "arn:aws:iam::111:role/svc/app"
        ),
        Principal("arn:aws:iam::111:role/svc/app", None),
    ),
    # no issuer: normalised from the session ARN
    (
        assumed("arn:aws:sts::111:assumed-role/app/4f1c0e2d"),
        Principal("arn:aws:iam::111:role/app", None),
    ),
    (
        assumed("arn:aws-cn:sts::111:assumed-role/app/x"),
        Principal("arn:aws-cn:iam::111:role/app", None),
    ),
    # Identity Center: the session is the person
    (
        assumed(
            "arn:aws:sts::111:assumed-role/AWSReservedSSO_Admin_0123abcd/jane",
            "arn:aws:iam::111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd",
        ),
        Principal(
            "arn:aws:iam::111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd",
            "jane",
        ),
    ),
    # a federated person assuming a shared role
    (
        assumed(
            "arn:aws:sts::111:assumed-role/Admin/jack@example.com", "arn:aws:iam::111:role/Admin"
        ),
        Principal("arn:aws:iam::111:role/Admin", "jack@example.com"),
    ),
    # the stronger identities, when present: a source identity first (it survives role
    # chaining), then the Identity Center session, then an identity-enhanced session's user
    (
        identity(
            type="AssumedRole",
            arn="arn:aws:sts::111:assumed-role/deploy/botocore-session-1",
            sessionContext={"sourceIdentity": "jane@example.com", "sessionIssuer": {"arn": APP}},
        ),
        Principal(APP, "jane@example.com"),
    ),
    (
        identity(
            type="AssumedRole",
            arn=f"arn:aws:sts::111:assumed-role/{SSO_NAME}/jane",
            sessionContext={"sourceIdentity": "jdoe", "sessionIssuer": {"arn": SSO}},
            onBehalfOf={"userId": "9067b4f0-1234", "identityStoreArn": STORE},
        ),
        Principal(SSO, "jdoe"),
    ),
    (
        identity(
            type="AssumedRole",
            arn=f"arn:aws:sts::111:assumed-role/{SSO_NAME}/jane",
            sessionContext={"sessionIssuer": {"arn": SSO}},
            onBehalfOf={"userId": "9067b4f0-1234", "identityStoreArn": STORE},
        ),
        Principal(SSO, "jane"),
    ),
    (
        identity(
            type="AssumedRole",
            arn="arn:aws:sts::111:assumed-role/analyst/example-user-1",
            sessionContext={"sessionIssuer": {"arn": APP}},
            onBehalfOf={"userId": "9067b4f0-1234", "identityStoreArn": STORE},
        ),
        Principal(APP, "identitystore:9067b4f0-1234"),
    ),
    (
        identity(type="IAMUser", arn="arn:aws:iam::111:user/bert"),
        Principal("arn:aws:iam::111:user/bert", None),
    ),
    (
        identity(type="IAMUser", accountId="111", userName="bert"),
        Principal("arn:aws:iam::111:user/bert", None),
    ),
    (identity(type="Root", arn="arn:aws:iam::111:root"), Principal("arn:aws:iam::111:root", None)),
    (identity(type="Root", accountId="111"), Principal("arn:aws:iam::111:root", None)),
    (
        identity(type="FederatedUser", arn="arn:aws:sts::111:federated-user/bob"),
        Principal("arn:aws:sts::111:federated-user/bob", None),
    ),
]


@pytest.mark.parametrize(("who", "expected"), CASES, ids=lambda v: str(v)[:70])
def test_principal_of(who: UserIdentity, expected: Principal) -> None:
    assert principal_of(who) == expected


@pytest.mark.parametrize(
    "who",
    [
        None,
        identity(type="AWSService", invokedBy="lambda.amazonaws.com"),
        identity(type="AWSAccount", accountId="222"),
        identity(type="Unknown", userName="someone"),
        identity(),
        identity(type="AssumedRole", arn="not-an-arn"),
        identity(type="AssumedRole"),
        identity(type="IAMUser"),
        identity(type="FederatedUser"),
    ],
)
def test_no_principal(who: UserIdentity | None) -> None:
    assert principal_of(who) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            identity(type="IAMUser", arn="arn:odd", accountId="111122223333", userName="alice"),
            identity(type="IAMUser", arn="arn:odd", accountId="111122223333", userName="bob"),
        ),
        (
            identity(type="AssumedRole", arn="arn:aws:sts::111:assumed-role/app/s1"),
            identity(
                type="AssumedRole",
                arn="arn:aws:sts::111:assumed-role/app/s1",
                sessionContext={"sourceIdentity": "ann"},
            ),
        ),
        (
            identity(type="AssumedRole", arn="arn:aws:sts::111:assumed-role/app/s1"),
            identity(
                type="AssumedRole",
                arn="arn:aws:sts::111:assumed-role/app/s1",
                onBehalfOf={"userId": "u-1"},
            ),
        ),
        (
            identity(type="Root", arn="arn:odd", accountId="111122223333"),
            identity(type="Root", arn="arn:odd", accountId="444455556666"),
        ),
    ],
)
def test_the_cache_answers_as_principal_of_whatever_came_before(
    first: UserIdentity, second: UserIdentity
) -> None:
    """An ARN of an odd shape does not decide alone: the account and user name do."""
    cache = PrincipalCache()
    assert cache.of(first) == principal_of(first)
    assert cache.of(second) == principal_of(second)
    assert principal_of(first) != principal_of(second)
