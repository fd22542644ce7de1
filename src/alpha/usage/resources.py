"""The resources an action was used on: ARNs from the event's resources[] first, else built from
requestParameters with the catalog's ARN formats, else `*` (unknown, recorded as such).

Partition comes from the region (`cn-*` -> aws-cn, `us-gov-*` -> aws-us-gov, else aws); regions
are never checked against a list (anonymised logs carry made-up ones). The account is the
event's recipientAccountId, else the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alpha.catalog import Catalog
from alpha.usage.events import CloudTrailEvent, EventResource
from alpha.usage.request_arns import (
    ATHENA_DATABASE,
    ATHENA_RESULTS,
    ATHENA_TABLE,
    BUILDERS,
    route_arn,
)

UNKNOWN_RESOURCE = "*"
PASSED = "passed"
"""The mapping-table side of an implied `iam:PassRole`: the role the request passes."""
_UNKNOWN = (UNKNOWN_RESOURCE,)
_NAMED_ROLES = ("new:", "type:", "route:")
# Sides of a call authorised only when the request names them (a role passed, layers given)
# S3's SSE-KMS key, read from the request, response or additionalEventData: a call naming none
# needs no key (the object is not SSE-KMS, or the logs do not say; `fast_tally.MARKS`)
SSE_KMS = "sse-kms"
MARKED_ROLES = frozenset({SSE_KMS})
_ONLY_WHEN_NAMED = frozenset(
    {PASSED, "layers", SSE_KMS, ATHENA_DATABASE, ATHENA_TABLE, ATHENA_RESULTS}
)
_TEMPLATE_PART = re.compile(r"\$\{([^}]*)\}")


def partition_of(region: str | None) -> str:
    if region:
        if region.startswith("cn-"):
            return "aws-cn"
        if region.startswith("us-gov-"):
            return "aws-us-gov"
    return "aws"


@dataclass(frozen=True, slots=True)
class _ActionTypes:
    """What the resolver needs about one action, computed once."""

    service: str
    names: frozenset[str]  # the action's resource types, lower case
    required: frozenset[str]  # those the reference marks required, lower case
    # every resource type of the service (lower case) -> whether the action takes it
    takes: Mapping[str, bool]
    patterns: tuple[re.Pattern[str], ...]


_NO_TYPES = _ActionTypes("", frozenset(), frozenset(), {}, ())
# Services whose required resource types are each authorised (EC2: a call is checked against
# every resource it touches); elsewhere several required types are alternatives (Bedrock's
# InvokeModel takes a foundation model or a profile or ...).
_ALL_REQUIRED = frozenset({"ec2"})


class _Template:
    """An ARN format split into literals and variable names, filled without regex."""

    __slots__ = ("parts",)

    def __init__(self, arn_format: str) -> None:
        pieces = _TEMPLATE_PART.split(arn_format)
        # even indexes are literals, odd ones variable names
        self.parts = tuple((i % 2 == 1, piece) for i, piece in enumerate(pieces))

    def fill_any(self, values: Mapping[str, str]) -> str:
        """The format with `values` filled in and every other variable `*`: each ARN of the
        type in that partition, region and account."""
        return "".join(
            (values.get(piece) or "*") if is_var else piece for is_var, piece in self.parts
        )

    def fill(self, values: Mapping[str, str]) -> str | None:
        out = []
        for is_var, piece in self.parts:
            if is_var:
                value = values.get(piece)
                if value is None:
                    return None
                out.append(value)
            else:
                out.append(piece)
        return "".join(out)


class _Context:
    """One event's request, as the builders see it (implements request_arns.RequestContext)."""

    __slots__ = (
        "_defaults",
        "_resolver",
        "additional",
        "caller_user",
        "params",
        "response",
        "role",
    )

    def __init__(self, resolver: ResourceResolver, event: CloudTrailEvent, role: str) -> None:
        self._resolver = resolver
        self.params: Mapping[str, Any] = event.requestParameters or {}
        response = event.responseElements
        self.response: Mapping[str, Any] = response if isinstance(response, dict) else {}
        additional = event.additionalEventData
        self.additional: Mapping[str, Any] = additional if isinstance(additional, dict) else {}
        self.role = role
        identity = event.userIdentity
        is_user = identity is not None and identity.type == "IAMUser"
        self.caller_user = identity.arn if is_user and identity is not None else None
        account = event.recipientAccountId or (identity.accountId if identity else None) or ""
        region = event.awsRegion or ""
        self._defaults = {"Partition": partition_of(region), "Region": region, "Account": account}

    @property
    def defaults(self) -> dict[str, str]:
        return self._defaults

    def arn(self, service: str, resource_type: str, **names: str) -> str | None:
        template = self._resolver.template(service, resource_type)
        if template is None:
            return None
        return template.fill(self.defaults | names)


