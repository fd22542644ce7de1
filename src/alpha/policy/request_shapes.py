"""Which resource a request for an action can name, from the IAM catalog.

A request AWS can receive names `*` when its action takes no resource type, or only optional
ones (`cloudwatch:PutMetricData`); otherwise an ARN of one of the action's resource types, in
that type's format from the Service Authorization Reference, with a partition, a region and
an account wherever the format has them. A few formats list two ARN shapes joined by ", "
(API Gateway's "/apis/..., /restapis/..."): each is a shape of its own. An action the catalog
does not list (one AWS may add under a wildcard) takes `*` or any ARN format of its service.

`request_problem` says why a request is not such a request; `ResourceShape.globs` gives the
shapes as globs for a search to pick a resource within them (counterexamples).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from alpha.catalog import Catalog, ResourceType
from alpha.policy.globlang import ONE, STAR, Glob, Token

__all__ = [
    "ANY_RESOURCE",
    "Fields",
    "ResourceShape",
    "arn_formats",
    "field_choices",
    "request_problem",
    "request_shapes",
]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_FIELD_NAMES = ("Partition", "Region", "Account")
_DEFAULTS = ("aws", "us-east-1", "123456789012")
_FIELD_RULES = {
    "Partition": r"aws(?:-[a-z]+)*",
    "Region": r"[a-z]{2}(?:-[a-z]+)+-\d+",
    "Account": r"(?:\d{12}|aws)",  # `aws` owns the AWS managed policies
}
# A name holds no `:` (that would be another field), no wildcard and no space (two formats
# joined by ", " are not one ARN); an object key may hold anything, a bucket name no `/`.
_NAME = r"[^:*?\s]+"
_NAME_RULES = {"ObjectName": ".+", "BucketName": r"[^/:*?\s]+"}
_MAX_FIELD_CHOICES = 5

Fields = tuple[str, str, str]
"""A partition, a region and an account to fill an ARN format with."""


@dataclass(frozen=True, slots=True)
class ResourceShape:
    """One way a request can name its resource: `*`, or one ARN format of the catalog."""

    arn_format: str

    @property
    def is_any(self) -> bool:
        return self.arn_format == "*"

    def admits(self, resource: str) -> bool:
        return _shape_regex(self.arn_format).fullmatch(resource) is not None

    def globs(self, choices: Iterable[Fields]) -> Iterator[Glob]:
        """The shape with partition, region and account fixed to each choice in turn, names
        left as any non-empty text (`*` stands for itself)."""
        if self.is_any:
            yield Glob(("*",))
            return
        seen: set[Glob] = set()
        for fields in choices:
            found = Glob(_tokens(self.arn_format, dict(zip(_FIELD_NAMES, fields, strict=True))))
            if found not in seen:
                seen.add(found)
                yield found


ANY_RESOURCE = ResourceShape("*")


def arn_formats(resource_type: ResourceType) -> tuple[str, ...]:
    """The type's ARN formats: the catalog joins alternatives with ", "."""
    return tuple(f.strip() for f in resource_type.arn_format.split(", ") if f.strip())


def request_shapes(catalog: Catalog, action_key: str) -> tuple[ResourceShape, ...]:
    """The resource shapes a request for `action_key` can have (empty for a service the
    catalog does not know)."""
    action = catalog.action(action_key)
    if action is None:
        service = action_key.partition(":")[0]
        if not catalog.has_service(service):
            return ()
        return (*_shapes_of(catalog.resource_types(service)), ANY_RESOURCE)
    shapes = _shapes_of(catalog.resource_types_of(action))
    if not any(r.required for r in action.resources):
        shapes = (*shapes, ANY_RESOURCE)
    return shapes


def request_problem(catalog: Catalog, action_key: str, resource: str) -> str | None:
    """Why AWS could not receive a request for `action_key` on `resource`; None if it could."""
    shapes = request_shapes(catalog, action_key)
    if not shapes:
        return f"{action_key!r} is of no service in the IAM catalog"
    if any(shape.admits(resource) for shape in shapes):
        return None
    expected = " or ".join(repr(s.arn_format) for s in shapes)
    return f"{resource!r} is not a resource {action_key} takes: expected {expected}"


def field_choices(texts: Iterable[str]) -> list[Fields]:
    """The default partition, region and account, then those written literally in `texts`
    (resource patterns), so that a request lands where a policy scopes its resources."""
    choices: list[Fields] = [_DEFAULTS]
    for text in texts:
        parts = text.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            continue
        fields = tuple(
            value if re.fullmatch(_FIELD_RULES[name], value) else default
            for name, value, default in zip(
                _FIELD_NAMES, parts[1:2] + parts[3:5], _DEFAULTS, strict=True
            )
        )
        if fields not in choices:
            choices.append((fields[0], fields[1], fields[2]))
        if len(choices) >= _MAX_FIELD_CHOICES:
            break
    return choices


def _shapes_of(types: Iterable[ResourceType]) -> tuple[ResourceShape, ...]:
    return tuple(ResourceShape(f) for t in types for f in arn_formats(t))


def _tokens(arn_format: str, fields: dict[str, str]) -> tuple[Token, ...]:
    tokens: list[Token] = []
    pos = 0
    for match in _VARIABLE.finditer(arn_format):
        tokens.extend(arn_format[pos : match.start()])
        value = fields.get(match.group(1))
        tokens.extend(value if value is not None else (ONE, STAR))
        pos = match.end()
    tokens.extend(arn_format[pos:])
    return tuple(tokens)


@lru_cache(maxsize=4096)
def _shape_regex(arn_format: str) -> re.Pattern[str]:
    if arn_format == "*":
        return re.compile(re.escape("*"))
    out: list[str] = []
    pos = 0
    for match in _VARIABLE.finditer(arn_format):
        out.append(re.escape(arn_format[pos : match.start()]))
        name = match.group(1)
        out.append(_FIELD_RULES.get(name) or _NAME_RULES.get(name, _NAME))
        pos = match.end()
    out.append(re.escape(arn_format[pos:]))
    return re.compile("".join(out), re.DOTALL)
