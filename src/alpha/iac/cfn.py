"""Where a CloudFormation template defines a principal's policies, on the decoded template
(JSON, or YAML as ruamel.yaml reads it round-trip: short tags like `!Ref` are tagged values).

The principal is an `AWS::IAM::Role` (or `AWS::IAM::User`) whose `RoleName` is its name, or
whose logical id is (a role with no `RoleName` gets a generated `Stack-LogicalId-SUFFIX` name,
which is matched too). Its policies are its `Policies`, the `ManagedPolicyArns` it lists, and
every `AWS::IAM::Policy` or `AWS::IAM::ManagedPolicy` whose `Roles` (`Users`) name it with
`Ref`, `GetAtt` or its literal name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from alpha.iac.model import PolicyChange, PrincipalKind, Site, SiteKind

__all__ = ["CfnLocator", "PathStep", "is_template", "may_define", "ref_target", "template_sites"]

PathStep = str | int
Path = tuple[PathStep, ...]

_TYPE = {PrincipalKind.ROLE: "AWS::IAM::Role", PrincipalKind.USER: "AWS::IAM::User"}
_NAME = {PrincipalKind.ROLE: "RoleName", PrincipalKind.USER: "UserName"}
_LIST = {PrincipalKind.ROLE: "Roles", PrincipalKind.USER: "Users"}
_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")
_SUB_NAME = re.compile(
    r"""(?:RoleName|UserName)["']?\s*:\s*(?:!Sub\b|\{\s*["']?Fn::Sub|\n\s*["']?Fn::Sub)"""
)
_SUB_QUOTED = re.compile(
    r"""(?:RoleName|UserName)["']?\s*:\s*(?:!Sub\s+|\{\s*["']?Fn::Sub["']?\s*:\s*)"""
    r"""(?:(["'])([^"'\\\n]*)\1|([^\s"'#{}\[\]][^"'#\n]*?)\s*(?:#|$))""",
    re.MULTILINE,
)
_GENERATED = re.compile(r".+-([A-Za-z0-9]+)-[A-Za-z0-9]{6,}")


def may_define(name: str, text: str) -> bool:
    """Whether a template's text can define the principal `name` (or attach to it), before it
    is decoded: it names it, holds the logical id a generated name is made of, or names a
    principal with a `Sub` that may render as `name` (every such `Sub` must be read here, or
    the template is decoded). Decoding every template of a large repository is the slow part."""
    generated = _GENERATED.fullmatch(name)
    if name in text or (generated is not None and generated.group(1) in text):
        return True
    subs = len(_SUB_NAME.findall(text))
    if not subs:
        return False
    read = [m.group(2) if m.group(1) else m.group(3) for m in _SUB_QUOTED.finditer(text)]
    return len(read) != subs or any(_sub_pattern(t).fullmatch(name) for t in read)


def _sub_pattern(template: str) -> re.Pattern[str]:
    return re.compile(".+".join(re.escape(part) for part in _SUB_VARIABLE.split(template)))


@dataclass(frozen=True, slots=True)
class CfnLocator:
    """Paths into the template: what to delete to remove the site, where its document and
    name are, and (for the principal) the Properties a new inline policy is added to."""

    remove: Path | None = None
    document: Path | None = None
    name: Path | None = None
    properties: Path | None = None


def is_template(document: Any) -> bool:
    resources = document.get("Resources") if isinstance(document, Mapping) else None
    return isinstance(resources, Mapping) and any(
        isinstance(r, Mapping) and str(r.get("Type", "")).startswith("AWS::")
        for r in resources.values()
    )


def template_sites(change: PolicyChange, path: str, template: Mapping[str, Any]) -> list[Site]:
    resources: Mapping[str, Any] = template["Resources"]
    principals = [
        logical
        for logical, resource in resources.items()
        if _type(resource) == _TYPE[change.kind]
        and _names_principal(change.name, str(logical), _properties(resource))
    ]
    sites: list[Site] = []
    for logical in principals:
        sites.extend(_own_sites(path, str(logical), resources))
    for logical, resource in resources.items():
        sites.extend(_attached_sites(change, path, str(logical), resource, principals))
    return sites


def _type(resource: Any) -> str:
    return str(resource.get("Type", "")) if isinstance(resource, Mapping) else ""


def _properties(resource: Any) -> Mapping[str, Any]:
    found = resource.get("Properties") if isinstance(resource, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _names_principal(name: str, logical: str, properties: Mapping[str, Any]) -> bool:
    given = properties.get("RoleName", properties.get("UserName"))
    if isinstance(given, str):
        return given == name
    sub = _sub_text(given)
    if sub is not None:
        return _sub_pattern(sub).fullmatch(name) is not None
    if given is not None:
        return logical == name
    generated = re.fullmatch(rf".+-{re.escape(logical)}-[A-Za-z0-9]{{6,}}", name)
    return logical == name or generated is not None


def _tag(value: Any) -> str | None:
    tag = getattr(value, "tag", None)
    found = getattr(tag, "value", tag)
    return found if isinstance(found, str) else None


def _sub_text(value: Any) -> str | None:
    if _tag(value) == "!Sub":
        inner = getattr(value, "value", value)
        return inner if isinstance(inner, str) else None
    if isinstance(value, Mapping) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"])
    return None


def ref_target(value: Any) -> str | None:
    """The logical id a `Ref`/`GetAtt` (either form) points at."""
    tag = _tag(value)
    if tag in ("!Ref", "!GetAtt"):
        inner = getattr(value, "value", value)
        first = inner[0] if isinstance(inner, list) and inner else inner
        return str(first).split(".", 1)[0] if isinstance(first, str) else None
    if isinstance(value, Mapping) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        got = value.get("Fn::GetAtt")
        first = got[0] if isinstance(got, list) and got else got
        return str(first).split(".", 1)[0] if isinstance(first, str) else None
    return None


def _own_sites(path: str, logical: str, resources: Mapping[str, Any]) -> Iterator[Site]:
    props: Path = ("Resources", logical, "Properties")
    properties = _properties(resources[logical])
    yield Site(
        path, SiteKind.PRINCIPAL, logical, f"Resources.{logical}", CfnLocator(properties=props)
    )
    policies = properties.get("Policies")
    for index, policy in enumerate(policies if isinstance(policies, list) else []):
        if not isinstance(policy, Mapping):
            continue
        item = (*props, "Policies", index)
        yield Site(
            path,
            SiteKind.INLINE,
            str(policy.get("PolicyName")),
            f"Resources.{logical}.Properties.Policies[{index}]",
            CfnLocator(remove=item, document=(*item, "PolicyDocument"), name=(*item, "PolicyName")),
        )
    arns = properties.get("ManagedPolicyArns")
    for index, arn in enumerate(arns if isinstance(arns, list) else []):
        name, literal = _managed_name(arn, resources)
        yield Site(
            path,
            SiteKind.ATTACHMENT,
            name,
            f"Resources.{logical}.Properties.ManagedPolicyArns[{index}]",
            CfnLocator(remove=(*props, "ManagedPolicyArns", index)),
            arn=literal,
        )


def _managed_name(arn: Any, resources: Mapping[str, Any]) -> tuple[str, str | None]:
    """The managed policy's name an entry of ManagedPolicyArns stands for, and its ARN when
    written out."""
    if isinstance(arn, str):
        return arn.rpartition("/")[2], arn
    sub = _sub_text(arn)
    if sub is not None:
        return sub.rpartition("/")[2], None
    target = ref_target(arn)
    if target is not None and target in resources:
        given = _properties(resources[target]).get("ManagedPolicyName")
        return (given if isinstance(given, str) else target), None
    return str(target or arn), None


def _attached_sites(
    change: PolicyChange,
    path: str,
    logical: str,
    resource: Any,
    principals: list[str],
) -> Iterator[Site]:
    kind = _type(resource)
    if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        return
    properties = _properties(resource)
    key = _LIST[change.kind]
    members = properties.get(key)
    members = members if isinstance(members, list) else []
    ours = [i for i, m in enumerate(members) if ref_target(m) in principals or m == change.name]
    if not ours:
        return
    props: Path = ("Resources", logical, "Properties")
    others = len(members) > 1 or any(
        properties.get(k) for k in ("Roles", "Users", "Groups") if k != key
    )
    where = f"Resources.{logical} ({kind}, {key}[{ours[0]}])"
    if kind == "AWS::IAM::Policy":
        shared = others
        remove = (*props, key, ours[0]) if shared else ("Resources", logical)
        yield Site(
            path,
            SiteKind.INLINE,
            str(properties.get("PolicyName")),
            where,
            CfnLocator(
                remove=remove, document=(*props, "PolicyDocument"), name=(*props, "PolicyName")
            ),
            shared=shared,
        )
        return
    name = properties.get("ManagedPolicyName")
    yield Site(
        path,
        SiteKind.ATTACHMENT,
        name if isinstance(name, str) else logical,
        where,
        CfnLocator(remove=(*props, key, ours[0])),
    )
