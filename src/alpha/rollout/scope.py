"""Which principals a rollout may change: checked before every stage and every change.

Never, whatever the settings: a service-linked role (path `/aws-service-role/`: AWS owns it)
and ALPHA's own roles and users (names matching `own`, `alpha-*` by default: a rollout that
narrowed them could lock ALPHA out of its own rollback). Beyond that, the configured scope:
a principal is in it when it matches every kind of rule given, each kind by any of its rules:
a name pattern (`*` and `?`, as IAM names compare, ignoring case), a path prefix, a tag
(`key=value`, or `key` with any value). No rule of a kind: that kind lets every principal in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from alpha.rollout.errors import RolloutError

__all__ = ["SERVICE_LINKED_PATH", "OutOfScopeError", "PrincipalScope"]

SERVICE_LINKED_PATH = "/aws-service-role/"


class OutOfScopeError(RolloutError):
    """The rollout would change a principal it must not touch; the message says why."""


@dataclass(frozen=True, slots=True)
class PrincipalScope:
    names: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    own: tuple[str, ...] = ("alpha-*",)

    @property
    def needs_tags(self) -> bool:
        return bool(self.tags)

    def refusal(self, principal: str, tags: Mapping[str, str]) -> str | None:
        """Why `principal` (an IAM role or user ARN) may not be changed; None: it may."""
        path, name = _path_and_name(principal)
        if path.startswith(SERVICE_LINKED_PATH):
            return f"{principal} is a service-linked role: AWS owns it, ALPHA never changes it"
        if any(_matches(name, pattern) for pattern in self.own):
            own = ", ".join(self.own)
            return f"{principal} is one of ALPHA's own principals ({own}): never changed"
        outside = f"{principal} is outside the scope:"
        if self.names and not any(_matches(name, pattern) for pattern in self.names):
            return f"{outside} its name matches none of {_list(self.names)}"
        if self.paths and not any(path.startswith(prefix) for prefix in self.paths):
            return f"{outside} its path {path} is under none of {_list(self.paths)}"
        if self.tags and not any(_tagged(tags, rule) for rule in self.tags):
            return f"{outside} it has none of the tags {_list(self.tags)}"
        return None

    def check(self, principal: str, tags: Mapping[str, str]) -> None:
        refused = self.refusal(principal, tags)
        if refused is not None:
            raise OutOfScopeError(f"{refused}; nothing was changed on it")

    def to_payload(self) -> dict[str, list[str]]:
        return {
            "names": list(self.names),
            "paths": list(self.paths),
            "tags": list(self.tags),
            "own": list(self.own),
        }


def _path_and_name(arn: str) -> tuple[str, str]:
    resource = arn.split(":", 5)[-1]  # role/some/path/name
    _, _, rest = resource.partition("/")
    path, _, name = rest.rpartition("/")
    return f"/{path}/" if path else "/", name


def _matches(name: str, pattern: str) -> bool:
    return fnmatchcase(name.lower(), pattern.lower())


def _tagged(tags: Mapping[str, str], rule: str) -> bool:
    key, sep, value = rule.partition("=")
    return key in tags and (not sep or tags[key] == value)


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(repr(item) for item in items)
