"""Every setting of the application, resolved in one order: a flag, then an `ALPHA_*` variable,
then `alpha.toml` (see `alpha.app.config_file`), then the default. The defaults are the core's
own (`StageSettings`, `ApprovalPolicy`, `RolloutSettings`), never written a second time here.

Variables: ALPHA_CONFIG (the file), ALPHA_STORE (a path, or `dynamodb://PREFIX` for the store
on DynamoDB), ALPHA_USAGE_STORE, ALPHA_LOGS (comma-separated),
ALPHA_BAKE, ALPHA_APPROVERS (comma-separated), ALPHA_APPROVAL_EXPIRY,
ALPHA_SEPARATION_OF_DUTIES (true/false), ALPHA_USER (who is acting), ALPHA_NOW (act as of this
UTC time, to replay past logs, in a store made for it), ALPHA_STORE_REPLAY (true/false: a new
store is made to replay old logs), ALPHA_STORE_KEY (the key of a sealed store's hash chain, at
least 16 characters; only a variable, never in alpha.toml beside the store it protects),
ALPHA_STORE_ANCHOR (`SEQ:HASH`, a chain head printed by `alpha store head`, which the store must
still hold), ALPHA_MONITOR (`cloudtrail`: bakes read the logs; `cloudwatch`: the `ALPHA/IAM`
metrics `alpha monitor publish` puts on CloudWatch). Slack's (SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET, ALPHA_SLACK_*) are read by `alpha.app.slack_settings`; the GitHub ones
(GITHUB_TOKEN, ALPHA_GITHUB_API_URL, ALPHA_GITHUB_USERS, ALPHA_GITHUB_WEBHOOK_SECRET) in
`alpha.app.github_settings`; ALPHA_IAM (`aws`, `aws://PROFILE` or `local`: where rollouts
change IAM; unset: as each proposal's account was read), ALPHA_SCOPE_NAMES, ALPHA_SCOPE_PATHS,
ALPHA_SCOPE_TAGS (comma-separated: the principals a rollout may change; `[scope]` in
alpha.toml), ALPHA_WEB_USER_HEADER (the header an authenticating proxy names the user in, for
`alpha serve`); the organisation's (ALPHA_ORG, ALPHA_ORG_ROLE, ALPHA_ORG_EXTERNAL_ID) are
read by `alpha.app.org_settings`. An empty variable counts as unset.

The environment is passed in (a mapping), never read here, so every interface (a command line,
a web server, a Lambda handler) decides what it trusts.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from alpha.app.errors import SettingsError
from alpha.app.github_settings import GithubSettings, github_settings
from alpha.app.model_settings import (
    AnalyzerSettings,
    ReasoningSettings,
    resolve_analyzer,
    resolve_reasoning,
)
from alpha.app.org_settings import OrgFlags, OrgSettings, org_settings
from alpha.app.slack_settings import SlackSettings, slack_settings
from alpha.app.store_options import parse_chain_head, parse_store_key, store_url
from alpha.app.values import (
    check_header_name,
    first_given,
    parse_boolean,
    parse_duration,
    parse_names,
    parse_time,
)
from alpha.rollout.identity import IdentityError, check_name
from alpha.rollout.scope import PrincipalScope
from alpha.rollout.settings import ApprovalPolicy, RolloutSettings, StageSettings

if TYPE_CHECKING:
    from alpha.app.config_file import ScopeTable, StoreTable
    from alpha.store.chain import ChainHead

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_STORE",
    "DEFAULT_USAGE_STORE",
    "Flags",
    "Settings",
    "first_given",
    "load_settings",
]

CONFIG_NAME = "alpha.toml"
DEFAULT_STORE = Path(".alpha") / "alpha.db"
DEFAULT_USAGE_STORE = Path(".alpha") / "usage.duckdb"

_STAGES = StageSettings()
_APPROVAL = ApprovalPolicy()
_ROLLOUT = RolloutSettings()
# The core lets a caller switch the new-denials check off (None); settings always check.
_MAX_NEW_DENIALS = 0 if _STAGES.max_new_denials is None else _STAGES.max_new_denials

T = TypeVar("T")
MonitorKind = Literal["cloudtrail", "cloudwatch"]
MONITORS: tuple[MonitorKind, ...] = ("cloudtrail", "cloudwatch")


@dataclass(frozen=True, slots=True)
class Flags:
    """What an interface was told directly (raw text; None or empty when not given)."""

    config: str | None = None
    store: str | None = None
    usage_store: str | None = None
    logs: tuple[str, ...] = ()
    bake: str | None = None
    now: str | None = None
    user: str | None = None
    reasoner: str | None = None
    engine: str | None = None
    org: OrgFlags = field(default_factory=OrgFlags)


@dataclass(frozen=True, slots=True)
class Settings:
    store: Path
    usage_store: Path
    user: str
    logs: tuple[str, ...] = ()
    bake: timedelta = _STAGES.bake
    bakes: dict[str, timedelta] = field(default_factory=dict)
    approvers: frozenset[str] = _APPROVAL.approvers
    approval_expiry: timedelta = _APPROVAL.expiry
    separation_of_duties: bool = _APPROVAL.separation_of_duties
    now: datetime | None = None
    config_file: Path | None = None
    canary_fraction: float = _STAGES.canary_fraction
    max_new_denials: int = _MAX_NEW_DENIALS
    max_would_be_denials: int = _STAGES.max_would_be_denials
    poll_interval: timedelta = _ROLLOUT.poll_interval
    max_wait: timedelta = _ROLLOUT.max_wait
    replay: bool = False
    store_key: bytes | None = field(default=None, repr=False)
    store_anchor: ChainHead | None = None
    reasoning: ReasoningSettings = field(default_factory=ReasoningSettings)
    analyzer: AnalyzerSettings = field(default_factory=AnalyzerSettings)
    monitor: MonitorKind = "cloudtrail"
    slack: SlackSettings = field(default_factory=SlackSettings)
    github: GithubSettings = field(default_factory=GithubSettings)
    iam: str | None = None
    # The role a live rollout assumes in an organisation's other accounts (a fleet's targets)
    org_role: str | None = None
    org_external_id: str | None = None
    scope: PrincipalScope = field(default_factory=PrincipalScope)
    web_user_header: str | None = None
    org: OrgSettings = field(default_factory=OrgSettings)
    store_url: str | None = None
    """`dynamodb://PREFIX`: the store on DynamoDB (then `store` is unused but for the rollout's
    JSON log, kept in its folder)."""

    @property
    def store_shown(self) -> str:
        """The store as messages name it."""
        return self.store_url or str(self.store)

    @property
    def guardrails_file(self) -> Path | None:
        """The guardrails live in the same alpha.toml, in their own table."""
        return self.config_file

    def rollout_settings(self) -> RolloutSettings:
        """The core's settings of a rollout, from these."""
        return RolloutSettings(
            stages=StageSettings(
                bake=self.bake,
                bakes=dict(self.bakes),
                canary_fraction=self.canary_fraction,
                max_new_denials=self.max_new_denials,
                max_would_be_denials=self.max_would_be_denials,
            ),
            approval=ApprovalPolicy(
                expiry=self.approval_expiry,
                approvers=self.approvers,
                separation_of_duties=self.separation_of_duties,
            ),
            poll_interval=self.poll_interval,
            max_wait=self.max_wait,
            scope=self.scope,
        )


