"""The workflow's tables of `alpha.toml`, read as untrusted input: pydantic checks every field,
and an error names the file, the line and the field.

    [store]
    path = ".alpha/alpha.db"          # relative paths are relative to alpha.toml's folder
    # url = "dynamodb://alpha"        # or the store on DynamoDB (tables alpha-approvals, ...)
    replay = false                    # a new store made to replay old logs (--now allowed)

    [rollout]
    logs = ["cloudtrail"]             # CloudTrail the rollout watches while a stage bakes
    usage_store = ".alpha/usage.duckdb"
    bake = "1h"                       # every stage; durations like 30m, 6h, 2d, 1h30m
    bakes = { canary = "6h" }         # per stage
    canary_fraction = 0.5
    max_new_denials = 0
    max_would_be_denials = 0
    poll_interval = "30s"
    max_wait = "2h"
    monitor = "cloudtrail"            # or "cloudwatch": bakes judged on the ALPHA/IAM metrics
    iam = "aws"                       # roll out to live IAM ("aws://PROFILE"); "local": the
                                      # store's working copy; unset: as the proposal's account

    [scope]                           # the principals a rollout may change (docs/aws/iam.md)
    names = ["app-*", "batch-*"]      # name patterns (* and ?); none: any name
    paths = ["/teams/"]               # path prefixes; none: any path
    tags = ["alpha-managed=true"]     # key=value or key; none: any tags
    own = ["alpha-*"]                 # ALPHA's own roles and users: never changed

    [approvals]
    approvers = ["sam", "lee"]        # empty: anyone
    expiry = "7d"
    separation_of_duties = true

    [reasoning] and [analyzer]: see `alpha.app.model_settings`.
    [slack]
    channel = "C0123456789"
    users = { U012AB3CD = "sam" }     # Slack user id = approver name
    api_url = "https://slack.com/api/"
    [github]                          # see alpha.app.github_settings
    users = { octocat = "sam" }
    files = { "orders-api" = "policies/orders.json" }
    [org]                             # see alpha.app.org_settings
    source = "aws"
    role = "OrganizationAccountAccessRole"
    [web]
    user_header = "X-Forwarded-User"  # set by an authenticating proxy; requests without it: 401

Other tables (`[guardrails]`) belong to their own readers and are ignored here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from alpha.app.errors import SettingsError
from alpha.app.model_settings import check_model, check_role, check_trail
from alpha.app.values import check_duration, check_header_name, parse_duration
from alpha.policy.user_files import InputTextError, decode_toml, one_line, read_input, shown

__all__ = [
    "AnalyzerTable",
    "FileSettings",
    "GithubTable",
    "OrgTable",
    "ReasoningTable",
    "SlackTable",
    "StoreTable",
    "read_file_settings",
]


def _duration_field(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration_field), AfterValidator(check_duration)]
StageName = Literal["sandbox", "canary", "production"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreTable(_Table):
    path: str | None = None
    url: str | None = None
    replay: bool | None = None


class RolloutTable(_Table):
    logs: list[str] | None = None
    usage_store: str | None = None
    bake: Duration | None = None
    bakes: dict[StageName, Duration] = Field(default_factory=dict)
    canary_fraction: float | None = Field(default=None, gt=0, le=1)
    max_new_denials: int | None = Field(default=None, ge=0)
    max_would_be_denials: int | None = Field(default=None, ge=0)
    poll_interval: Duration | None = None
    max_wait: Duration | None = None
    monitor: Literal["cloudtrail", "cloudwatch"] | None = None
    iam: str | None = Field(default=None, pattern=r"^(local|aws|aws://[^/\s]+)$")


class ScopeTable(_Table):
    names: list[Annotated[str, Field(min_length=1)]] | None = None
    paths: list[Annotated[str, Field(pattern=r"^/(.*/)?$")]] | None = None
    tags: list[Annotated[str, Field(pattern=r"^[^=]+(=.*)?$")]] | None = None
    own: list[Annotated[str, Field(min_length=1)]] | None = None


class ApprovalsTable(_Table):
    approvers: list[str] | None = None
    expiry: Duration | None = None
    separation_of_duties: bool | None = None


class ReasoningTable(_Table):
    reasoner: Literal["local", "bedrock"] | None = None
    model: Annotated[str, AfterValidator(check_model)] | None = None
    region: str | None = None
    timeout: Duration | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=20)


class AnalyzerTable(_Table):
    engine: Literal["alpha", "access-analyzer"] | None = None
    trail: Annotated[str, AfterValidator(check_trail)] | None = None
    role: Annotated[str, AfterValidator(check_role)] | None = None
    region: str | None = None
    checks: bool | None = None
    max_wait: Duration | None = None


class SlackTable(_Table):
    channel: str | None = Field(default=None, min_length=1)
    users: dict[str, str] | None = None
    api_url: str | None = None
    # Named only to be refused with the variable to use instead (see slack_settings).
    bot_token: None = None
    signing_secret: None = None
    webhook_url: None = None

    @field_validator("bot_token", "signing_secret", "webhook_url", mode="before")
    @classmethod
    def _no_secrets(cls, value: object, info: ValidationInfo) -> None:
        from alpha.app.slack_settings import SECRET_KEYS

        variable = SECRET_KEYS[str(info.field_name)]
        raise ValueError(f"a secret: set {variable} in the environment, not in alpha.toml")


class GithubTable(_Table):
    """`[github]`: see `alpha.app.github_settings`."""

    api_url: str | None = None
    remote: str | None = None
    base: str | None = None
    users: dict[str, str] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)


_UNIT = r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$"


class OrgTable(_Table):
    """`[org]`: see `alpha.app.org_settings`."""

    source: str | None = Field(default=None, min_length=1)
    role: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_+=,.@/-]+$", max_length=512)
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)
    units: list[Annotated[str, Field(pattern=_UNIT)]] | None = None
    tags: list[Annotated[str, Field(pattern=r"^[^=]+=.*$")]] | None = None
    accounts: list[Annotated[str, Field(pattern=r"^\d{12}$")]] | None = None
    max_parallel: int | None = Field(default=None, ge=1, le=64)


class WebTable(_Table):
    user_header: Annotated[str, AfterValidator(check_header_name)] | None = None


class FileSettings(BaseModel):
    """The workflow's tables of alpha.toml; other tables ([guardrails]) are read elsewhere."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    store: StoreTable = Field(default_factory=StoreTable)
    rollout: RolloutTable = Field(default_factory=RolloutTable)
    approvals: ApprovalsTable = Field(default_factory=ApprovalsTable)
    reasoning: ReasoningTable = Field(default_factory=ReasoningTable)
    analyzer: AnalyzerTable = Field(default_factory=AnalyzerTable)
    slack: SlackTable = Field(default_factory=SlackTable)
    github: GithubTable = Field(default_factory=GithubTable)
    scope: ScopeTable = Field(default_factory=ScopeTable)
    web: WebTable = Field(default_factory=WebTable)
    org: OrgTable = Field(default_factory=OrgTable)


