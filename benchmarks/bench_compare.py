"""Benchmark: `no_new_access` on a realistic 30-statement proposal.

The proposal is what the generator produces: 30 statements over 10 services, each with five
concrete actions on specific ARNs (a third of them with a condition), against an existing
policy of per-service wildcards and a Deny. Reported: milliseconds per call for a proposal
with no new access (the common case), for one with new access (the counterexample is built
and checked), for the same proposal against `Allow *` with ten service-wide Denys (an
administrator role), and the ratio to parsing both documents in the same run (a baseline that
tracks the machine's speed).

Run: .venv/bin/python benchmarks/bench_compare.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from alpha.catalog import Catalog, load_catalog
from alpha.policy.compare import NewAccess, NoNewAccess, no_new_access
from alpha.policy.parse import parse_policy

SERVICES = ("s3", "dynamodb", "sqs", "sns", "lambda", "kms", "logs", "ec2", "secretsmanager", "ssm")
ACCOUNT = "123456789012"


def documents(catalog: Catalog) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    existing: list[dict[str, Any]] = []
    proposed: list[dict[str, Any]] = []
    for service in SERVICES:
        existing.append(
            {"Effect": "Allow", "Action": f"{service}:*", "Resource": f"arn:aws:{service}:*:*:*"}
        )
        existing.append(
            {
                "Effect": "Allow",
                "Action": [f"{service}:List*", f"{service}:Describe*"],
                "Resource": "*",
            }
        )
        actions = sorted(a.key for a in catalog.actions(service))
        for n in range(3):
            statement: dict[str, Any] = {
                "Effect": "Allow",
                "Action": actions[n * 7 : n * 7 + 5],
                "Resource": [
                    f"arn:aws:{service}:us-east-1:{ACCOUNT}:app-{n}/*",
                    f"arn:aws:{service}:us-east-1:{ACCOUNT}:shared-{n}",
                ],
            }
            if n == 1:
                statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
            proposed.append(statement)
    existing.append({"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"})
    widened = [*proposed[:-1], {**proposed[-1], "Resource": "*"}]
    return _document(existing), _document(proposed), _document(widened)


def _document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def per_call(fn: Callable[[], object], repeat: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    catalog = load_catalog()
    existing_doc, proposed_doc, widened_doc = documents(catalog)
    existing, proposed, widened = map(parse_policy, (existing_doc, proposed_doc, widened_doc))
    assert isinstance(no_new_access([existing], [proposed], catalog), NoNewAccess)
    assert isinstance(no_new_access([existing], [widened], catalog), NewAccess)
    repeat = 50
    baseline = per_call(lambda: (parse_policy(existing_doc), parse_policy(proposed_doc)), repeat)
    same = per_call(lambda: no_new_access([existing], [proposed], catalog), repeat)
    new = per_call(lambda: no_new_access([existing], [widened], catalog), repeat)
    print(f"statements: existing {len(existing.statements)}, proposed {len(proposed.statements)}")
    admin = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                *({"Effect": "Deny", "Action": f"{s}:Delete*", "Resource": "*"} for s in SERVICES),
            ],
        }
    )
    assert isinstance(no_new_access([admin], [proposed], catalog), NewAccess)  # Delete* kept
    under_admin = per_call(lambda: no_new_access([admin], [proposed], catalog), repeat)
    print(f"no new access: {same * 1000:.1f} ms/call ({same / baseline:.0f}x parsing both)")
    print(f"new access + counterexample: {new * 1000:.1f} ms/call ({new / baseline:.0f}x parsing)")
    print(
        f"against Allow * with 10 Denys: {under_admin * 1000:.1f} ms/call "
        f"({under_admin / baseline:.0f}x parsing)"
    )


if __name__ == "__main__":
    main()