def load_settings(flags: Flags, env: Mapping[str, str], cwd: Path) -> Settings:
    """Resolve every setting: flag, then variable, then alpha.toml, then default."""
    from alpha.app.config_file import FileSettings, read_file_settings  # pydantic: on demand

    config_file = _config_file(flags, env, cwd)
    table = read_file_settings(config_file) if config_file is not None else FileSettings()
    base = config_file.parent if config_file is not None else cwd
    rollout, approvals = table.rollout, table.approvals
    bake_flag = _flag(flags.bake, "--bake", parse_duration)
    bake_variable = _env(env, "ALPHA_BAKE", parse_duration)
    store, url = _store(flags, env, table.store, (base, cwd), config_file)
    return Settings(
        store=store,
        store_url=url,
        usage_store=_path(
            flags.usage_store, env.get("ALPHA_USAGE_STORE"), rollout.usage_store, base, cwd
        )
        or cwd / DEFAULT_USAGE_STORE,
        logs=_logs(flags.logs, env.get("ALPHA_LOGS"), rollout.logs, base, cwd),
        bake=first_given(bake_flag, bake_variable, rollout.bake, default=_STAGES.bake),
        # A bake given on the command line or in the environment is meant for every stage.
        bakes={} if bake_flag or bake_variable else {str(k): v for k, v in rollout.bakes.items()},
        approvers=_approvers(env, approvals.approvers, config_file),
        approval_expiry=first_given(
            _env(env, "ALPHA_APPROVAL_EXPIRY", parse_duration),
            approvals.expiry,
            default=_APPROVAL.expiry,
        ),
        separation_of_duties=first_given(
            _env(env, "ALPHA_SEPARATION_OF_DUTIES", parse_boolean),
            approvals.separation_of_duties,
            default=_APPROVAL.separation_of_duties,
        ),
        user=_user(flags, env),
        now=first_given(
            _flag(flags.now, "--now", parse_time), _env(env, "ALPHA_NOW", parse_time), default=None
        ),
        config_file=config_file,
        canary_fraction=first_given(rollout.canary_fraction, default=_STAGES.canary_fraction),
        max_new_denials=first_given(rollout.max_new_denials, default=_MAX_NEW_DENIALS),
        max_would_be_denials=first_given(
            rollout.max_would_be_denials, default=_STAGES.max_would_be_denials
        ),
        poll_interval=first_given(rollout.poll_interval, default=_ROLLOUT.poll_interval),
        max_wait=first_given(rollout.max_wait, default=_ROLLOUT.max_wait),
        replay=first_given(
            _env(env, "ALPHA_STORE_REPLAY", parse_boolean), table.store.replay, default=False
        ),
        store_key=_env(env, "ALPHA_STORE_KEY", parse_store_key),
        store_anchor=_env(env, "ALPHA_STORE_ANCHOR", parse_chain_head),
        reasoning=resolve_reasoning(flags.reasoner, env, table.reasoning),
        analyzer=resolve_analyzer(flags.engine, env, table.analyzer),
        monitor=first_given(
            _env(env, "ALPHA_MONITOR", parse_monitor), rollout.monitor, default="cloudtrail"
        ),
        slack=slack_settings(
            env, table.slack.channel, table.slack.users, table.slack.api_url, config_file
        ),
        github=github_settings(table.github, env, config_file),
        iam=first_given(_env(env, "ALPHA_IAM", _iam_target), rollout.iam, default=None),
        org_role=first_given(env.get("ALPHA_ORG_ROLE") or None, default=None),
        org_external_id=first_given(env.get("ALPHA_ORG_EXTERNAL_ID") or None, default=None),
        scope=_scope(env, table.scope),
        web_user_header=first_given(
            _env(env, "ALPHA_WEB_USER_HEADER", check_header_name),
            table.web.user_header,
            default=None,
        ),
        org=org_settings(flags.org, env, table.org, config_file),
    )


