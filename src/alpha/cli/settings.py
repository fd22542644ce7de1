"""Settings of the workflow commands: flags, then environment variables, then `alpha.toml`,
then defaults (the first that says something wins).

    [store]
    path = ".alpha/alpha.db"          # relative paths are relative to alpha.toml's folder

    [rollout]
    logs = ["cloudtrail"]             # CloudTrail the rollout watches while a stage bakes
    usage_store = ".alpha/usage.duckdb"
    bake = "1h"                       # every stage; durations like 30m, 6h, 2d, 1h30m
    bakes = { canary = "6h" }         # per stage
    canary_fraction = 0.5
    max_new_denials = 0
    max_would_be_denials = 0

    [approvals]
    approvers = ["sam", "lee"]        # empty: anyone
    expiry = "7d"
    separation_of_duties = true

Variables: ALPHA_CONFIG (the file), ALPHA_STORE, ALPHA_USAGE_STORE, ALPHA_LOGS (comma-separated),
ALPHA_BAKE, ALPHA_APPROVERS (comma-separated), ALPHA_APPROVAL_EXPIRY,
ALPHA_SEPARATION_OF_DUTIES (true/false), ALPHA_USER (who is acting), ALPHA_NOW (act as of this
UTC time, to replay past logs). The file is untrusted input: pydantic checks it, and an error
names the file, the line and the field.
"""

from __future__ import annotations

import getpass
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from alpha.errors import AlphaError

CONFIG_NAME = "alpha.toml"
DEFAULT_STORE = Path(".alpha") / "alpha.db"
DEFAULT_USAGE_STORE = Path(".alpha") / "usage.duckdb"
DEFAULT_BAKE = timedelta(hours=1)
DEFAULT_EXPIRY = timedelta(days=7)

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(AlphaError):
    """A setting (flag, variable or alpha.toml field) has a value that cannot be used."""


def parse_duration(text: str) -> timedelta:
    """`6h`, `30m`, `2d`, `1h30m`, `1w`, `90s`; ValueError naming the text otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1h30m")
    total = timedelta()
    for number, unit in parts:
        total += timedelta(**{_UNITS[unit]: int(number)})
    if total <= timedelta(0):
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    return total


def parse_time(text: str) -> datetime:
    """An ISO time (UTC unless it says otherwise); ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO time like 2026-10-31T06:00:00Z") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _duration_field(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration_field)]
StageName = Literal["sandbox", "canary", "production"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreTable(_Table):
    path: str | None = None


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


class ApprovalsTable(_Table):
    approvers: list[str] | None = None
    expiry: Duration | None = None
    separation_of_duties: bool | None = None


class FileSettings(BaseModel):
    """The workflow's tables of alpha.toml; other tables ([guardrails]) are read elsewhere."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    store: StoreTable = Field(default_factory=StoreTable)
    rollout: RolloutTable = Field(default_factory=RolloutTable)
    approvals: ApprovalsTable = Field(default_factory=ApprovalsTable)


@dataclass(frozen=True, slots=True)
class Flags:
    """What the command line said (raw text; None when not given)."""

    config: str | None = None
    store: str | None = None
    logs: tuple[str, ...] = ()
    bake: str | None = None
    now: str | None = None
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    store: Path
    usage_store: Path
    logs: tuple[str, ...]
    bake: timedelta
    bakes: dict[str, timedelta]
    approvers: frozenset[str]
    approval_expiry: timedelta
    separation_of_duties: bool
    user: str
    now: datetime | None = None
    config_file: Path | None = None
    canary_fraction: float = 0.5
    max_new_denials: int = 0
    max_would_be_denials: int = 0
    poll_interval: timedelta = timedelta(seconds=30)
    max_wait: timedelta = timedelta(hours=2)
    guardrails_file: Path | None = field(default=None)


def load_settings(flags: Flags, env: Mapping[str, str], cwd: Path) -> Settings:
    """Resolve every setting: flag, then variable, then alpha.toml, then default."""
    config_file = _config_file(flags, env, cwd)
    table = read_file_settings(config_file) if config_file is not None else FileSettings()
    base = config_file.parent if config_file is not None else cwd
    rollout, approvals = table.rollout, table.approvals
    bake_flag = _flag(flags.bake, "--bake", parse_duration)
    return Settings(
        store=_path(flags.store, env.get("ALPHA_STORE"), table.store.path, base, cwd)
        or cwd / DEFAULT_STORE,
        usage_store=_path(None, env.get("ALPHA_USAGE_STORE"), rollout.usage_store, base, cwd)
        or cwd / DEFAULT_USAGE_STORE,
        logs=_logs(flags.logs, env.get("ALPHA_LOGS"), rollout.logs, base, cwd),
        bake=_first(bake_flag, _env(env, "ALPHA_BAKE", parse_duration), rollout.bake, DEFAULT_BAKE),
        # A bake given on the command line or in the environment is meant for every stage.
        bakes={}
        if bake_flag or env.get("ALPHA_BAKE")
        else {str(k): v for k, v in rollout.bakes.items()},
        approvers=frozenset(_first(_env(env, "ALPHA_APPROVERS", _names), approvals.approvers, [])),
        approval_expiry=_first(
            _env(env, "ALPHA_APPROVAL_EXPIRY", parse_duration), approvals.expiry, DEFAULT_EXPIRY
        ),
        separation_of_duties=_first(
            _env(env, "ALPHA_SEPARATION_OF_DUTIES", _boolean),
            approvals.separation_of_duties,
            True,
        ),
        user=(flags.user or env.get("ALPHA_USER") or _login()).strip(),
        now=_first(_flag(flags.now, "--now", parse_time), _env(env, "ALPHA_NOW", parse_time)),
        config_file=config_file,
        canary_fraction=_first(rollout.canary_fraction, 0.5),
        max_new_denials=_first(rollout.max_new_denials, 0),
        max_would_be_denials=_first(rollout.max_would_be_denials, 0),
        poll_interval=_first(rollout.poll_interval, timedelta(seconds=30)),
        max_wait=_first(rollout.max_wait, timedelta(hours=2)),
        guardrails_file=config_file,
    )


def read_file_settings(path: Path) -> FileSettings:
    """The workflow tables of one alpha.toml; `SettingsError` naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read: {exc}") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
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
    where = f"{path}: line {line}" if line else str(path)
    return f"{where}: {'.'.join(location)}: {message}{more}"


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


def _config_file(flags: Flags, env: Mapping[str, str], cwd: Path) -> Path | None:
    named = flags.config or env.get("ALPHA_CONFIG")
    if named:
        path = cwd / named
        if not path.is_file():
            raise SettingsError(f"{named}: no such settings file")
        return path
    default = cwd / CONFIG_NAME
    return default if default.is_file() else None


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _flag(value: str | None, name: str, parse: Any) -> Any:
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from exc


def _env(env: Mapping[str, str], name: str, parse: Any) -> Any:
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
        return tuple(_source(s, cwd) for s in _names(variable))
    return tuple(_source(s, base) for s in from_file or [])


def _source(text: str, base: Path) -> str:
    """A local log folder relative to `base`; s3:// and lookup:// sources as they are."""
    return text if "://" in text else str(base / text)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false")


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
