"""What an observed call needs, read the same way by the ingest, generation, replay, the
sandbox and the scan (issue 10).

The ingest (`interpret`, with the mapping table and the resource resolver) turns each call into
the (action, resource) authorisations AWS performs for it; the usage store keeps them. Every
reader then asks this module what a stored pair means:

- `Scope.KNOWN`: the resource is an ARN (or a pattern of one type in one account, for what a
  call creates or leaves to a default): replayed as it is.
- `Scope.ANY`: the resource is `*` and the action requires no resource type (none at all, or
  all optional in the Service Authorization Reference, as `cloudwatch:PutMetricData`): the
  real request's resource is `*`, so only a grant on `*` allows it; replayed on `*`.
- `Scope.UNKNOWN`: `*` for an action that requires a resource type: the logs do not say which.
  Generation grants it on the action's ARN formats in the principal's account (when today's
  grants cover those); no replay can check it against the real resource, so generation's
  replay and the sandbox both report it as not checked.
- `Scope.UNMAPPED`: a call whose action ALPHA cannot tell (`unmapped_action`): activity all the
  same (the principal is used), never evaluated, reported as not checked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from alpha.catalog import Catalog

__all__ = [
    "PASSED_TO",
    "READS_RESPONSE",
    "UNMAPPED_PREFIX",
    "CheckedCall",
    "Scope",
    "checked_call",
    "passed_to_services",
    "resource_scope",
    "service_prefix",
    "typed_patterns",
    "unmapped_action",
    "unmapped_call",
    "unmapped_sources",
]

UNMAPPED_PREFIX = "unmapped:"
# The calls whose authorisations the model reads from `responseElements` too (RunInstances'
# subnet and security groups when the request left them to defaults): an adapter that groups
# calls (Athena) keeps the response of these, and only these. (S3's GetObject and HeadObject may
# name an SSE-KMS key in the response or additionalEventData alone: the ingest reads it, the
# Athena adapter does not keep either, so there only a key the request names is seen.)
READS_RESPONSE = frozenset({("ec2.amazonaws.com", "RunInstances")})
_ARN_VARIABLE = re.compile(r"\$\{([^}]*)\}")

# The service each role-passing call (the mapping table's `iam:PassRole@passed`) hands its role
# to, by action (lower-cased): what IAM puts in `iam:PassedToService` when it authorises the
# call's iam:PassRole (IAM user guide, "Granting a user permissions to pass a role to an AWS
# service" and the iam:PassedToService condition key: the service principal, so an ECS task role
# goes to `ecs-tasks.amazonaws.com`, an instance profile's role to `ec2.amazonaws.com`).
PASSED_TO: Mapping[str, str] = MappingProxyType(
    {
        "lambda:createfunction": "lambda.amazonaws.com",
        "lambda:updatefunctionconfiguration": "lambda.amazonaws.com",
        "ecs:registertaskdefinition": "ecs-tasks.amazonaws.com",
        "ecs:runtask": "ecs-tasks.amazonaws.com",
        "ecs:starttask": "ecs-tasks.amazonaws.com",
        "ec2:runinstances": "ec2.amazonaws.com",
        "ec2:associateiaminstanceprofile": "ec2.amazonaws.com",
        "ec2:replaceiaminstanceprofileassociation": "ec2.amazonaws.com",
        "glue:createjob": "glue.amazonaws.com",
        "glue:updatejob": "glue.amazonaws.com",
        "glue:createcrawler": "glue.amazonaws.com",
        "glue:updatecrawler": "glue.amazonaws.com",
        "glue:createdevendpoint": "glue.amazonaws.com",
        "sagemaker:createtrainingjob": "sagemaker.amazonaws.com",
        "sagemaker:createmodel": "sagemaker.amazonaws.com",
        "sagemaker:createnotebookinstance": "sagemaker.amazonaws.com",
        "sagemaker:createprocessingjob": "sagemaker.amazonaws.com",
        "states:createstatemachine": "states.amazonaws.com",
        "states:updatestatemachine": "states.amazonaws.com",
        "codebuild:createproject": "codebuild.amazonaws.com",
        "codebuild:updateproject": "codebuild.amazonaws.com",
        "cloudformation:createstack": "cloudformation.amazonaws.com",
        "cloudformation:updatestack": "cloudformation.amazonaws.com",
    }
)


class Scope(StrEnum):
    KNOWN = "known"
    ANY = "any"
    UNKNOWN = "unknown"
    UNMAPPED = "unmapped"


def unmapped_action(event_source: str, event_name: str) -> str:
    """The stand-in action a call ALPHA cannot map is stored under (no IAM prefix has `:` or
    `/` in it, so it never meets a real action)."""
    return f"{UNMAPPED_PREFIX}{event_source}/{event_name}"


def unmapped_call(action: str) -> tuple[str, str] | None:
    """(eventSource, eventName) of a stand-in action; None for a real one."""
    if not action.startswith(UNMAPPED_PREFIX):
        return None
    source, _, name = action[len(UNMAPPED_PREFIX) :].partition("/")
    return source, name


def resource_scope(catalog: Catalog, action: str, resource: str) -> Scope:
    if action.startswith(UNMAPPED_PREFIX):
        return Scope.UNMAPPED
    if resource != "*":
        return Scope.KNOWN
    found = catalog.action(action)
    if found is None or any(r.required for r in found.resources):
        return Scope.UNKNOWN
    return Scope.ANY


def typed_patterns(
    catalog: Catalog, action: str, account: str | None, limit: int
) -> tuple[str, ...]:
    """The action's ARN formats in `account` (any region, any name): where an unknown resource
    is granted. Above `limit` formats (ec2:CreateTags takes ~100), their common prefix in the
    account; none when the account is unknown or nothing narrower than `*` fits."""
    found = catalog.action(action)
    if found is None or account is None:
        return ()
    values = {"Partition": "aws", "Account": account}
    unique = sorted(
        {
            _ARN_VARIABLE.sub(lambda m: values.get(m.group(1), "*"), rtype.arn_format)
            for rtype in catalog.resource_types_of(found)
        }
    )
    if len(unique) <= limit:
        return tuple(unique)
    prefix = os.path.commonprefix(unique)  # noqa: RUF071 (characters, on purpose)
    cut = max(prefix.rfind(":"), prefix.rfind("/"))
    return (prefix[: cut + 1] + "*",) if cut > len("arn:aws:") else ()


@dataclass(frozen=True, slots=True)
class CheckedCall:
    """How one stored (action, resource) is replayed: the resources to evaluate the action on
    (all must be allowed; none when it cannot be checked), and why not, if it cannot."""

    scope: Scope
    resources: tuple[str, ...]
    shortfall: str | None


def checked_call(catalog: Catalog, action: str, resource: str) -> CheckedCall:
    """The one reading of a stored pair that generation's replay and the sandbox share."""
    scope = resource_scope(catalog, action, resource)
    if scope is Scope.UNMAPPED:
        source, name = unmapped_call(action) or ("", "")
        return CheckedCall(scope, (), f"ALPHA cannot map {source} {name} to IAM actions")
    if scope is Scope.UNKNOWN:
        return CheckedCall(scope, (), "the logs do not name the resource this action requires")
    return CheckedCall(scope, (resource,), None)


def service_prefix(catalog: Catalog, event_source: str) -> str | None:
    """The IAM prefix of an eventSource (the mapping table's `sources`, else its host when the
    catalog has that service); None when no service is known."""
    from alpha.usage.mapping import load_mapping_table

    prefix = load_mapping_table().sources.get(event_source)
    if prefix is not None:
        return prefix
    host = event_source.removesuffix(".amazonaws.com")
    return host if catalog.has_service(host) else None


def unmapped_sources(actions: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The (eventSource, eventName) of each stand-in action among `actions`, sorted."""
    return tuple(sorted({c for a in actions if (c := unmapped_call(a)) is not None}))


def passed_to_services(actions: Iterable[str]) -> tuple[str, ...]:
    """The services the calls of `actions` pass roles to (`PASSED_TO`), sorted."""
    return tuple(sorted({s for a in actions if (s := PASSED_TO.get(a.lower())) is not None}))