def _iam_target(text: str) -> str:
    if text in ("local", "aws") or (text.startswith("aws://") and len(text) > len("aws://")):
        return text
    raise ValueError(f"{text!r}: expected aws, aws://PROFILE or local")


def _paths(text: str) -> list[str]:
    paths = parse_names(text)
    for path in paths:
        if not (path.startswith("/") and path.endswith("/")):
            raise ValueError(f"{path!r}: an IAM path starts and ends with / (/teams/)")
    return paths


def _scope(env: Mapping[str, str], table: ScopeTable) -> PrincipalScope:
    """Each list from its variable, else from `[scope]`, else the default (any; own alpha-*)."""
    default = PrincipalScope()
    return PrincipalScope(
        names=tuple(
            first_given(_env(env, "ALPHA_SCOPE_NAMES", parse_names), table.names, default=[])
        ),
        paths=tuple(first_given(_env(env, "ALPHA_SCOPE_PATHS", _paths), table.paths, default=[])),
        tags=tuple(first_given(_env(env, "ALPHA_SCOPE_TAGS", parse_names), table.tags, default=[])),
        own=tuple(table.own) if table.own is not None else default.own,
    )


def parse_monitor(text: str) -> MonitorKind:
    for kind in MONITORS:
        if text.strip().lower() == kind:
            return kind
    raise ValueError(f"{text!r}: not a monitor (one of {', '.join(MONITORS)})")


