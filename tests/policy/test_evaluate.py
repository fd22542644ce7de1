"""The IAM decision. Doc examples cite the IAM User Guide pages:
[eval] reference_policies_evaluation-logic.html and ..._policy-eval-basics.html
[boundary] access_policies_boundaries.html; [kms] KMS developer guide, key-policy-default.html
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpha.policy.evaluate import (
    Decision,
    PolicyLayer,
    PolicySet,
    Request,
    compile_policy_set,
)
from alpha.policy.model import Policy
from alpha.policy.parse import parse_policy

ACCOUNT = "111122223333"
CARLOS = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/s1"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> Policy:
    body: dict[str, Any] = {"Statement": list(statements)}
    if version:
        body["Version"] = version
    return parse_policy(body)


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(policy_set: PolicySet, action: str, resource: str, **request: Any) -> Any:
    return compile_policy_set(policy_set).evaluate(Request(action, resource, **request))


# [eval] "Example identity-based and resource-based policy evaluation": Carlos may list
# buckets and use his own bucket, and DenyS3Logs wins over the logs bucket's policy.
CARLOS_POLICY = doc(
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*",
            "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar",
        ],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
LOGS_BUCKET_POLICY = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": CARLOS},
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*",
    }
)


def test_carlos_explicit_deny_beats_both_allows() -> None:
    result = decide(
        PolicySet((CARLOS_POLICY,), resource_policy=LOGS_BUCKET_POLICY),
        "s3:PutObject",
        "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/f.log",
        principal=CARLOS,
    )
    assert result.decision is Decision.EXPLICITLY_DENIED
    assert [(r.kind, r.sid) for r in result.statements] == [(PolicyLayer.IDENTITY, "DenyS3Logs")]


def test_carlos_own_bucket_is_allowed_by_his_statement() -> None:
    result = decide(
        PolicySet((CARLOS_POLICY,)),
        "S3:PUTOBJECT",
        "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/notes.txt",
    )
    assert result.decision is Decision.ALLOWED
    assert [r.sid for r in result.statements] == ["AllowS3Self"]


S3_READ = doc(allow("s3:GetObject"))
BOUNDARY_EC2 = doc(allow("ec2:*"))
SCP_ALL = doc(allow("*"))
SCP_S3 = doc(allow("s3:*"))
SCP_EC2 = doc(allow("ec2:*"))
OBJ = "arn:aws:s3:::bucket/key"


@pytest.mark.parametrize(
    ("policy_set", "request_args", "decision", "missing"),
    [
        # identity policy alone
        (PolicySet((S3_READ,)), {}, Decision.ALLOWED, None),
        (PolicySet(()), {}, Decision.IMPLICITLY_DENIED, PolicyLayer.IDENTITY),
        # [boundary] the effective permissions are the intersection with the boundary
        (
            PolicySet((S3_READ,), boundary=BOUNDARY_EC2),
            {},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.BOUNDARY,
        ),
        (PolicySet((S3_READ,), boundary=SCP_S3), {}, Decision.ALLOWED, None),
        (PolicySet((), boundary=SCP_S3), {}, Decision.IMPLICITLY_DENIED, PolicyLayer.IDENTITY),
        # SCPs: every level must allow
        (PolicySet((S3_READ,), scps=(SCP_ALL, SCP_S3)), {}, Decision.ALLOWED, None),
        (
            PolicySet((S3_READ,), scps=(SCP_ALL, SCP_EC2)),
            {},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.SCP,
        ),
        # same-account resource policy naming the user: enough without identity allow, and
        # not limited by the boundary
        (
            PolicySet(
                (),
                boundary=BOUNDARY_EC2,
                resource_policy=doc(allow("s3:GetObject", Principal={"AWS": CARLOS})),
            ),
            {"principal": CARLOS},
            Decision.ALLOWED,
            None,
        ),
        # ... but the SCP still applies
        (
            PolicySet(
                (),
                scps=(SCP_EC2,),
                resource_policy=doc(allow("s3:GetObject", Principal={"AWS": CARLOS})),
            ),
            {"principal": CARLOS},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.SCP,
        ),
        # naming the role: the boundary limits it; naming the role session: it does not
        (
            PolicySet(
                (),
                boundary=BOUNDARY_EC2,
                resource_policy=doc(allow("s3:GetObject", Principal={"AWS": ROLE})),
            ),
            {"principal": SESSION},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.BOUNDARY,
        ),
        (
            PolicySet((), resource_policy=doc(allow("s3:GetObject", Principal={"AWS": ROLE}))),
            {"principal": SESSION},
            Decision.ALLOWED,
            None,
        ),
        (
            PolicySet(
                (),
                boundary=BOUNDARY_EC2,
                resource_policy=doc(allow("s3:GetObject", Principal={"AWS": SESSION})),
            ),
            {"principal": SESSION},
            Decision.ALLOWED,
            None,
        ),
        # naming the account delegates to the identity policies
        (
            PolicySet((), resource_policy=doc(allow("s3:GetObject", Principal={"AWS": ACCOUNT}))),
            {"principal": CARLOS},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.IDENTITY,
        ),
        # a resource policy naming someone else grants nothing
        (
            PolicySet((), resource_policy=doc(allow("s3:GetObject", Principal={"AWS": ROLE}))),
            {"principal": CARLOS},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.IDENTITY,
        ),
        # cross-account: both sides must allow
        (
            PolicySet(
                (S3_READ,),
                resource_policy=doc(allow("s3:GetObject", Principal={"AWS": "444455556666"})),
            ),
            {"principal": CARLOS, "resource_account": "444455556666"},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.RESOURCE,
        ),
        (
            PolicySet(
                (S3_READ,), resource_policy=doc(allow("s3:GetObject", Principal={"AWS": ACCOUNT}))
            ),
            {"principal": CARLOS, "resource_account": "444455556666"},
            Decision.ALLOWED,
            None,
        ),
        (
            PolicySet((), resource_policy=doc(allow("s3:GetObject", Principal={"AWS": CARLOS}))),
            {"principal": CARLOS, "resource_account": "444455556666"},
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.IDENTITY,
        ),
        # a Deny in the resource policy applies to the principals it names
        (
            PolicySet((S3_READ,), resource_policy=doc(deny("s3:*", Principal="*"))),
            {"principal": CARLOS},
            Decision.EXPLICITLY_DENIED,
            None,
        ),
        (
            PolicySet((S3_READ,), resource_policy=doc(deny("s3:*", Principal={"AWS": ROLE}))),
            {"principal": CARLOS},
            Decision.ALLOWED,
            None,
        ),
        (
            PolicySet((S3_READ,), resource_policy=doc(deny("s3:*", NotPrincipal={"AWS": ROLE}))),
            {"principal": CARLOS},
            Decision.EXPLICITLY_DENIED,
            None,
        ),
        # Deny anywhere wins: in an SCP, in the boundary
        (
            PolicySet((S3_READ,), scps=(doc(allow("*"), deny("s3:GetObject")),)),
            {},
            Decision.EXPLICITLY_DENIED,
            None,
        ),
        (
            PolicySet((S3_READ,), boundary=doc(allow("*"), deny("s3:Get*"))),
            {},
            Decision.EXPLICITLY_DENIED,
            None,
        ),
    ],
)
def test_layers(
    policy_set: PolicySet,
    request_args: dict[str, Any],
    decision: Decision,
    missing: PolicyLayer | None,
) -> None:
    result = decide(policy_set, "s3:GetObject", OBJ, **request_args)
    assert result.decision is decision
    assert (result.missing.layer if result.missing else None) is missing


def test_scp_level_is_named() -> None:
    result = decide(PolicySet((S3_READ,), scps=(SCP_ALL, SCP_S3, SCP_EC2)), "s3:GetObject", OBJ)
    assert result.missing is not None
    assert (result.missing.layer, result.missing.level) == (PolicyLayer.SCP, 2)
    assert "SCP level 2" in str(result.missing)


KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd"
KMS_USE = doc(allow(["kms:Decrypt", "kms:Encrypt"]))


@pytest.mark.parametrize(
    ("identity", "key_policy", "decision", "missing"),
    [
        # [kms] the default key policy gives the account root access, enabling IAM policies
        (
            (KMS_USE,),
            doc(allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
            Decision.ALLOWED,
            None,
        ),
        (
            (),
            doc(allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.IDENTITY,
        ),
        # a key policy that does not enable IAM policies: the identity grant does not count
        (
            (KMS_USE,),
            doc(allow("kms:*", Principal={"AWS": ROLE})),
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.KMS_KEY_POLICY,
        ),
        # a key policy naming the caller allows on its own
        ((), doc(allow("kms:Decrypt", Principal={"AWS": CARLOS})), Decision.ALLOWED, None),
        (
            (KMS_USE,),
            doc(allow("kms:Encrypt", Principal={"AWS": CARLOS})),
            Decision.IMPLICITLY_DENIED,
            PolicyLayer.KMS_KEY_POLICY,
        ),
    ],
)
def test_kms_key_policy_must_allow(
    identity: tuple[Policy, ...],
    key_policy: Policy,
    decision: Decision,
    missing: PolicyLayer | None,
) -> None:
    result = decide(
        PolicySet(identity, resource_policy=key_policy), "kms:Decrypt", KEY, principal=CARLOS
    )
    assert result.decision is decision
    assert (result.missing.layer if result.missing else None) is missing


def test_without_a_key_policy_kms_is_decided_by_identity_policies() -> None:
    assert decide(PolicySet((KMS_USE,)), "kms:Decrypt", KEY).decision is Decision.ALLOWED


def test_all_matching_denies_are_reported() -> None:
    policy = doc(
        {**deny("s3:*"), "Sid": "A"},
        {**allow("s3:*"), "Sid": "B"},
        {**deny("s3:Get*", OBJ), "Sid": "C"},
        {**deny("ec2:*"), "Sid": "D"},
    )
    result = decide(PolicySet((policy,)), "s3:GetObject", OBJ)
    assert [r.sid for r in result.statements] == ["A", "C"]
    assert all(r.statement in (0, 2) for r in result.statements)


def test_allowed_reports_the_allowing_statements_of_each_layer() -> None:
    policy_set = PolicySet((S3_READ, doc(allow("s3:*"))), boundary=SCP_S3, scps=(SCP_ALL,))
    result = decide(policy_set, "s3:GetObject", OBJ)
    assert [(r.kind, r.policy) for r in result.statements] == [
        (PolicyLayer.IDENTITY, 0),
        (PolicyLayer.IDENTITY, 1),
        (PolicyLayer.BOUNDARY, 0),
        (PolicyLayer.SCP, 0),
    ]


@pytest.mark.parametrize(
    ("statement", "action", "resource", "expected"),
    [
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, "s3:GetObject", OBJ, False),
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, "ec2:RunInstances", OBJ, True),
        ({"Effect": "Allow", "NotAction": "s3:Put*", "Resource": "*"}, "s3:GetObject", OBJ, True),
        (
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::bucket/*"},
            "s3:GetObject",
            OBJ,
            False,
        ),
        (
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::other/*"},
            "s3:GetObject",
            OBJ,
            True,
        ),
        ({"Effect": "Allow", "Action": "*:Get*", "Resource": "*"}, "s3:GetObject", OBJ, True),
        ({"Effect": "Allow", "Action": "s?:GetObject", "Resource": "*"}, "s3:GetObject", OBJ, True),
        ({"Effect": "Allow", "Action": "S3:getobject", "Resource": "*"}, "s3:GetObject", OBJ, True),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::Bucket/key"},
            "s3:GetObject",
            OBJ,
            False,
        ),
    ],
)
def test_statement_elements(
    statement: dict[str, Any], action: str, resource: str, expected: bool
) -> None:
    result = decide(PolicySet((doc(statement),)), action, resource)
    assert result.allowed is expected


def test_variables_in_resources_follow_the_policy_version() -> None:
    own = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"}
    context = {"aws:username": ("alice",)}
    assert decide(
        PolicySet((doc(own),)), "s3:GetObject", "arn:aws:s3:::b/alice/k", context=context
    ).allowed
    assert not decide(PolicySet((doc(own),)), "s3:GetObject", "arn:aws:s3:::b/alice/k").allowed
    legacy = doc(own, version="2008-10-17")
    assert not decide(
        PolicySet((legacy,)), "s3:GetObject", "arn:aws:s3:::b/alice/k", context=context
    ).allowed
    literal = "arn:aws:s3:::b/${aws:username}/k"
    assert decide(PolicySet((legacy,)), "s3:GetObject", literal, context=context).allowed


def test_request_context_keys_are_case_insensitive() -> None:
    policy = doc(allow("s3:*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))
    request = Request("s3:GetObject", OBJ, {"AWS:REQUESTEDREGION": ("eu-west-1",)})
    assert compile_policy_set(PolicySet((policy,))).evaluate(request).allowed


# --- properties ------------------------------------------------------------------------------

SERVICES = ["s3", "ec2", "iam"]
NAMES = ["GetObject", "PutObject", "ListBucket", "RunInstances", "GetUser"]
action_patterns = st.one_of(
    st.just("*"),
    st.builds(
        lambda s, n: f"{s}:{n}",
        st.sampled_from(SERVICES),
        st.sampled_from([*NAMES, "*", "Get*", "?etObject", "*Object"]),
    ),
)
resource_patterns = st.sampled_from(
    [
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/a?",
        "arn:aws:s3:::*",
        "arn:aws:s3:::b/ab",
        "arn:aws:ec2:*",
    ]
)
statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(action_patterns, min_size=1, max_size=3),
        "Resource": st.lists(resource_patterns, min_size=1, max_size=2),
    }
)
actions = st.builds(lambda s, n: f"{s}:{n}", st.sampled_from(SERVICES), st.sampled_from(NAMES))
resources = st.sampled_from(
    [
        "arn:aws:s3:::b/ab",
        "arn:aws:s3:::b/ac",
        "arn:aws:s3:::b/abc",
        "arn:aws:ec2:us-east-1:1:x",
        "x",
    ]
)


def reference_decision(raw: list[dict[str, Any]], action: str, resource: str) -> Decision:
    """A straightforward reading of the rules with fnmatch, for statements without conditions."""

    def hits(statement: dict[str, Any]) -> bool:
        return any(
            fnmatch.fnmatchcase(action.lower(), p.lower()) for p in statement["Action"]
        ) and any(fnmatch.fnmatchcase(resource, p) for p in statement["Resource"])

    matching = [s["Effect"] for s in raw if hits(s)]
    if "Deny" in matching:
        return Decision.EXPLICITLY_DENIED
    return Decision.ALLOWED if "Allow" in matching else Decision.IMPLICITLY_DENIED


@settings(max_examples=200)
@given(st.lists(statements, max_size=6), actions, resources)
def test_matches_a_reference_evaluation(
    raw: list[dict[str, Any]], action: str, resource: str
) -> None:
    policies = (doc(*raw),) if raw else ()
    assert decide(PolicySet(policies), action, resource).decision is reference_decision(
        raw, action, resource
    )


@settings(max_examples=200)
@given(st.lists(statements, min_size=1, max_size=5), statements, actions, resources)
def test_adding_a_deny_never_widens(
    raw: list[dict[str, Any]], extra: dict[str, Any], action: str, resource: str
) -> None:
    before = decide(PolicySet((doc(*raw),)), action, resource)
    after = decide(PolicySet((doc(*raw, {**extra, "Effect": "Deny"}),)), action, resource)
    assert after.allowed <= before.allowed


@settings(max_examples=100)
@given(st.lists(statements, min_size=1, max_size=5), actions, resources, st.randoms())
def test_decision_is_case_insensitive_in_the_action(
    raw: list[dict[str, Any]], action: str, resource: str, rnd: Any
) -> None:
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in action)
    evaluator = compile_policy_set(PolicySet((doc(*raw),)))
    assert (
        evaluator.evaluate(Request(mixed, resource)).decision
        is evaluator.evaluate(Request(action, resource)).decision
    )


def test_get_caller_identity_is_allowed_whatever_the_policies_say() -> None:
    denied = parse_policy(
        {"Statement": [{"Effect": "Deny", "Action": "sts:*", "Resource": "*"}]}, "deny.json"
    )
    evaluator = compile_policy_set(PolicySet(identity=(denied,)))
    assert evaluator.evaluate(Request("sts:GetCallerIdentity", "*")).allowed
    assert not evaluator.evaluate(Request("sts:AssumeRole", "*")).allowed
    assert compile_policy_set(PolicySet()).evaluate(Request("STS:getcalleridentity", "*")).allowed
