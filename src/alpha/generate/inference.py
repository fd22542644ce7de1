"""Permissions CloudTrail never shows, inferred from the calls it does show.

Each inference yields `Need`s marked with the reason; the generator keeps one only when the
existing grants cover it (under the same conditions), so an inference never widens anything.

- s3:ListBucket on a bucket whose objects are read: listing and paging (ListObjectsV2) need it,
  and without it a missing key answers 403 instead of 404.
- KMS on behalf of S3, SQS, SNS, Secrets Manager and DynamoDB: reading from an encrypted
  resource needs kms:Decrypt, writing kms:GenerateDataKey (and Decrypt, for multipart uploads
  and envelope reads), through the service: scoped with `kms:ViaService` =
  `<service>.<region>.amazonaws.com` (any region, `StringLike`, when the region is unknown).
  Added only when the existing policies grant that KMS action at all.
- ec2:CreateTags for EC2 create calls, which need it when they pass TagSpecifications; scoped
  with `ec2:CreateAction` to those calls, so it cannot retag existing resources.
- iam:PassRole for the roles actually passed, with `iam:PassedToService`: the roles come from
  `ObservedCall.passed_roles` (the usage layer reads them from the request: lambda's `role`,
  ECS's `taskRoleArn`/`executionRoleArn`, CodeBuild's `serviceRole`, ...) or, for EC2, from an
  instance-profile ARN via the account. A passing call whose request named no role the logs
  kept is listed by `pass_role_gaps`, so the proposal can say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from alpha.generate.model import ObservedCall
from alpha.policy.model import Condition
from alpha.usage.authorisations import PASSED_TO

LIST_BUCKET_FOR = frozenset({"s3:getobject", "s3:getobjectversion"})

# (service, action lower-cased) -> KMS actions it needs on an encrypted resource.
_KMS_READ = ("kms:Decrypt",)
_KMS_WRITE = ("kms:Decrypt", "kms:GenerateDataKey")
KMS_ON_BEHALF: Mapping[str, tuple[str, ...]] = {
    "s3:getobject": _KMS_READ,
    "s3:getobjectversion": _KMS_READ,
    "s3:putobject": _KMS_WRITE,
    "sqs:receivemessage": _KMS_READ,
    "sqs:sendmessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sns:publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "secretsmanager:getsecretvalue": _KMS_READ,
    "secretsmanager:putsecretvalue": ("kms:GenerateDataKey",),
    "dynamodb:getitem": _KMS_READ,
    "dynamodb:batchgetitem": _KMS_READ,
    "dynamodb:query": _KMS_READ,
    "dynamodb:scan": _KMS_READ,
    "dynamodb:putitem": _KMS_WRITE,
    "dynamodb:updateitem": _KMS_WRITE,
    "dynamodb:batchwriteitem": _KMS_WRITE,
}


@dataclass(frozen=True, slots=True)
class Need:
    """A permission the proposal should hold: `resources` are patterns, `inferred` says why
    it was added (None for an observed call)."""

    action: str
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    inferred: str | None = None


@dataclass(frozen=True, slots=True)
class Granted:
    """An observed call with the conditions its existing grant carries."""

    call: ObservedCall
    conditions: tuple[Condition, ...]


def infer(
    granted: Sequence[Granted],
    *,
    account: str | None,
    roles_by_profile: Mapping[str, tuple[str, ...]],
    kinds: frozenset[str],
) -> Iterator[Need]:
    """Every inferred need (`kinds` from "list-bucket", "kms", "create-tags", "pass-role")."""
    if "list-bucket" in kinds:
        yield from _list_bucket(granted)
    if "kms" in kinds:
        yield from _kms(granted, account)
    if "create-tags" in kinds:
        yield from _create_tags(granted, account)
    if "pass-role" in kinds:
        yield from _pass_role(granted, roles_by_profile)


def _list_bucket(granted: Sequence[Granted]) -> Iterator[Need]:
    listed = {g.call.resource for g in granted if g.call.action.lower() == "s3:listbucket"}
    seen: set[tuple[str, tuple[Condition, ...]]] = set()
    for g in granted:
        if g.call.action.lower() not in LIST_BUCKET_FOR:
            continue
        bucket = _bucket_arn(g.call.resource)
        if bucket is None or bucket in listed or (bucket, g.conditions) in seen:
            continue
        seen.add((bucket, g.conditions))
        yield Need(
            "s3:ListBucket",
            (bucket,),
            g.conditions,
            f"{g.call.action} reads objects of {bucket}: listing and paging (ListObjectsV2) "
            "need s3:ListBucket, and without it a missing key answers 403, not 404",
        )


def _bucket_arn(resource: str) -> str | None:
    if not resource.startswith("arn:") or ":s3:::" not in resource:
        return None
    bucket = resource.split(":::", 1)[1].partition("/")[0]
    return f"{resource.split(':::', 1)[0]}:::{bucket}" if bucket and "*" not in bucket else None


def _region_of(call: ObservedCall) -> tuple[str, ...]:
    fields = call.resource.split(":", 5)
    if len(fields) == 6 and fields[3] and "*" not in fields[3]:
        return (fields[3],)
    return call.regions or ("*",)


def _kms(granted: Sequence[Granted], account: str | None) -> Iterator[Need]:
    via: dict[str, set[str]] = {}
    callers: dict[str, set[str]] = {}
    for g in granted:
        needs = KMS_ON_BEHALF.get(g.call.action.lower())
        if needs is None:
            continue
        service = g.call.service
        for kms_action in needs:
            for region in _region_of(g.call):
                via.setdefault(kms_action, set()).add(f"{service}.{region}.amazonaws.com")
            callers.setdefault(kms_action, set()).add(g.call.action)
    for kms_action in sorted(via):
        values = tuple(sorted(via[kms_action]))
        wild = any("*" in v for v in values)
        operator = "StringLike" if wild else "StringEquals"
        condition = Condition(operator, "kms:ViaService", values)
        regions = {v.split(".")[1] for v in values}
        region = regions.pop() if len(regions) == 1 else "*"
        key = f"arn:aws:kms:{region}:{account or '*'}:key/*"
        on_behalf = ", ".join(sorted(callers[kms_action], key=str.lower))
        yield Need(
            kms_action,
            (key,),
            (condition,),
            f"{on_behalf} on resources encrypted with a customer-managed KMS key need "
            f"{kms_action} through the service (kms:ViaService)",
        )


def _create_tags(granted: Sequence[Granted], account: str | None) -> Iterator[Need]:
    creates: dict[str, set[str]] = {}
    observed = {g.call.action.lower() for g in granted}
    if "ec2:createtags" in observed:
        return
    for g in granted:
        service, _, name = g.call.action.partition(":")
        if service.lower() != "ec2" or not (name.startswith("Create") or name == "RunInstances"):
            continue
        if name == "CreateTags":
            continue
        for region in _region_of(g.call):
            creates.setdefault(region, set()).add(name)
    for region, names in sorted(creates.items()):
        condition = Condition("StringEquals", "ec2:CreateAction", tuple(sorted(names)))
        yield Need(
            "ec2:CreateTags",
            (f"arn:aws:ec2:{region}:{account or '*'}:*/*",),
            (condition,),
            f"ec2:{', ec2:'.join(sorted(names))} tag what they create when called with "
            "TagSpecifications, which needs ec2:CreateTags (limited to those calls by "
            "ec2:CreateAction)",
        )


def _passed_roles(
    call: ObservedCall, roles_by_profile: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    if call.passed_roles:
        return call.passed_roles
    return roles_by_profile.get(call.resource, ())


def _pass_role(
    granted: Sequence[Granted], roles_by_profile: Mapping[str, tuple[str, ...]]
) -> Iterator[Need]:
    by_service: dict[str, set[str]] = {}
    why: dict[str, set[str]] = {}
    for g in granted:
        service = PASSED_TO.get(g.call.action.lower())
        if service is None:
            continue
        for role in _passed_roles(g.call, roles_by_profile):
            by_service.setdefault(service, set()).add(role)
            why.setdefault(service, set()).add(g.call.action)
    for service, roles in sorted(by_service.items()):
        calls = ", ".join(sorted(why[service], key=str.lower))
        yield Need(
            "iam:PassRole",
            tuple(sorted(roles)),
            (Condition("StringEquals", "iam:PassedToService", (service,)),),
            f"{calls} passed these roles to {service}; CloudTrail logs the call, not the "
            "iam:PassRole check it needs",
        )


def pass_role_gaps(
    calls: Iterable[ObservedCall], roles_by_profile: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """Observed calls that pass a role the logs do not name (PassRole not inferred)."""
    return tuple(
        sorted(
            {
                c.action
                for c in calls
                if c.action.lower() in PASSED_TO and not _passed_roles(c, roles_by_profile)
            },
            key=str.lower,
        )
    )
