"""Resource ARNs with fewer than six fields, per policy layer, as IAM is observed to read them
(the behaviour cloud-copilot's iam-simulate documents: padded with `*` in identity policies
and boundaries; nothing or padded in resource policies; rejected or padded in SCPs; and a
padded short ARN that does not match never proves a request outside a NotResource)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.catalog import Catalog, load_catalog
from alpha.policy.compare import NewAccess, NoNewAccess, no_new_access
from alpha.policy.evaluate import Decision, PolicySet, Request, compile_policy_set
from alpha.policy.model import NotResourceList, Policy, ResourceList
from alpha.policy.parse import parse_policy
from alpha.policy.short_arns import (
    ShortArnReading,
    field_count,
    padded,
    read_short_arns,
    short_arn_reading,
)

ACCOUNT = "111111111111"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ALLOWED, IMPLICIT, EXPLICIT = (
    Decision.ALLOWED,
    Decision.IMPLICITLY_DENIED,
    Decision.EXPLICITLY_DENIED,
)


def policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def statement(effect: str, element: str, resources: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": "sqs:SendMessage", element: resources, **extra}


def decide(policy_set: PolicySet, resource: str = QUEUE) -> Decision:
    request = Request("sqs:SendMessage", resource, principal=CALLER)
    return compile_policy_set(policy_set).evaluate(request).decision


@pytest.mark.parametrize(
    ("pattern", "fields", "expanded"),
    [
        ("arn:aws:sqs", 3, "arn:aws:sqs:*:*:*"),
        ("arn:aws:sqs:us-east-1", 4, "arn:aws:sqs:us-east-1:*:*"),
        (f"arn:aws:sqs:us-east-1:{ACCOUNT}", 5, f"arn:aws:sqs:us-east-1:{ACCOUNT}:*"),
        ("arn:aws:sqs:${aws:RequestedRegion}", 4, "arn:aws:sqs:${aws:RequestedRegion}:*:*"),
        ("arn", 1, "arn:*:*:*:*:*"),
    ],
)
def test_padding(pattern: str, fields: int, expanded: str) -> None:
    assert field_count(pattern) == fields
    assert padded(pattern) == expanded


P, N, R = ShortArnReading.PADDED, ShortArnReading.NOTHING, ShortArnReading.REJECTED


@pytest.mark.parametrize(
    ("pattern", "layer", "reading"),
    [
        (QUEUE, "identity", None),
        ("*", "identity", None),
        ("arn:aws:sqs", "identity", P),
        ("arn:aws:sqs:*", "identity", P),
        ("arn:aws:sqs", "boundary", P),
        ("arn:aws:sqs", "resource", N),
        ("arn:aws:sqs:us-east-1", "kms-key-policy", N),
        ("arn:aws:sqs:*", "resource", P),
        (f"arn:aws:sqs:*:{ACCOUNT}", "resource", P),
        ("arn:aws:sqs", "scp", R),
        ("arn:aws:sqs:*", "scp", P),
        ("arn:aws:sqs:us-*", "scp", P),
        (f"arn:aws:sqs:*:{ACCOUNT}", "scp", R),  # a wildcard that does not end the ARN
        ("arn:aws:sqs:*", "rcp", R),
        ("arn:aws:sqs:*", "a layer added later", R),
    ],
)
def test_reading_per_layer(pattern: str, layer: str, reading: ShortArnReading | None) -> None:
    assert short_arn_reading(pattern, layer) is reading


@pytest.mark.parametrize(
    ("element", "layer", "expected"),
    [
        (
            ResourceList(("arn:aws:sqs", QUEUE)),
            "identity",
            ResourceList(("arn:aws:sqs:*:*:*", QUEUE)),
        ),
        (ResourceList(("arn:aws:sqs", QUEUE)), "resource", ResourceList((QUEUE,))),
        (ResourceList(("arn:aws:sqs",)), "scp", ResourceList(())),
        (NotResourceList(("arn:aws:sqs", QUEUE)), "identity", ResourceList(())),
        (NotResourceList(("arn:aws:sqs", QUEUE)), "resource", NotResourceList((QUEUE,))),
        (NotResourceList(("arn:aws:sqs:*", QUEUE)), "resource", ResourceList(())),
        (NotResourceList((QUEUE,)), "identity", NotResourceList((QUEUE,))),
        (None, "identity", None),
    ],
)
def test_elements_read_per_layer(element: Any, layer: str, expected: Any) -> None:
    assert read_short_arns(element, layer) == expected


@pytest.mark.parametrize(
    ("case", "resources", "decision"),
    [
        ("service only", "arn:aws:sqs", ALLOWED),
        ("region matches", "arn:aws:sqs:us-east-1", ALLOWED),
        ("region and account match", f"arn:aws:sqs:us-east-1:{ACCOUNT}", ALLOWED),
        ("wildcard region", f"arn:aws:sqs:*:{ACCOUNT}", ALLOWED),
        ("other region", "arn:aws:sqs:us-west-2", IMPLICIT),
        ("other account", "arn:aws:sqs:us-east-1:222222222222", IMPLICIT),
        ("other service", "arn:aws:sns", IMPLICIT),
        ("other service, wildcard", "arn:aws:kms:*", IMPLICIT),
    ],
)
def test_identity_allow_is_padded(case: str, resources: str, decision: Decision) -> None:
    identity = policy(statement("Allow", "Resource", resources))
    assert decide(PolicySet(identity=(identity,))) is decision, case


@pytest.mark.parametrize(
    ("resources", "decision"),
    [
        ("arn:aws:sqs", EXPLICIT),
        ("arn:aws:sqs:us-east-1", EXPLICIT),
        ("arn:aws:sqs:*", EXPLICIT),
        ("arn:aws:sqs:us-west-2", ALLOWED),
        ("arn:aws:kms:*", ALLOWED),
    ],
)
def test_identity_deny_is_padded(resources: str, decision: Decision) -> None:
    identity = policy(
        statement("Allow", "Resource", f"arn:aws:sqs:us-east-1:{ACCOUNT}:*"),
        statement("Deny", "Resource", resources),
    )
    assert decide(PolicySet(identity=(identity,))) is decision


@pytest.mark.parametrize(
    ("boundary", "decision"),
    [("arn:aws:sqs", ALLOWED), ("arn:aws:sqs:eu-west-1", IMPLICIT)],
)
def test_boundary_is_padded(boundary: str, decision: Decision) -> None:
    policy_set = PolicySet(
        identity=(policy(statement("Allow", "Resource", "*")),),
        boundary=policy(statement("Allow", "Resource", boundary)),
    )
    assert decide(policy_set) is decision


@pytest.mark.parametrize(
    ("not_resources", "request_resource", "decision"),
    [
        # The padded ARN matches: the request is inside the NotResource set.
        ("arn:aws:sqs", QUEUE, IMPLICIT),
        ("arn:aws:sqs:us-east-1", QUEUE, IMPLICIT),
        # It does not match, yet that proves nothing: the statement still does not apply.
        ("arn:aws:sqs:us-west-2", QUEUE, IMPLICIT),
        (["arn:aws:sqs:us-west-2", "arn:aws:sqs:*:*:other"], QUEUE, IMPLICIT),
        # A full ARN that does not match does prove it, as before.
        ("arn:aws:sqs:us-west-2:*:*", QUEUE, ALLOWED),
    ],
)
def test_identity_not_resource_needs_proof(
    not_resources: Any, request_resource: str, decision: Decision
) -> None:
    identity = policy(statement("Allow", "NotResource", not_resources))
    assert decide(PolicySet(identity=(identity,)), request_resource) is decision


def test_a_deny_with_a_short_not_resource_denies_nothing() -> None:
    identity = policy(
        statement("Allow", "Resource", "*"),
        statement("Deny", "NotResource", "arn:aws:sqs:us-west-2"),
    )
    assert decide(PolicySet(identity=(identity,))) is ALLOWED


def resource_policy(*statements: dict[str, Any]) -> Policy:
    return policy(*({**s, "Principal": {"AWS": CALLER}} for s in statements))


@pytest.mark.parametrize(
    ("resources", "decision"),
    [
        ("arn:aws:sqs", IMPLICIT),  # no wildcard: matches nothing in a resource policy
        ("arn:aws:sqs:us-east-1", IMPLICIT),
        ("arn:aws:sqs:*", ALLOWED),  # a wildcard: padded
        (f"arn:aws:sqs:*:{ACCOUNT}", ALLOWED),
        (QUEUE, ALLOWED),
    ],
)
def test_resource_policy(resources: str, decision: Decision) -> None:
    policy_set = PolicySet(
        resource_policy=resource_policy(statement("Allow", "Resource", resources))
    )
    assert decide(policy_set) is decision


def test_resource_policy_not_resource_leaves_out_a_short_arn_that_matches_nothing() -> None:
    # `arn:aws:sqs` is no resource at all there: NotResource [it] excludes nothing.
    granted = resource_policy(statement("Allow", "NotResource", "arn:aws:sqs"))
    assert decide(PolicySet(resource_policy=granted)) is ALLOWED


@pytest.mark.parametrize(
    ("deny", "decision"),
    [
        ("arn:aws:sqs", ALLOWED),  # rejected: the Deny applies to nothing
        (f"arn:aws:sqs:*:{ACCOUNT}", ALLOWED),  # the wildcard does not end the ARN
        ("arn:aws:sqs:*", EXPLICIT),
        ("arn:aws:sqs:us-*", EXPLICIT),
    ],
)
def test_scp_deny(deny: str, decision: Decision) -> None:
    scp = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        statement("Deny", "Resource", deny),
    )
    policy_set = PolicySet(identity=(policy(statement("Allow", "Resource", "*")),), scps=(scp,))
    assert decide(policy_set) is decision


@pytest.mark.parametrize(
    ("existing", "proposed"),
    [
        ("arn:aws:sqs", QUEUE),
        ("arn:aws:sqs", "arn:aws:sqs:*:*:*"),
        ("arn:aws:sqs:*:*:*", "arn:aws:sqs"),
        (f"arn:aws:sqs:us-east-1:{ACCOUNT}", f"arn:aws:sqs:us-east-1:{ACCOUNT}:*"),
    ],
)
def test_check_access_reads_short_arns_as_the_evaluator(
    catalog: Catalog, existing: str, proposed: str
) -> None:
    before = [policy(statement("Allow", "Resource", existing))]
    after = [policy(statement("Allow", "Resource", proposed))]
    assert isinstance(no_new_access(before, after, catalog), NoNewAccess)


def test_check_access_sees_a_short_arn_widen(catalog: Catalog) -> None:
    before = [policy(statement("Allow", "Resource", QUEUE))]
    after = [policy(statement("Allow", "Resource", "arn:aws:sqs:us-east-1"))]
    assert not isinstance(no_new_access(before, after, catalog), NoNewAccess)


fields = st.sampled_from(["", "*", "us-east-1", "us-*", ACCOUNT, "sqs", "x?"])
arns = st.builds(
    lambda region, account, name: f"arn:aws:sqs:{region}:{account}:{name}",
    st.sampled_from(["us-east-1", "eu-west-1", ""]),
    st.sampled_from([ACCOUNT, "222222222222", ""]),
    st.sampled_from(["orders", "a:b", "x1"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(fields, min_size=0, max_size=2), arns, st.sampled_from(["Resource", "NotResource"]))
def test_an_identity_policy_reads_a_short_arn_as_its_padding(
    extra: list[str], arn: str, element: str
) -> None:
    short = ":".join(["arn", "aws", "sqs", *extra])
    written = policy(statement("Allow", element, short))
    spelled = policy(statement("Allow", element, padded(short)))
    got = decide(PolicySet(identity=(written,)), arn)
    if element == "Resource":
        assert got is decide(PolicySet(identity=(spelled,)), arn)
    else:  # never proven outside: never allowed through this statement
        assert got is IMPLICIT


SQS_RESOURCES = [
    "arn:aws:sqs",
    "arn:aws:sqs:us-east-1",
    f"arn:aws:sqs:us-east-1:{ACCOUNT}",
    "arn:aws:sqs:*",
    QUEUE,
    "arn:aws:sqs:eu-west-1:*:*",
    "*",
]
sqs_statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.sampled_from(["sqs:SendMessage", "sqs:*"]),
        "Resource": st.lists(st.sampled_from(SQS_RESOURCES), min_size=1, max_size=2),
    }
)
probe_arns = st.builds(
    lambda region, account, name: f"arn:aws:sqs:{region}:{account}:{name}",
    st.sampled_from(["us-east-1", "eu-west-1"]),
    st.sampled_from([ACCOUNT, "222222222222"]),
    st.sampled_from(["orders", "other"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(sqs_statements, min_size=1, max_size=3),
    st.lists(sqs_statements, min_size=1, max_size=3),
    st.lists(probe_arns, min_size=1, max_size=6),
)
def test_check_access_agrees_with_the_evaluator_on_short_arns(
    existing: list[dict[str, Any]], proposed: list[dict[str, Any]], arns: list[str]
) -> None:
    before, after = policy(*existing), policy(*proposed)
    result = no_new_access([before], [after], load_catalog())
    old = compile_policy_set(PolicySet(identity=(before,)))
    new = compile_policy_set(PolicySet(identity=(after,)))
    if isinstance(result, NoNewAccess):
        for arn in arns:
            request = Request("sqs:SendMessage", arn)
            assert not new.evaluate(request).allowed or old.evaluate(request).allowed, arn
    elif isinstance(result, NewAccess):
        example = result.counterexample
        request = Request(example.action, example.resource, example.context)
        assert new.evaluate(request).allowed
        assert not old.evaluate(request).allowed
