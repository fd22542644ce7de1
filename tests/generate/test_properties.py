"""Every proposal is never wider than today and replays every call today allows."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpha.catalog import load_catalog
from alpha.generate import GenerationSettings, ProposalGenerator, UsageContext
from alpha.guardrails import parse_config
from alpha.policy.compare import NoNewAccess, no_new_access
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from tests.generate.factories import ROLE, T0, T1, row, single_role

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "sqs:SendMessage",
    "ec2:DescribeInstances",
]
PATTERNS = [
    "*",
    "arn:aws:s3:::b1/*",
    "arn:aws:s3:::b1/logs/*",
    "arn:aws:s3:::b?/*",
    "arn:aws:s3:::b2",
    "arn:aws:sqs:eu-west-1:111122223333:*",
]
RESOURCES = [
    "arn:aws:s3:::b1/logs/a",
    "arn:aws:s3:::b1/logs/b/c",
    "arn:aws:s3:::b1/data/x",
    "arn:aws:s3:::b2/k",
    "arn:aws:s3:::b2",
    "arn:aws:s3:::b1",
    "arn:aws:sqs:eu-west-1:111122223333:q1",
    "*",
]
REGIONS = ["eu-west-1", "us-east-1"]


def _condition(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["none", "region", "notregion"]))
    if kind == "region":
        return {"StringEquals": {"aws:RequestedRegion": draw(st.sampled_from(REGIONS))}}
    if kind == "notregion":
        return {"StringNotEquals": {"aws:RequestedRegion": draw(st.sampled_from(REGIONS))}}
    return {}


@st.composite
def statements(draw: Any) -> dict[str, Any]:
    action = draw(st.sampled_from([*ACTIONS, "s3:*", "s3:Get*", "*"]))
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"])),
        "Action" if draw(st.booleans()) or action == "*" else "NotAction": action,
        "Resource": draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True)),
    }
    condition = _condition(draw)
    if condition:
        statement["Condition"] = condition
    return statement


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(statements(), min_size=1, max_size=4),
    st.lists(
        st.tuples(
            st.sampled_from(ACTIONS),
            st.sampled_from(RESOURCES),
            st.integers(1, 5),
            st.sampled_from([(), ("eu-west-1",), ("us-east-1",)]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 3),
)
def test_every_proposal_is_never_wider_and_replays_every_allowed_call(
    existing: list[dict[str, Any]],
    calls: list[tuple[str, str, int, tuple[str, ...]]],
    max_exact: int,
) -> None:
    # The usage store reports one row per (principal, action, resource), its regions together.
    calls = list({(a, r): (a, r, n, g) for a, r, n, g in calls}.values())
    catalog = load_catalog()
    snap = single_role(*existing)
    today = snap.effective_policies(ROLE).documents
    judge = compile_policy_set(PolicySet(identity=today))
    rows = [row(a, r, n, regions=g) for a, r, n, g in calls]
    generator = ProposalGenerator(
        catalog,
        snap,
        parse_config("", "t.toml", {}),
        settings=GenerationSettings(max_exact_resources=max_exact, max_resource_patterns=1),
    )
    context = UsageContext((T0, T1), 10, 1, True)
    proposal = generator.propose(ROLE, rows, context)  # raises GenerationBugError if wider
    assert no_new_access(today, [proposal.proposed_policy], catalog) == NoNewAccess()
    replay = proposal.replay
    assert replay.allowed == replay.observed
    assert replay.observed + len(replay.not_granted_today) == len(rows)
    # A call today allows in its known region with nothing else asked is never left out.
    for action, resource, _, regions in calls:
        found = catalog.action(action)
        if resource == "*" or not regions or found is None or not found.supports_resource_level:
            continue  # an action that takes no resource is authorised on `*`, not on an ARN
        request = Request(action, resource, {"aws:RequestedRegion": regions})
        if judge.evaluate(request).allowed:
            assert (action, resource) not in {
                (c.action, c.resource) for c in replay.not_granted_today
            }
