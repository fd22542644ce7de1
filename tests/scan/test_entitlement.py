from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.catalog import load_catalog
from alpha.policy.diff import policy_grants
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.scan.entitlement import EntitlementCache
from tests.scan.factories import allow, allow_not, deny, document

PATTERNS = ["s3:Get*", "s3:*", "sqs:SendMessage", "iam:PassRole", "kms:Decrypt", "ec2:Describe*"]
RESOURCES = ["*", "arn:aws:s3:::bucket/*", "arn:aws:sqs:eu-west-1:111122223333:queue"]

statements = st.one_of(
    st.builds(
        allow,
        st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
        st.sampled_from(RESOURCES),
    ),
    st.builds(
        deny,
        st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2),
        st.sampled_from(RESOURCES),
    ),
)


def policy(parts: list[dict[str, Any]]) -> Policy:
    return parse_policy(document(*parts))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(statements, min_size=1, max_size=3), min_size=1, max_size=3))
def test_pieces_add_up_to_the_grants_of_all_policies_together(
    parts: list[list[dict[str, Any]]],
) -> None:
    catalog = load_catalog()
    documents = tuple(policy(p) for p in parts)
    merged = Policy(tuple(s for d in documents for s in d.statements))
    expected = policy_grants(merged, catalog).grants
    assert EntitlementCache(catalog).grants(documents) == expected


def test_equal_pieces_are_computed_once() -> None:
    catalog = load_catalog()
    cache = EntitlementCache(catalog)
    first = policy([allow(["s3:*", "sqs:SendMessage"])])
    second = policy([allow(["sqs:SendMessage", "s3:*"]), allow("kms:Decrypt")])
    cache.grants((first,))
    pieces = len(cache._pieces)
    cache.grants((second,))
    assert len(cache._pieces) == pieces + 1


def test_a_not_action_piece_meets_a_deny_of_another_policy() -> None:
    catalog = load_catalog()
    documents = (policy([allow_not(["iam:*", "ec2:*"])]), policy([deny("s3:*")]))
    merged = Policy(tuple(s for d in documents for s in d.statements))
    grants = EntitlementCache(catalog).grants(documents)
    assert grants == policy_grants(merged, catalog).grants
    assert not any(action.startswith("s3:") for action, _ in grants)
    assert any(action.startswith("sqs:") for action, _ in grants)