class ResourceResolver:
    """Finds the resource ARNs of (action, event). Per-action data is cached."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._types: dict[str, _ActionTypes] = {}
        self._templates: dict[tuple[str, str], _Template | None] = {}
        self._kinds: dict[str | None, str] = {}  # resources[].type -> its lower-case last part

    def resources(self, action: str, event: CloudTrailEvent, role: str = "") -> tuple[str, ...]:
        """The ARNs `action` was used on in `event` (`("*",)` when unknown). `role` names the
        side of a multi-resource call ("source", "destination", "table:NAME", ...); for
        `PASSED` (the role another service's call hands over) it is empty when the request
        names no role."""
        types = self._types.get(action)
        if types is None:
            types = self._types[action] = self._action_types(action)
        if not types.names:
            return _UNKNOWN  # the action takes no resource: `*` is the only possible one
        if role.startswith(("table:", "index:")):
            return self._dynamodb_role(role, event) or _UNKNOWN
        if role.startswith(_NAMED_ROLES):
            return self._named_role(action, types, role, event)
        if role == "tags" or role.startswith("tags:"):
            # tagging on create (iam:TagRole for CreateRole with tags): only when tags are
            # given, on the call's own resource (or its resource of the type named)
            if not _has_tags(event.requestParameters):
                return ()
            kind = role.partition(":")[2]
            return self.resources(action, event, f"type:{kind}" if kind else "")
        if not role and event.resources:
            found = self._from_event_resources(types, event.resources)
            if found:
                return found
        params = event.requestParameters or {}
        builder = BUILDERS.get(types.service)
        # IAM calls without parameters (GetUser, ListAccessKeys) act on the calling user;
        # an SSE-KMS key may be named by the response or additionalEventData alone
        if builder is not None and (params or types.service == "iam" or role == SSE_KMS):
            context = _Context(self, event, role)
            typed = [(k.lower(), arn) for k, arn in builder(context) if k.lower() in types.names]
            built = dict.fromkeys(arn for _, arn in typed)
            if types.service in _ALL_REQUIRED and not role:
                built.update(self._missing_required(types, {k for k, _ in typed}, context))
            if built or role in _ONLY_WHEN_NAMED:
                return tuple(built)
        if role in _ONLY_WHEN_NAMED:
            return ()  # no role (layer) named: the call passed none, so it needed no check
        return self._arns_in_request(types, params) or _UNKNOWN

    def _named_role(
        self, action: str, types: _ActionTypes, role: str, event: CloudTrailEvent
    ) -> tuple[str, ...]:
        """`new:TYPE` (a resource the call creates: any of the type in the event's region and
        account, as its id is unknown until the call returns), `type:TYPE` (the request's
        resources of that type; when it names none, any of the type if the action requires
        it, else none: AWS authorises no optional resource the request leaves out) and
        `route:PATH` (API Gateway's management path, its `{member}` parts from the request)."""
        kind, _, rest = role.partition(":")
        context = _Context(self, event, role)
        if kind == "route":
            return (route_arn(rest, context),)
        if kind == "type":
            builder = BUILDERS.get(types.service)
            wanted = rest.lower()
            built = dict.fromkeys(
                arn for k, arn in (builder(context) if builder else ()) if k.lower() == wanted
            )
            if built:
                return tuple(built)
            if not self.requires(action, rest):
                return ()
        template = self.template(types.service, rest)
        return (template.fill_any(context.defaults),) if template else _UNKNOWN

    def _missing_required(
        self, types: _ActionTypes, found: set[str], context: _Context
    ) -> dict[str, None]:
        """Each required type the request names none of, as any of it in the event's region
        and account: a resource the call creates (`CreateVolume`'s volume) or one the request
        reaches through another (`DetachNetworkInterface`'s instance, by attachment id)."""
        out: dict[str, None] = {}
        for kind in sorted(types.required - found):
            template = self._template_named(types.service, kind)
            if template is not None:
                out[template.fill_any(context.defaults)] = None
        return out

    def _template_named(self, service: str, lowered: str) -> _Template | None:
        for rtype in self.catalog.resource_types(service):
            if rtype.name.lower() == lowered:
                return self.template(service, rtype.name)
        return None

    def requires(self, action: str, resource_type: str) -> bool:
        """Whether the reference marks `resource_type` required for `action`."""
        found = self.catalog.action(action)
        wanted = resource_type.lower()
        return found is not None and any(
            r.required and r.name.lower() == wanted for r in found.resources
        )

    def template(self, service: str, resource_type: str) -> _Template | None:
        key = (service, resource_type)
        if key not in self._templates:
            found = self.catalog.resource_type(service, resource_type)
            self._templates[key] = _Template(found.arn_format) if found else None
        return self._templates[key]

    def reads_request(self, action: str, role: str, resources: list[EventResource] | None) -> bool:
        """Whether `resources(action, event, role)` reads more of the event than the types,
        accounts and order of its resources[] (their ARNs only copied into the answer): its
        request, or an ARN's text (a resources[] type that does not tell whether the action
        takes it). False when resources[] alone answers, as `resources` then does."""
        types = self._types_of(action)
        if not types.names:
            return False
        if role or not resources:
            return True
        kinds = self._kinds
        for resource in resources:
            kind = kinds.get(resource.type)
            if kind is None:
                kind = kinds[resource.type] = _kind_of(resource.type)
            if resource.ARN and types.takes.get(kind) is None:
                return True
        return not self._from_event_resources(types, resources)

    def takes_nothing(self, action: str) -> bool:
        """Whether the action takes no resource (its only resource is `*`)."""
        return not self._types_of(action).names

    def _types_of(self, action: str) -> _ActionTypes:
        types = self._types.get(action)
        if types is None:
            types = self._types[action] = self._action_types(action)
        return types

    def _from_event_resources(
        self, types: _ActionTypes, resources: list[EventResource]
    ) -> tuple[str, ...]:
        """resources[] lists every resource of the call (a GetObject names the bucket and the
        object); keep those of a type the action takes. CloudTrail's `AWS::S3::Object` type
        names the IAM type when the service has one of that name; else the ARN format decides."""
        found: list[str] = []
        kinds = self._kinds
        for resource in resources:
            arn = resource.ARN
            if not arn:
                continue
            kind = kinds.get(resource.type)
            if kind is None:
                kind = kinds[resource.type] = _kind_of(resource.type)
            takes = types.takes.get(kind)
            if takes is None:
                takes = any(pattern.match(arn) for pattern in types.patterns)
            if takes and arn not in found:
                found.append(arn)
        return tuple(found)

    @staticmethod
    def _arns_in_request(types: _ActionTypes, params: Mapping[str, Any]) -> tuple[str, ...]:
        """Any service: a top-level request value that is an ARN of a type the action takes
        (`projectArn`, `resourceArn`, ...)."""
        found: dict[str, None] = {}
        for value in params.values():
            is_arn = isinstance(value, str) and value.startswith("arn:")
            if is_arn and any(pattern.match(value) for pattern in types.patterns):
                found[value] = None
        return tuple(found)

    def _dynamodb_role(self, role: str, event: CloudTrailEvent) -> tuple[str, ...]:
        kind, _, name = role.partition(":")
        context = _Context(self, event, "")
        if kind == "index":
            table, _, index = name.partition("/")
            arn = context.arn("dynamodb", "index", TableName=table, IndexName=index)
        else:
            arn = context.arn("dynamodb", "table", TableName=name)
        return (arn,) if arn else ()

    def _action_types(self, key: str) -> _ActionTypes:
        action = self.catalog.action(key)
        if action is None:
            return _NO_TYPES
        resource_types = self.catalog.resource_types_of(action)
        names = frozenset(r.name.lower() for r in resource_types)
        service_types = self.catalog.resource_types(action.service)
        return _ActionTypes(
            service=action.service,
            names=names,
            required=frozenset(r.name.lower() for r in action.resources if r.required),
            takes={r.name.lower(): r.name.lower() in names for r in service_types},
            patterns=tuple(r.arn_pattern() for r in resource_types),
        )


_TAG_KEYS = ("tags", "Tags", "tagList", "TagList")


def _has_tags(params: Mapping[str, Any] | None) -> bool:
    return bool(params) and any(params.get(k) for k in _TAG_KEYS)  # type: ignore[union-attr]


def _kind_of(cloudtrail_type: str | None) -> str:
    """`AWS::S3::Object` -> `object`."""
    return cloudtrail_type.rpartition("::")[2].lower() if cloudtrail_type else ""
