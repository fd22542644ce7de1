"""check-access and diff over a committed subset of AWS's managed policies
(tests/data/managed_policies, see its ATTRIBUTION.md); the full set is a benchmark
(benchmarks/bench_managed_policies.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from alpha.catalog import Catalog
from alpha.policy.compare import InternalFinding, NewAccess, NoNewAccess, no_new_access
from alpha.policy.diff import diff_policies
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.parse import read_policy_file
from alpha.policy.request_shapes import request_problem

DATA = Path(__file__).parent.parent / "data" / "managed_policies"
NAMES = sorted(p.stem for p in DATA.glob("*.json"))
LARGE = ("ReadOnlyAccess", "SecurityAudit", "ViewOnlyAccess")  # a second or so per check
PAIRS = [
    *itertools.permutations([n for n in NAMES if n not in LARGE], 2),
    *((large, other) for large in LARGE for other in ("PowerUserAccess", "AmazonS3FullAccess")),
    *((other, large) for large in LARGE for other in ("AmazonSQSReadOnlyAccess", "SecurityAudit")),
]


def managed(name: str) -> Policy:
    return read_policy_file(DATA / f"{name}.json")


def allowed(policy: Policy, request: Request) -> bool:
    return compile_policy_set(PolicySet(identity=(policy,))).evaluate(request).allowed


@pytest.mark.parametrize(("existing", "proposed"), PAIRS)
def test_every_counterexample_is_a_request_aws_could_receive(
    catalog: Catalog, existing: str, proposed: str
) -> None:
    before, after = managed(existing), managed(proposed)
    result = no_new_access([before], [after], catalog)
    assert not isinstance(result, InternalFinding), result
    if isinstance(result, NewAccess):
        example = result.counterexample
        assert request_problem(catalog, example.action, example.resource) is None, example
        request = Request(example.action, example.resource, example.context)
        assert allowed(after, request)
        assert not allowed(before, request)


@pytest.mark.parametrize(
    ("existing", "proposed"),
    [
        ("AdministratorAccess", "ReadOnlyAccess"),
        ("AdministratorAccess", "PowerUserAccess"),
        ("ReadOnlyAccess", "AmazonSQSReadOnlyAccess"),
        ("AmazonS3FullAccess", "AmazonS3ReadOnlyAccess"),
        ("AmazonSQSFullAccess", "AmazonSQSReadOnlyAccess"),
        ("ReadOnlyAccess", "ReadOnlyAccess"),
    ],
)
def test_narrower_managed_policies_add_no_access(
    catalog: Catalog, existing: str, proposed: str
) -> None:
    result = no_new_access([managed(existing)], [managed(proposed)], catalog)
    assert isinstance(result, NoNewAccess), result


def test_administrator_to_read_only_adds_no_action_as_plain_text(catalog: Catalog) -> None:
    admin, read_only = managed("AdministratorAccess"), managed("ReadOnlyAccess")
    result = diff_policies(admin, read_only, catalog)
    assert result.added_actions == ()
    assert result.change_summary.startswith("+0 actions")
    # ReadOnlyAccess names actions the catalog lacks; AdministratorAccess holds them, and they
    # count in the reduction (kept, so not removed).
    unlisted = [a for a in read_only_actions(read_only) if catalog.action(a) is None]
    assert unlisted
    catalog_only = diff_policies(admin, managed("AdministratorAccess"), catalog).existing_grants
    assert result.existing_grants == catalog_only + len({a.lower() for a in unlisted})
    assert result.proposed_grants <= result.existing_grants


def read_only_actions(policy: Policy) -> list[str]:
    return [
        p for s in policy.statements for p in s.action.patterns if "*" not in p and "?" not in p
    ]