def _store(
    flags: Flags,
    env: Mapping[str, str],
    table: StoreTable,
    bases: tuple[Path, Path],
    config_file: Path | None,
) -> tuple[Path, str | None]:
    """The SQLite file, and the store's URL when it is not one: `--store` or ALPHA_STORE (a
    path, or `dynamodb://PREFIX`), then `[store] url` or `[store] path`."""
    base, cwd = bases
    path, url = table.path, table.url
    if path and url:
        raise SettingsError(f"{config_file}: store: give either path or url, not both")
    given, where = (
        (flags.store, "--store") if flags.store else (env.get("ALPHA_STORE"), "ALPHA_STORE")
    )
    if given and "://" in given:
        return cwd / DEFAULT_STORE, _url(given, where)
    found = _path(flags.store, env.get("ALPHA_STORE"), path, base, cwd)
    if found is None and url:
        return cwd / DEFAULT_STORE, _url(url, f"{config_file}: store.url")
    return found or cwd / DEFAULT_STORE, None


def _url(text: str, where: str) -> str:
    try:
        return store_url(text)
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def _user(flags: Flags, env: Mapping[str, str]) -> str:
    """Who is acting, checked to stand for one person (see `alpha.rollout.identity`)."""
    if flags.user:
        return _person(flags.user, "--by")
    if env.get("ALPHA_USER", "").strip():
        return _person(env["ALPHA_USER"], "ALPHA_USER")
    return _person(_login(), "the login name")


def _approvers(
    env: Mapping[str, str], from_file: list[str] | None, config_file: Path | None
) -> frozenset[str]:
    variable = _env(env, "ALPHA_APPROVERS", parse_names)
    if variable is not None:
        return frozenset(_person(name, "ALPHA_APPROVERS") for name in variable)
    where = f"{config_file}: approvals.approvers"
    return frozenset(_person(name, where) for name in from_file or [])


def _person(name: str, where: str) -> str:
    try:
        return check_name(name)
    except IdentityError as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def _config_file(flags: Flags, env: Mapping[str, str], cwd: Path) -> Path | None:
    named = flags.config or env.get("ALPHA_CONFIG")
    if named:
        path = cwd / named
        if not path.is_file():
            raise SettingsError(f"{named}: no such settings file")
        return path
    default = cwd / CONFIG_NAME
    return default if default.is_file() else None


def _flag(value: str | None, name: str, parse: Callable[[str], T]) -> T | None:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from exc


def _env(env: Mapping[str, str], name: str, parse: Callable[[str], T]) -> T | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None  # an empty variable counts as unset
    try:
        return parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from exc


def _path(
    flag: str | None, variable: str | None, from_file: str | None, base: Path, cwd: Path
) -> Path | None:
    """Flags and variables are relative to where the command runs; the file's paths to it."""
    if flag:
        return cwd / flag
    if variable:
        return cwd / variable
    if from_file:
        return base / from_file
    return None


def _logs(
    flags: tuple[str, ...], variable: str | None, from_file: list[str] | None, base: Path, cwd: Path
) -> tuple[str, ...]:
    if flags:
        return tuple(_source(s, cwd) for s in flags)
    if variable and variable.strip():
        return tuple(_source(s, cwd) for s in parse_names(variable))
    return tuple(_source(s, base) for s in from_file or [])


def _source(text: str, base: Path) -> str:
    """A local log folder relative to `base`; s3:// and lookup:// sources as they are."""
    return text if "://" in text else str(base / text)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
