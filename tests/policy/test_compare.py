"""`no_new_access`: a table of cases, and properties checked against the evaluator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from alpha.catalog import Catalog, load_catalog
from alpha.policy.compare import (
    AccessCheck,
    NewAccess,
    NoNewAccess,
    PossibleNewAccess,
    no_new_access,
)
from alpha.policy.evaluate import PolicySet, Request, compile_policy_set
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy
from alpha.policy.request_shapes import request_problem

S3 = "arn:aws:s3:::"
TLS = {"Bool": {"aws:SecureTransport": "true"}}
NO_MFA = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
ALICE = {"StringEquals": {"aws:username": "alice"}}


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> Policy:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version:
        body["Version"] = version
    return parse_policy(body)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def allowed(policies: list[Policy], request: Request) -> bool:
    return compile_policy_set(PolicySet(identity=tuple(policies))).evaluate(request).allowed


def assert_really_new(
    existing: list[Policy], proposed: list[Policy], result: AccessCheck
) -> Request:
    assert isinstance(result, NewAccess), result
    example = result.counterexample
    request = Request(example.action, example.resource, example.context)
    assert allowed(proposed, request), example
    assert not allowed(existing, request), example
    assert request_problem(load_catalog(), example.action, example.resource) is None, example
    return request


GET = "s3:GetObject"
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], bool]] = [
    # (name, existing statements, proposed statements, new access expected)
    ("identical", [allow(GET, f"{S3}b/*")], [allow(GET, f"{S3}b/*")], False),
    (
        "subset of statements",
        [allow(GET, f"{S3}b/*"), allow("sqs:SendMessage")],
        [allow(GET, f"{S3}b/*")],
        False,
    ),
    ("narrower resource", [allow(GET, f"{S3}b/*")], [allow(GET, f"{S3}b/x*")], False),
    ("wider resource", [allow(GET, f"{S3}b/x*")], [allow(GET, f"{S3}b/*")], True),
    ("star spans slashes", [allow(GET, f"{S3}b*")], [allow(GET, f"{S3}b/x/y/z")], False),
    ("star inside", [allow(GET, f"{S3}*/logs/*")], [allow(GET, f"{S3}b/logs/2024/*")], False),
    ("star inside, wider", [allow(GET, f"{S3}*/logs/*")], [allow(GET, f"{S3}b/*")], True),
    ("one char under star", [allow(GET, f"{S3}b/*")], [allow(GET, f"{S3}b/?")], False),
    ("star over one char", [allow(GET, f"{S3}b/?")], [allow(GET, f"{S3}b/*")], True),
    (
        "covered only by the union",
        [allow(GET, [f"{S3}b/?", f"{S3}b/??*"])],
        [allow(GET, f"{S3}b/?*")],
        False,
    ),
    ("resources are case-sensitive", [allow(GET, f"{S3}B/*")], [allow(GET, f"{S3}b/*")], True),
    ("actions are not", [allow("S3:GETOBJECT")], [allow(GET)], False),
    ("action wildcard one char", [allow("s3:?etObject")], [allow(GET)], False),
    (
        "action wildcard covers",
        [allow("s3:Get*")],
        [allow(["s3:GetObject", "s3:GetBucketTagging"])],
        False,
    ),
    ("more actions", [allow("s3:Get*")], [allow(["s3:GetObject", "s3:PutObject"])], True),
    (
        "deny on the existing side",
        [allow("s3:*"), deny("s3:Delete*")],
        [allow("s3:DeleteObject")],
        True,
    ),
    (
        "deny kept on the proposed side",
        [allow("s3:*"), deny("s3:Delete*")],
        [allow("s3:*"), deny("s3:Delete*")],
        False,
    ),
    (
        "proposed deny narrows",
        [allow("s3:Get*")],
        [allow("s3:*"), deny("s3:*", NotAction=None)] if False else [allow("s3:Get*"), deny(GET)],
        False,
    ),
    (
        "deny on part of the resources",
        [allow("s3:*"), deny("s3:*", f"{S3}secret/*")],
        [allow(GET, f"{S3}*")],
        True,
    ),
    (
        "not-action existing",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        [allow(["s3:GetObject", "ec2:DescribeInstances"])],
        False,
    ),
    (
        "not-action existing, excluded service",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        [allow("iam:PassRole")],
        True,
    ),
    (
        "not-action proposed",
        [allow("*")],
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        False,
    ),
    (
        "not-action proposed, wider",
        [allow("s3:*")],
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        True,
    ),
    (
        "not-resource existing",
        [{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{S3}secret/*"}],
        [allow(GET, f"{S3}public/*")],
        False,
    ),
    (
        "not-resource existing, into the excluded part",
        [{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{S3}secret/*"}],
        [allow(GET, f"{S3}*")],
        True,
    ),
    (
        "not-resource proposed",
        [allow("s3:*", f"{S3}*")],
        [{"Effect": "Allow", "Action": GET, "NotResource": f"{S3}secret/*"}],
        True,
    ),
    (
        "not-resource on both sides",
        [{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{S3}s*"}],
        [{"Effect": "Allow", "Action": GET, "NotResource": f"{S3}secret/*"}],
        True,
    ),
    (
        "not-resource narrower on both sides",
        [{"Effect": "Allow", "Action": "s3:*", "NotResource": f"{S3}secret/*"}],
        [{"Effect": "Allow", "Action": GET, "NotResource": f"{S3}s*"}],
        False,
    ),
    ("condition on the proposed side", [allow(GET)], [allow(GET, Condition=TLS)], False),
    ("condition on the existing side", [allow(GET, Condition=TLS)], [allow(GET)], True),
    ("same condition on both", [allow(GET, Condition=TLS)], [allow(GET, Condition=TLS)], False),
    (
        "existing conditions a subset",
        [allow(GET, Condition=TLS)],
        [allow(GET, Condition={**TLS, **ALICE})],
        False,
    ),
    (
        "existing conditions a superset",
        [allow(GET, Condition={**TLS, **ALICE})],
        [allow(GET, Condition=TLS)],
        True,
    ),
    (
        "existing allow true on a missing key",
        [allow(GET, Condition={"ForAllValues:StringEquals": {"aws:TagKeys": "team"}})],
        [allow(GET)],
        True,
    ),
    (
        "existing negated condition",
        [allow(GET, Condition={"StringNotEquals": {"aws:username": "mallory"}})],
        [allow(GET)],
        True,
    ),
    (
        "existing if-exists condition",
        [allow(GET, Condition={"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}})],
        [allow(GET)],
        True,
    ),
    (
        "proposed deny true on a missing key",
        [allow(GET, Condition=ALICE)],
        [allow(GET), deny(GET, Condition={"StringNotEquals": {"aws:username": "alice"}})],
        False,
    ),
    (
        "proposed deny true on a missing key, other action",
        [allow(GET, Condition=ALICE)],
        [allow("s3:Get*"), deny(GET, Condition={"StringNotEquals": {"aws:username": "alice"}})],
        True,
    ),
    (
        "conditional deny on the existing side",
        [allow("s3:*"), deny("s3:Delete*", Condition=NO_MFA)],
        [allow("s3:*")],
        True,
    ),
    (
        "conditional deny on both sides",
        [allow("s3:*"), deny("s3:Delete*", Condition=NO_MFA)],
        [allow("s3:*"), deny("s3:Delete*", Condition=NO_MFA)],
        False,
    ),
    (
        "variable on the existing side",
        [allow(GET, f"{S3}home/${{aws:username}}/*")],
        [allow(GET, f"{S3}home/*")],
        True,
    ),
    (
        "variable on the proposed side",
        [allow(GET, f"{S3}home/*")],
        [allow(GET, f"{S3}home/${{aws:username}}/*")],
        False,
    ),
    (
        "same variable on both",
        [allow(GET, f"{S3}home/${{aws:username}}/*")],
        [allow(GET, f"{S3}home/${{aws:username}}/*")],
        False,
    ),
    (
        "service wildcard covers",
        [allow("*:Get*")],
        [allow(["s3:GetObject", "ec2:GetConsoleOutput"])],
        False,
    ),
    (
        "service wildcard does not cover",
        [allow("*:Get*")],
        [allow(["s3:GetObject", "ec2:DescribeInstances"])],
        True,
    ),
    (
        "administrator with the same denies",
        [allow("*"), deny(["s3:Delete*", "iam:*", "kms:ScheduleKeyDeletion"])],
        [allow("*"), deny(["iam:*", "s3:Delete*", "kms:ScheduleKeyDeletion"])],
        False,
    ),
    (
        "administrator losing a deny",
        [allow("*"), deny(["s3:Delete*", "iam:*"])],
        [allow("*"), deny("iam:*")],
        True,
    ),
    (
        "not-resource deny on the existing side",
        [allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": f"{S3}ok/*"}],
        [allow(GET, f"{S3}o*")],
        True,
    ),
    (
        "variable in an existing not-resource",
        [{"Effect": "Allow", "Action": GET, "NotResource": f"{S3}h/${{aws:username}}/*"}],
        [allow(GET, f"{S3}h/bob/x")],
        True,
    ),
    (
        "variable in a proposed not-resource",
        [allow(GET, f"{S3}h/*")],
        [{"Effect": "Allow", "Action": GET, "NotResource": f"{S3}h/${{aws:username}}/*"}],
        True,
    ),
    (
        "different variables",
        [allow(GET, f"{S3}home/${{aws:username}}/*")],
        [allow(GET, f"{S3}home/${{aws:userid}}/*")],
        True,
    ),
]


def test_variables_are_literal_text_before_2012(catalog: Catalog) -> None:
    pattern = f"{S3}home/${{aws:username}}/*"
    literal, variable = doc(allow(GET, pattern), version=None), doc(allow(GET, pattern))
    assert isinstance(no_new_access([literal], [literal], catalog), NoNewAccess)
    request = assert_really_new(
        [literal], [variable], no_new_access([literal], [variable], catalog)
    )
    assert "${" not in request.resource
    request = assert_really_new(
        [variable], [literal], no_new_access([variable], [literal], catalog)
    )
    assert "${aws:username}" in request.resource


@pytest.mark.parametrize(
    ("existing", "proposed", "expect_new"),
    [pytest.param(e, p, new, id=name) for name, e, p, new in CASES],
)
def test_no_new_access_table(
    catalog: Catalog,
    existing: list[dict[str, Any]],
    proposed: list[dict[str, Any]],
    expect_new: bool,
) -> None:
    before, after = [doc(*existing)], [doc(*proposed)]
    result = no_new_access(before, after, catalog)
    if expect_new:
        assert_really_new(before, after, result)
    else:
        assert isinstance(result, NoNewAccess), result


def test_counterexample_names_the_granting_statement(catalog: Catalog) -> None:
    before = [doc(allow(GET, f"{S3}b/*"))]
    after = [doc(allow(GET, f"{S3}b/*"), {**allow("s3:PutObject", f"{S3}b/*"), "Sid": "Put"})]
    result = no_new_access(before, after, catalog)
    request = assert_really_new(before, after, result)
    assert isinstance(result, NewAccess)
    assert request.action == "s3:PutObject"
    assert (result.statement.policy, result.statement.number, result.statement.sid) == (0, 1, "Put")
    assert str(result.statement) == "proposed[0].Statement[1] (Put)"


def test_witness_resource_lies_between_the_patterns(catalog: Catalog) -> None:
    before = [doc(allow(GET, f"{S3}b/x*"))]
    after = [doc(allow(GET, f"{S3}b/*"))]
    request = assert_really_new(before, after, no_new_access(before, after, catalog))
    assert request.resource.startswith(f"{S3}b/")
    assert not request.resource.startswith(f"{S3}b/x")


def test_context_meets_the_proposed_conditions(catalog: Catalog) -> None:
    conditions = {
        "StringEquals": {"aws:PrincipalTag/team": "data"},
        "NumericLessThan": {"s3:max-keys": "10"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "Bool": {"aws:SecureTransport": "true"},
        "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        "StringLike": {"s3:prefix": "home/*"},
    }
    before = [doc(allow(GET, f"{S3}b/*"))]
    after = [doc(allow("s3:ListBucket", f"{S3}b", Condition=conditions))]
    request = assert_really_new(before, after, no_new_access(before, after, catalog))
    assert request.context["aws:principaltag/team"] == ("data",)
    assert request.context["aws:sourceip"] == ("10.0.0.0",)


def test_new_access_only_on_no_real_resource_is_possible_not_proven(catalog: Catalog) -> None:
    # The union leaves only the empty key, and an S3 object always has a name.
    before = [doc(allow(GET, [f"{S3}b/?", f"{S3}b/??*"]))]
    result = no_new_access(before, [doc(allow(GET, f"{S3}b/*"))], catalog)
    assert isinstance(result, PossibleNewAccess), result
    assert f"such as '{S3}b/'" in result.reason
    assert "'arn:${Partition}:s3:::${BucketName}/${ObjectName}'" in result.reason


def test_future_actions_under_a_wildcard(catalog: Catalog) -> None:
    every_s3_action = sorted(a.key for a in catalog.actions("s3"))
    before = [doc(allow(every_s3_action))]
    after = [doc(allow("s3:*"))]
    request = assert_really_new(before, after, no_new_access(before, after, catalog))
    assert request.action.lower().startswith("s3:")
    assert catalog.action(request.action) is None


def test_future_actions_are_covered_by_the_same_wildcard(catalog: Catalog) -> None:
    before = [doc(allow("s3:*"))]
    after = [doc(allow("s3:*"))]
    assert isinstance(no_new_access(before, after, catalog), NoNewAccess)


def test_several_policies_on_each_side(catalog: Catalog) -> None:
    before = [doc(allow("s3:Get*")), doc(allow("s3:Put*"))]
    after = [doc(allow(["s3:GetObject", "s3:PutObject"]))]
    assert isinstance(no_new_access(before, after, catalog), NoNewAccess)
    assert isinstance(no_new_access(after, before, catalog), NewAccess)


def test_statements_kept_as_written_add_nothing(catalog: Catalog) -> None:
    # Past the action automaton's budget, yet plainly a subset of the existing statements.
    hard = allow(f"s3:{'*a' * 12}{'?' * 20}")
    existing = doc(hard, allow(GET), deny("s3:Delete*"))
    assert isinstance(no_new_access([existing], [existing], catalog), NoNewAccess)
    assert isinstance(
        no_new_access([existing], [doc(hard, deny("s3:Delete*"))], catalog), NoNewAccess
    )
    # Dropping an existing Deny is not keeping statements as written.
    assert not isinstance(no_new_access([existing], [doc(hard, allow(GET))], catalog), NoNewAccess)


def test_no_proposed_allow_is_no_new_access(catalog: Catalog) -> None:
    assert isinstance(no_new_access([doc(allow(GET))], [doc(deny("*"))], catalog), NoNewAccess)
    assert isinstance(no_new_access([], [], catalog), NoNewAccess)


def test_complementary_conditions_are_recognised(catalog: Catalog) -> None:
    never = {
        "StringEquals": {"aws:username": "alice"},
        "StringNotEquals": {"aws:username": "alice"},
    }
    assert isinstance(no_new_access([], [doc(allow(GET, Condition=never))], catalog), NoNewAccess)


def test_unsatisfiable_conditions_are_only_possible_new_access(catalog: Catalog) -> None:
    # Two different values for one single-valued key: no context meets both, but the analysis
    # treats them as independent, and no request can confirm the finding.
    contradiction = {
        "StringEquals": {"aws:username": "alice"},
        "StringLike": {"aws:username": "bob*"},
    }
    result = no_new_access([], [doc(allow(GET, Condition=contradiction))], catalog)
    assert isinstance(result, PossibleNewAccess)
    assert "proposed[0].Statement[0]" in result.reason


PAIRS = "*?" * 30  # `re` backtracked through every split of these: minutes per match before


@pytest.mark.parametrize(
    ("existing", "proposed"),
    [
        pytest.param([allow(GET)], [allow(f"s3:{PAIRS}x")], id="action"),
        pytest.param([allow(f"s3:{PAIRS}x")], [allow(f"s3:{PAIRS}?")], id="actions both sides"),
        pytest.param([allow(GET, f"{S3}{PAIRS}x")], [allow(GET, f"{S3}{PAIRS}")], id="resource"),
    ],
)
def test_repeated_wildcard_pairs_are_compared_exactly(
    catalog: Catalog, existing: list[dict[str, Any]], proposed: list[dict[str, Any]]
) -> None:
    before, after = [doc(*existing)], [doc(*proposed)]
    assert_really_new(before, after, no_new_access(before, after, catalog))


def test_patterns_past_the_automaton_budget_are_possible_new_access(catalog: Catalog) -> None:
    # `*a` then twenty `?`: the subset automaton needs 2**20 states to remember where each `a`
    # was; the check gives up within its budget and says why.
    hard = f"{S3}*a{'?' * 20}"
    result = no_new_access([doc(allow(GET, hard))], [doc(allow(GET, f"{hard}*"))], catalog)
    assert isinstance(result, PossibleNewAccess)
    assert "resource patterns too complex" in result.reason


# Properties -------------------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:Zzzfuture",
    "sqs:SendMessage",
]
ACTION_PATTERNS = [
    *ACTIONS[:4],
    "sqs:SendMessage",
    "s3:*",
    "s3:Get*",
    "s3:*Object",
    "*",
    "s3:?etObject",
    "s3:Put*",
    "*Object",
    "s?s:*",
]
CONDITIONS: list[dict[str, Any]] = [
    {},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:username": "alice"}},
    {"StringNotEquals": {"aws:username": "bob"}},
]
CONTEXTS: list[dict[str, tuple[str, ...]]] = [
    {},
    {"aws:securetransport": ("true",)},
    {"aws:securetransport": ("false",), "aws:username": ("alice",)},
    {"aws:username": ("bob",)},
    {"aws:username": ("alice",), "aws:securetransport": ("true",)},
    {"aws:username": ("a",)},
    {"aws:username": ("ab",), "aws:securetransport": ("true",)},
]

RESOURCE_TOKENS = ["a", "b", "/", "*", "?"]


def resource_globs(variables: bool) -> st.SearchStrategy[str]:
    tokens = [*RESOURCE_TOKENS, "${aws:username}"] if variables else RESOURCE_TOKENS
    return st.lists(st.sampled_from(tokens), max_size=4).map("".join)


resource_strings = st.text(alphabet="ab/", max_size=5)


@st.composite
def statements(draw: st.DrawFn, conditions: bool = True) -> dict[str, Any]:
    """Conditions and policy variables, or (`conditions=False`) neither."""
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        draw(st.sampled_from(["Action", "Action", "Action", "NotAction"])): draw(
            st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2)
        ),
        draw(st.sampled_from(["Resource", "Resource", "NotResource"])): draw(
            st.lists(resource_globs(variables=conditions), min_size=1, max_size=2)
        ),
    }
    condition = draw(st.sampled_from(CONDITIONS)) if conditions else {}
    if condition:
        statement["Condition"] = condition
    return statement


def policies(conditions: bool = True) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(statements(conditions), min_size=1, max_size=4)


requests = st.builds(
    Request,
    st.sampled_from(ACTIONS),
    resource_strings,
    st.sampled_from(CONTEXTS),
)
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(policies())
def test_a_policy_adds_nothing_to_itself(catalog: Catalog, body: list[dict[str, Any]]) -> None:
    policy = doc(*body)
    assert isinstance(no_new_access([policy], [policy], catalog), NoNewAccess)


@FAST
@given(policies(), st.data())
def test_a_subset_of_the_allows_adds_nothing(
    catalog: Catalog, body: list[dict[str, Any]], data: st.DataObject
) -> None:
    kept = [s for s in body if s["Effect"] == "Deny" or data.draw(st.booleans())]
    assume(any(s["Effect"] == "Allow" for s in kept))
    result = no_new_access([doc(*body)], [doc(*kept)], catalog)
    assert isinstance(result, NoNewAccess), result


@FAST
@given(policies(), st.data(), st.lists(statements(), max_size=1), statements())
def test_adding_a_deny_never_adds_access(
    catalog: Catalog,
    existing: list[dict[str, Any]],
    data: st.DataObject,
    more: list[dict[str, Any]],
    extra: dict[str, Any],
) -> None:
    # A proposal near the existing policy (some of its statements, maybe one more), so that
    # "no new access" before the Deny is common.
    near = [s for s in existing if data.draw(st.booleans())] + more
    before = [doc(*existing)]
    plain = no_new_access(before, [doc(*near)], catalog) if near else NoNewAccess()
    denied = no_new_access(before, [doc(*near, {**extra, "Effect": "Deny"})], catalog)
    if isinstance(plain, NoNewAccess):
        assert isinstance(denied, NoNewAccess), denied


@FAST
@given(policies(), policies())
def test_a_counterexample_is_really_new_access(
    catalog: Catalog, existing: list[dict[str, Any]], proposed: list[dict[str, Any]]
) -> None:
    before, after = [doc(*existing)], [doc(*proposed)]
    result = no_new_access(before, after, catalog)
    if isinstance(result, NewAccess):
        assert_really_new(before, after, result)


@FAST
@given(policies(), policies(), st.lists(requests, min_size=1, max_size=25))
def test_no_new_access_is_sound(
    catalog: Catalog,
    existing: list[dict[str, Any]],
    proposed: list[dict[str, Any]],
    probes: list[Request],
) -> None:
    before, after = [doc(*existing)], [doc(*proposed)]
    if isinstance(no_new_access(before, after, catalog), NoNewAccess):
        for request in probes:
            if allowed(after, request):
                assert allowed(before, request), request


@FAST
@given(policies(conditions=False), policies(conditions=False))
def test_without_conditions_the_answer_is_exact(
    catalog: Catalog, existing: list[dict[str, Any]], proposed: list[dict[str, Any]]
) -> None:
    """Never a merely possible finding: new access is either ruled out or proven, except
    where it lies only on resources that are no ARN of the action (these random patterns are
    mostly not ARNs), which no request AWS could receive confirms."""
    result = no_new_access([doc(*existing)], [doc(*proposed)], catalog)
    if isinstance(result, PossibleNewAccess):
        assert "no request AWS could receive confirmed it" in result.reason, result
