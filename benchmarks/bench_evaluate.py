"""Decisions per second of the compiled evaluator on a realistic 20-statement policy.

Run: `.venv/bin/python benchmarks/bench_evaluate.py` (or `make bench`). Prints the evaluator's
rate, and in the same run two baselines on the same request stream (the machine is shared and
noisy, so the ratios are the stable figures): a plain dict lookup per request (a floor no
evaluator can beat) and a naive evaluator that re-matches the raw policy with `fnmatch` on
every request (what "not compiling" costs).
"""

from __future__ import annotations

import argparse
import fnmatch
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.parse import parse_policy

BUCKET = "arn:aws:s3:::corp-data"
REGIONS = ["us-east-1", "us-east-1", "us-east-1", "eu-west-1", "eu-west-1", "ap-south-1"]
USERS = ["alice", "bob", "carol", "dave"]

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ListOwnPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": BUCKET,
            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "shared/*"]}},
        },
        {
            "Sid": "OwnObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{BUCKET}/home/${{aws:username}}/*",
        },
        {
            "Sid": "SharedRead",
            "Effect": "Allow",
            "Action": ["s3:GetObject*", "s3:ListMultipartUploadParts"],
            "Resource": f"{BUCKET}/shared/*",
            "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
        },
        {
            "Sid": "DenyOutsideRegions",
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "cloudfront:*", "support:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": [BUCKET, f"{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "Ec2Describe",
            "Effect": "Allow",
            "Action": ["ec2:Describe*", "ec2:Get*"],
            "Resource": "*",
        },
        {
            "Sid": "Ec2StartStopTagged",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
            "Resource": "arn:aws:ec2:*:111122223333:instance/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
        {
            "Sid": "Ec2DenyTerminateProd",
            "Effect": "Deny",
            "Action": "ec2:TerminateInstances",
            "Resource": "*",
            "Condition": {"StringEqualsIgnoreCase": {"aws:ResourceTag/env": "prod"}},
        },
        {
            "Sid": "DynamoTable",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
            "Resource": "arn:aws:dynamodb:*:111122223333:table/orders*",
            "Condition": {
                "ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}", "public"]
                }
            },
        },
        {
            "Sid": "DynamoDescribe",
            "Effect": "Allow",
            "Action": "dynamodb:Describe*",
            "Resource": "arn:aws:dynamodb:*:111122223333:table/*",
        },
        {
            "Sid": "LambdaInvoke",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:*:111122223333:function:app-?-*",
        },
        {
            "Sid": "LogsWrite",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:111122223333:log-group:/app/*",
        },
        {
            "Sid": "SqsWithMfaRecent",
            "Effect": "Allow",
            "Action": "sqs:*",
            "Resource": "arn:aws:sqs:us-east-1:111122223333:jobs-*",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        },
        {
            "Sid": "KmsUseViaS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "arn:aws:kms:*:111122223333:key/*",
            "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
        },
        {
            "Sid": "IamSelf",
            "Effect": "Allow",
            "Action": ["iam:GetUser", "iam:*AccessKey*", "iam:ChangePassword"],
            "Resource": "arn:aws:iam::111122223333:user/${aws:username}",
        },
        {
            "Sid": "DenyIamOutsideHours",
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        },
        {
            "Sid": "SnsPublishFromVpc",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": "arn:aws:sns:*:111122223333:alerts",
            "Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-0abc"}},
        },
        {
            "Sid": "CloudWatchRead",
            "Effect": "Allow",
            "Action": ["cloudwatch:Get*", "cloudwatch:List*", "cloudwatch:Describe*"],
            "Resource": "*",
        },
        {
            "Sid": "PassOnlyAppRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::111122223333:role/app-*",
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        },
        {
            "Sid": "DenyUntaggedCreates",
            "Effect": "Deny",
            "Action": ["ec2:RunInstances", "ec2:CreateVolume"],
            "Resource": "*",
            "Condition": {"Null": {"aws:RequestTag/team": "true"}},
        },
    ],
}


def request_stream(count: int, seed: int = 7) -> list[Request]:
    """Varied requests over the services the policy names, plus some it doesn't."""
    rng = random.Random(seed)
    makers: list[Callable[[random.Random, str], tuple[str, str, dict[str, tuple[str, ...]]]]] = [
        lambda r, u: ("s3:GetObject", f"{BUCKET}/home/{r.choice(USERS)}/f{r.randint(1, 99)}", {}),
        lambda r, u: ("s3:GetObjectVersion", f"{BUCKET}/shared/doc{r.randint(1, 9)}", {}),
        lambda r, u: ("s3:ListBucket", BUCKET, {"s3:prefix": (f"home/{r.choice(USERS)}/",)}),
        lambda r, u: ("s3:PutObject", f"{BUCKET}/home/{u}/up", {}),
        lambda r, u: ("ec2:DescribeInstances", "*", {}),
        lambda r, u: (
            r.choice(["ec2:StartInstances", "ec2:TerminateInstances"]),
            f"arn:aws:ec2:us-east-1:111122223333:instance/i-{r.randint(1, 999):04x}",
            {
                "aws:resourcetag/team": (r.choice(["red", "blue"]),),
                "aws:resourcetag/env": ("Prod",),
            },
        ),
        lambda r, u: (
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders-2024",
            {"dynamodb:leadingkeys": (r.choice(["t1", "t2", "public"]),)},
        ),
        lambda r, u: (
            "lambda:InvokeFunction",
            f"arn:aws:lambda:eu-west-1:111122223333:function:app-{r.choice('ab')}-x",
            {},
        ),
        lambda r, u: (
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:111122223333:jobs-high",
            {"aws:multifactorauthage": (str(r.randint(0, 7200)),)},
        ),
        lambda r, u: (
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k1",
            {"kms:viaservice": ("s3.us-east-1.amazonaws.com",)},
        ),
        lambda r, u: (
            "iam:CreateAccessKey",
            f"arn:aws:iam::111122223333:user/{r.choice(USERS)}",
            {},
        ),
        lambda r, u: ("sns:Publish", "arn:aws:sns:us-east-1:111122223333:alerts", {}),
        lambda r, u: ("ec2:RunInstances", "*", {}),
        lambda r, u: ("rds:DeleteDBInstance", "arn:aws:rds:us-east-1:111122223333:db:x", {}),
    ]
    requests = []
    for _ in range(count):
        user = rng.choice(USERS)
        action, resource, extra = rng.choice(makers)(rng, user)
        context = {
            "aws:username": (user,),
            "aws:principaltag/team": (rng.choice(["red", "blue"]),),
            "aws:principaltag/tenant": ("t1",),
            "aws:requestedregion": (rng.choice(REGIONS),),
            "aws:sourceip": (rng.choice(["10.1.2.3", "192.0.2.7", "2001:db8::5"]),),
            "aws:securetransport": (rng.choice(["true"] * 5 + ["false"]),),
            "aws:currenttime": ("2026-05-01T12:00:00Z",),
            **extra,
        }
        requests.append(Request(action, resource, context))
    return requests


def naive_decision(policy: dict[str, Any], request: Request) -> str:
    """An uncompiled evaluator: fnmatch on the raw document for every request; conditions are
    ignored except that their keys must be present (a lower bound on the real work)."""
    allowed = False
    for statement in policy["Statement"]:
        actions = statement.get("Action") or statement.get("NotAction")
        actions = [actions] if isinstance(actions, str) else actions
        hit = any(fnmatch.fnmatch(request.action_key, a.lower()) for a in actions)
        if "NotAction" in statement:
            hit = not hit
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if not hit or not any(fnmatch.fnmatchcase(request.resource, r) for r in resources):
            continue
        keys = [k.lower() for block in statement.get("Condition", {}).values() for k in block]
        if not all(k in request.context for k in keys):
            continue
        if statement["Effect"] == "Deny":
            return "ExplicitlyDenied"
        allowed = True
    return "Allowed" if allowed else "ImplicitlyDenied"


def rate(run: Callable[[], object], count: int, repeat: int) -> float:
    """Best-of-`repeat` items per second (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    policy = parse_policy(POLICY, "bench")
    assert len(policy.statements) == 20
    evaluator = compile_policy_set(PolicySet((policy,)))
    requests = request_stream(args.requests)
    raw = [(r.action, r.resource, dict(r.context)) for r in requests]
    table = {(r.action, r.resource): "Allowed" for r in requests[::2]}

    def evaluate() -> None:
        for request in requests:
            evaluator.evaluate(request)

    def build_and_evaluate() -> None:
        for action, resource, context in raw:
            evaluator.evaluate(Request(action, resource, context))

    def lookup() -> None:
        for request in requests:
            table.get((request.action, request.resource), "ImplicitlyDenied")

    naive_count = max(1, args.requests // 20)

    def naive() -> None:
        for request in requests[:naive_count]:
            naive_decision(POLICY, request)

    decisions = [evaluator.evaluate(r).decision for r in requests]
    mix = {d.value: decisions.count(d) for d in set(decisions)}
    evaluated = rate(evaluate, len(requests), args.repeat)
    built = rate(build_and_evaluate, len(requests), args.repeat)
    floor = rate(lookup, len(requests), args.repeat)
    slow = rate(naive, naive_count, args.repeat)
    print(f"policy: {len(policy.statements)} statements; requests: {len(requests)}; mix: {mix}")
    print(f"compiled evaluator:            {evaluated:>12,.0f} decisions/s")
    print(f"  including Request building:  {built:>12,.0f} decisions/s")
    print(f"baseline dict lookup:          {floor:>12,.0f} lookups/s")
    print(f"baseline naive fnmatch:        {slow:>12,.0f} decisions/s")
    print(f"ratios: evaluator / dict lookup = {evaluated / floor:.3f}; ", end="")
    print(f"evaluator / naive fnmatch = {evaluated / slow:.1f}")


if __name__ == "__main__":
    main()