def read_file_settings(path: Path) -> FileSettings:
    """The workflow tables of one alpha.toml; `SettingsError` naming file, line and field."""
    text = read_input(path, SettingsError)
    try:
        document = decode_toml(text)
    except InputTextError as exc:
        raise SettingsError(f"{shown(path)}: {exc}") from exc
    try:
        return FileSettings.model_validate(document)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, text, path)) from exc


def _describe(exc: ValidationError, text: str, path: Path) -> str:
    error = exc.errors()[0]
    location = tuple(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    line = _line_of(text, location)
    where = f"{shown(path)}: line {line}" if line else shown(path)
    return one_line(f"{where}: {'.'.join(location)}: {message}{more}")  # keys are quoted


def _line_of(text: str, location: tuple[str, ...]) -> int | None:
    """Best effort: the line of the field's key, searched from its table's header."""
    lines = text.splitlines()
    if not location:
        return None
    header = re.compile(rf"^\s*\[\s*{re.escape(location[0])}\s*\]")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    if len(location) == 1:
        return start + 1
    key = re.compile(rf"""^\s*["']?{re.escape(location[1])}["']?\s*=""")
    hit = next((i for i in range(start + 1, len(lines)) if key.match(lines[i])), None)
    return (hit if hit is not None else start) + 1
