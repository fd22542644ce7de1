"""Guardrail configuration: the `[guardrails]` table of `alpha.toml`, then environment overrides.

The file and the variables are untrusted input, so they go through pydantic. The core reads no
environment: the CLI passes `os.environ` (or any mapping) in. Precedence, lowest first: the
defaults, the file, the variables. A variable replaces the file's list (it does not add to it);
an empty variable counts as unset, so a blank Lambda setting cannot switch a guardrail off.

    [guardrails]
    blocked_actions = ["iam:CreateUser", "s3:DeleteBucket"]   # wildcards allowed
    disallowed_services = ["gamelift"]
    required_conditions = ["aws:RequestedRegion"]
    passrole_services = ["lambda.amazonaws.com"]   # lets enforce scope iam:PassRole
    partial_action_wildcards = "warning"   # "off", "info", "warning" or "error"
    max_policy_size = 6144

    [guardrails.condition_values]   # values enforce adds when a required condition is missing
    "aws:RequestedRegion" = ["eu-west-1", "eu-central-1"]

    [guardrails.rules.WILDCARD_RESOURCE_ON_WRITE]
    severity = "warning"   # or enabled = false

Defaults: PASSROLE_UNSCOPED is on and blocks (the seed: "block iam:PassRole by default"), as do
the other rules; nothing is blocked or required until configured.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from alpha.guardrails.errors import GuardrailError
from alpha.guardrails.registry import GUARDRAIL_RULES
from alpha.policy.findings import Severity
from alpha.policy.user_files import InputTextError, decode_toml, one_line, read_input, shown
from alpha.policy.validate import MANAGED_POLICY_QUOTA

ENV_VARIABLES = {
    "ALPHA_BLOCKED_ACTIONS": "blocked_actions",
    "ALPHA_DISALLOWED_SERVICES": "disallowed_services",
    "ALPHA_REQUIRED_CONDITIONS": "required_conditions",
}
"""Variable -> field; each holds a comma-separated list."""

_ACTION = re.compile(r"\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?-]+")
_SERVICE = re.compile(r"[a-z0-9-]+")
_CONDITION_KEY = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_./:${}*?-]+")


def _action_pattern(value: str) -> str:
    if not _ACTION.fullmatch(value):
        raise ValueError(f"{value!r} is not an action pattern like 's3:DeleteBucket' or 'iam:*'")
    return value


def _service_prefix(value: str) -> str:
    if not _SERVICE.fullmatch(value):
        raise ValueError(f"{value!r} is not a service prefix like 's3' or 'ec2'")
    return value


def _condition_key(value: str) -> str:
    if not _CONDITION_KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not a condition key like 'aws:RequestedRegion'")
    return value


def _rule_id(value: str) -> str:
    if value not in GUARDRAIL_RULES:
        known = ", ".join(kind.id for kind in GUARDRAIL_RULES)
        raise ValueError(f"unknown rule {value!r}; the rules are {known}")
    return value


ActionPattern = Annotated[str, AfterValidator(_action_pattern)]
ServicePrefix = Annotated[str, AfterValidator(_service_prefix)]
ConditionKeyName = Annotated[str, AfterValidator(_condition_key)]
RuleId = Annotated[str, AfterValidator(_rule_id)]


class RuleSetting(BaseModel):
    """Per-rule override: switch the rule off, or change its severity (ERROR blocks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    severity: Severity | None = None


class GuardrailConfig(BaseModel):
    """What the organisation requires of every policy (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blocked_actions: tuple[ActionPattern, ...] = ()
    disallowed_services: tuple[ServicePrefix, ...] = ()
    required_conditions: tuple[ConditionKeyName, ...] = ()
    condition_values: dict[ConditionKeyName, tuple[str, ...]] = Field(default_factory=dict)
    passrole_services: tuple[str, ...] = ()
    partial_action_wildcards: Literal["off", "info", "warning", "error"] = "warning"
    max_policy_size: int = Field(default=MANAGED_POLICY_QUOTA, gt=0)
    rules: dict[RuleId, RuleSetting] = Field(default_factory=dict)

    def enabled(self, rule: str) -> bool:
        setting = self.rules.get(rule)
        return setting is None or setting.enabled

    def severity(self, rule: str) -> Severity:
        setting = self.rules.get(rule)
        if setting is not None and setting.severity is not None:
            return setting.severity
        return GUARDRAIL_RULES[rule].severity

    def values_for(self, key: str) -> tuple[str, ...]:
        """The configured values for a required condition key (any case), or ()."""
        lowered = key.lower()
        return next((v for k, v in self.condition_values.items() if k.lower() == lowered), ())


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> GuardrailConfig:
    """The configuration from `path` (its `[guardrails]` table; None for none) and `env`."""
    if path is None:
        return parse_config("", "<defaults>", env)
    return parse_config(read_input(path, GuardrailError), shown(path), env)


def parse_config(
    text: str, source: str = "<config>", env: Mapping[str, str] | None = None
) -> GuardrailConfig:
    """Like `load_config`, for TOML text; `source` names it in errors."""
    try:
        document = decode_toml(text)
    except InputTextError as exc:
        raise GuardrailError(f"{source}: {exc}") from exc
    table = document.get("guardrails", {})
    if not isinstance(table, dict):
        raise GuardrailError(f"{source}: guardrails: must be a table ([guardrails])")
    overrides = env_overrides(env or {})
    try:
        return GuardrailConfig.model_validate({**table, **overrides})
    except ValidationError as exc:
        raise GuardrailError(_describe(exc, text, source, overrides)) from exc


def env_overrides(env: Mapping[str, str]) -> dict[str, list[str]]:
    """The fields the variables set: comma-separated lists, blanks dropped."""
    found: dict[str, list[str]] = {}
    for variable, field in ENV_VARIABLES.items():
        raw = env.get(variable, "")
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if items:
            found[field] = items
    return found


def _describe(exc: ValidationError, text: str, source: str, overrides: Mapping[str, object]) -> str:
    """The first error, named by file (or variable), line when found, and field; one line,
    whatever the keys it quotes."""
    return one_line(_first_error(exc, text, source, overrides))


def _first_error(
    exc: ValidationError, text: str, source: str, overrides: Mapping[str, object]
) -> str:
    error = exc.errors()[0]
    location = tuple(part for part in error["loc"] if part != "[key]")
    message = str(error["msg"]).removeprefix("Value error, ")
    field = _field_path(location)
    problems = len(exc.errors())
    more = f" (and {problems - 1} more)" if problems > 1 else ""
    if location and location[0] in overrides:
        variable = next(v for v, f in ENV_VARIABLES.items() if f == location[0])
        index = f"[{location[1]}]" if len(location) > 1 else ""
        return f"{variable}{index}: {message}{more}"
    line = _line_of(text, location)
    where = f"{source}: line {line}" if line else source
    return f"{where}: guardrails.{field}: {message}{more}"


def _field_path(location: tuple[Any, ...]) -> str:
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_of(text: str, location: tuple[Any, ...]) -> int | None:
    """Best effort: the line where the field's key (or its table header) is written, searching
    forward from `[guardrails]` one path component at a time."""
    lines = text.splitlines()
    current = next((i for i, line in enumerate(lines) if _is_header(line, "guardrails")), 0)
    found: int | None = None
    for part in (p for p in location if isinstance(p, str)):
        key = re.compile(rf"""^\s*(\[+[^\]]*\b)?["']?{re.escape(part)}["']?\s*(=|\]|\.)""")
        hit = next((i for i in range(current, len(lines)) if key.search(lines[i])), None)
        if hit is None:
            break
        current = found = hit
    return None if found is None else found + 1


def _is_header(line: str, name: str) -> bool:
    return re.match(rf"^\s*\[\s*{re.escape(name)}\s*\]", line) is not None
