"""Benchmark: `alpha account show` on a large account (issue 11: "takes 82 s for 200,000 roles").

The account is generated, in the shape `aws iam get-account-authorization-details` writes:
ROLES roles, each with a trust policy, one inline policy and two attached managed policies (one
of 2,000 customer-managed policies, one of four AWS-managed ones), one in ten with a permissions
boundary; 1,000 users in 50 groups; the managed policies with their default version.

Reported: seconds to write the file, then for `account show` (table, and `--format json`) the
wall time of the whole command in-process, with stdout sent to a file as a user would redirect
it, and a digest of that output so that runs before and after a change can be compared.

Run: .venv/bin/python benchmarks/bench_account.py [--roles 200000] [--profile]
(`--profile` prints the 25 costliest functions of the table run under cProfile.)
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import sys
import tempfile
import time
import zlib
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
AWS_MANAGED = (
    "ReadOnlyAccess",
    "AmazonS3ReadOnlyAccess",
    "CloudWatchLogsFullAccess",
    "AWSXRayDaemonWriteAccess",
)
CUSTOMER_POLICIES = 2_000
USERS = 1_000
GROUPS = 50
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _document(n: int) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::bucket-{n}/*",
            },
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:*:{ACCOUNT}:q-{n}",
            },
        ],
    }


def _attached(n: int) -> list[dict[str, str]]:
    return [
        {"PolicyName": f"app-{n}", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/app-{n}"},
        {
            "PolicyName": AWS_MANAGED[n % len(AWS_MANAGED)],
            "PolicyArn": f"arn:aws:iam::aws:policy/{AWS_MANAGED[n % len(AWS_MANAGED)]}",
        },
    ]


def _role(i: int) -> dict[str, Any]:
    role: dict[str, Any] = {
        "Path": "/service-role/" if i % 3 else "/",
        "RoleName": f"role-{i}",
        "RoleId": f"AROA{i:016d}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{'/service-role' if i % 3 else ''}/role-{i}",
        "CreateDate": "2024-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": TRUST,
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": f"inline-{i}", "PolicyDocument": _document(i)}],
        "AttachedManagedPolicies": _attached(i % CUSTOMER_POLICIES),
        "Tags": [{"Key": "team", "Value": f"t{i % 40}"}],
        "RoleLastUsed": {"LastUsedDate": "2026-10-01T00:00:00Z", "Region": "us-east-1"},
    }
    if i % 10 == 0:
        boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
        role["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": boundary,
        }
    return role


def _user(i: int) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": f"user-{i}",
        "UserId": f"AIDA{i:016d}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/user-{i}",
        "CreateDate": "2024-01-01T00:00:00Z",
        "UserPolicyList": [],
        "GroupList": [f"group-{i % GROUPS}"],
        "AttachedManagedPolicies": _attached(i % CUSTOMER_POLICIES)[:1],
        "Tags": [],
    }


def _group(i: int) -> dict[str, Any]:
    return {
        "Path": "/",
        "GroupName": f"group-{i}",
        "GroupId": f"AGPA{i:016d}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/group-{i}",
        "CreateDate": "2024-01-01T00:00:00Z",
        "GroupPolicyList": [{"PolicyName": f"group-inline-{i}", "PolicyDocument": _document(i)}],
        "AttachedManagedPolicies": _attached(i)[1:],
    }


def _policy(arn: str, name: str, document: dict[str, Any], count: int) -> dict[str, Any]:
    # 2,005 of them: only what the reader looks at (their size is lost among the roles)
    version = {"Document": document, "VersionId": "v1", "IsDefaultVersion": True}
    return {
        "PolicyName": name,
        "PolicyId": f"ANPA{zlib.crc32(arn.encode()):016d}",
        "Arn": arn,
        "DefaultVersionId": "v1",
        "AttachmentCount": count,
        "PolicyVersionList": [version],
    }


def write_account(path: Path, roles: int) -> None:
    """The account file, written as one JSON document (streamed: it is hundreds of MB)."""
    policies = [
        _policy(f"arn:aws:iam::{ACCOUNT}:policy/app-{n}", f"app-{n}", _document(n), 1)
        for n in range(CUSTOMER_POLICIES)
    ]
    policies += [
        _policy(f"arn:aws:iam::aws:policy/{name}", name, _document(n), 1)
        for n, name in enumerate(AWS_MANAGED)
    ]
    policies.append(_policy(f"arn:aws:iam::{ACCOUNT}:policy/boundary", "boundary", _document(0), 0))
    with path.open("w", encoding="utf-8") as out:
        out.write('{"RoleDetailList": [')
        for i in range(roles):
            out.write(("," if i else "") + json.dumps(_role(i)))
        out.write('], "UserDetailList": ')
        out.write(json.dumps([_user(i) for i in range(USERS)]))
        out.write(', "GroupDetailList": ')
        out.write(json.dumps([_group(i) for i in range(GROUPS)]))
        out.write(', "Policies": ')
        out.write(json.dumps(policies))
        out.write("}")


def show(path: Path, *extra: str) -> tuple[float, str]:
    """Seconds for `alpha account show PATH ...` in-process, and a digest of what it printed."""
    from alpha.cli.main import main

    captured = io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(captured):
        try:
            main(["account", "show", str(path), *extra])
        except SystemExit as exc:
            if exc.code:
                raise
    seconds = time.perf_counter() - start
    return seconds, hashlib.sha256(captured.getvalue().encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roles", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "account.json"
        start = time.perf_counter()
        write_account(path, args.roles)
        size, took = path.stat().st_size / 1e6, time.perf_counter() - start
        print(f"account: {args.roles:,} roles, {size:,.0f} MB, written in {took:.1f} s")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            show(path)
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
            return
        for extra in ((), ("--format", "json")):
            seconds, digest = show(path, *extra)
            label = " ".join(extra) or "table"
            print(f"account show ({label}): {seconds:.1f} s, output sha256 {digest}")


if __name__ == "__main__":
    main()
