"""The IAM catalog's values: services, actions, resource types and condition keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

_ARN_VAR = re.compile(r"(.*?)\$\{([^}]*)\}", re.DOTALL)
_FIELD_VARS = frozenset({"Partition", "Region", "Account"})


class AccessLevel(StrEnum):
    LIST = "List"
    READ = "Read"
    WRITE = "Write"
    PERMISSIONS_MANAGEMENT = "Permissions management"
    TAGGING = "Tagging"


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type an action can be scoped to, with its ARN format from the reference."""

    service: str
    name: str
    arn_format: str
    condition_keys: tuple[str, ...]

    def arn_pattern(self) -> re.Pattern[str]:
        """A regex matching concrete ARNs of this type.

        Partition, region and account stay within one ARN field; other variables (names, paths)
        may span `/` and `:`, as resource names do.
        """
        out = ["^"]
        for literal, var in _ARN_VAR.findall(self.arn_format + "${}"):
            out.append(re.escape(literal))
            if var in _FIELD_VARS:
                out.append("[^:]*")
            elif var == "BucketName":  # bucket names never hold `/`; objects are bucket/key
                out.append("[^/]+")
            elif var:
                out.append(".+")
        out.append("$")
        return re.compile("".join(out))


@dataclass(frozen=True, slots=True)
class ActionResource:
    """One resource type an action takes; `required` as the reference marks it."""

    name: str
    required: bool


@dataclass(frozen=True, slots=True)
class Action:
    service: str
    name: str
    access_level: AccessLevel
    resources: tuple[ActionResource, ...]
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]

    @property
    def key(self) -> str:
        """The action as written in a policy, e.g. `s3:GetObject`."""
        return f"{self.service}:{self.name}"

    @property
    def supports_resource_level(self) -> bool:
        """False when the action only works with `Resource: *`."""
        return bool(self.resources)


@dataclass(frozen=True, slots=True)
class ConditionKey:
    name: str
    type: str
    description: str


@dataclass(frozen=True, slots=True)
class CatalogVersion:
    version: str
    updated_at: datetime
