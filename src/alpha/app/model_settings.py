"""The settings of the model-backed parts: who reasons (the local reasoner or Claude on
Bedrock) and which engine writes the policy (ALPHA's own or IAM Access Analyzer's), resolved
by the one precedence rule (flag, `ALPHA_*` variable, alpha.toml, default).

Variables: ALPHA_REASONER (`local` or `bedrock`), ALPHA_BEDROCK_MODEL (a model id such as
`anthropic.claude-sonnet-4-5-20250929-v1:0`, an inference profile id such as
`us.anthropic...`, or an ARN), ALPHA_BEDROCK_REGION, ALPHA_ENGINE (`alpha` or
`access-analyzer`), ALPHA_ANALYZER_TRAIL (the trail's ARN), ALPHA_ANALYZER_ROLE (the role
Access Analyzer assumes to read the trail), ALPHA_ANALYZER_REGION, ALPHA_ANALYZER_CHECKS
(true: also ask Access Analyzer to check never-widen and validate the policy).

    [reasoning]
    reasoner = "bedrock"
    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    region = "us-east-1"
    timeout = "60s"          # per Converse call
    max_attempts = 4         # calls in all, throttling retries included

    [analyzer]
    engine = "access-analyzer"
    trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/management"
    role = "arn:aws:iam::123456789012:role/AccessAnalyzerCloudTrail"
    checks = true
    max_wait = "30m"         # for one generation job
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from alpha.app.errors import SettingsError
from alpha.app.values import first_given, parse_boolean

__all__ = [
    "DEFAULT_MODEL",
    "ENGINES",
    "REASONERS",
    "AnalyzerSettings",
    "ReasoningSettings",
    "check_model",
    "check_role",
    "check_trail",
    "resolve_analyzer",
    "resolve_reasoning",
]

DEFAULT_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
REASONERS = ("local", "bedrock")
ENGINES = ("alpha", "access-analyzer")
_MODEL_ID = re.compile(r"(?:[a-z]{2,10}\.)?[a-z0-9-]+\.[a-z0-9.-]+(?::[a-z0-9]+)?(?::[0-9]+k?)?")
_MODEL_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:(?:\d{12})?:"
    r"(?:foundation-model|inference-profile|application-inference-profile|provisioned-model"
    r"|custom-model|imported-model)/[A-Za-z0-9._:/-]+"
)
if TYPE_CHECKING:
    from alpha.app.config_file import AnalyzerTable, ReasoningTable

T = TypeVar("T")
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]+")
_TRAIL_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:cloudtrail:[a-z0-9-]+:\d{12}:trail/[\w.-]+")


@dataclass(frozen=True, slots=True)
class ReasoningSettings:
    reasoner: str = "local"
    model: str = DEFAULT_MODEL
    region: str | None = None
    timeout: timedelta = timedelta(seconds=60)
    max_attempts: int = 4


@dataclass(frozen=True, slots=True)
class AnalyzerSettings:
    engine: str = "alpha"
    trail: str | None = None
    role: str | None = None
    region: str | None = None
    checks: bool = False
    max_wait: timedelta = timedelta(minutes=30)


def check_model(text: str) -> str:
    """A Bedrock model id, inference profile id or ARN; ValueError otherwise."""
    cleaned = text.strip()
    if _MODEL_ID.fullmatch(cleaned) or _MODEL_ARN.fullmatch(cleaned):
        return cleaned
    raise ValueError(
        f"{text!r} is not a Bedrock model id (like {DEFAULT_MODEL}), inference profile id "
        f"(us.{DEFAULT_MODEL}) or ARN"
    )


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        cleaned = text.strip().lower()
        if cleaned not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return cleaned

    return parse


def _arn(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not pattern.fullmatch(text.strip()):
            raise ValueError(f"{text!r} is not {what}")
        return text.strip()

    return parse


check_trail = _arn(_TRAIL_ARN, "a CloudTrail trail ARN")
check_role = _arn(_ROLE_ARN, "an IAM role ARN")


def _text(text: str) -> str:
    return text.strip()


def _given(
    env: Mapping[str, str],
    name: str,
    parse: Callable[[str], T],
    from_file: T | None,
    flag: tuple[str, str | None] = ("", None),
) -> T | None:
    """Flag, then variable, then the file's value (already validated), parsed; SettingsError
    naming the flag or variable whose text is bad."""
    flag_name, flag_value = flag
    for where, raw in ((flag_name, flag_value), (name, env.get(name, "").strip() or None)):
        if raw:
            try:
                return parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{where}: {exc}") from exc
    return from_file


class _NoTable:
    """Every field of a table unset, without loading pydantic to build an empty one."""

    def __getattr__(self, name: str) -> None:
        return None


_NO_TABLE: Any = _NoTable()


def resolve_reasoning(
    flag: str | None, env: Mapping[str, str], table: ReasoningTable | None = None
) -> ReasoningSettings:
    """Without a table: no alpha.toml is read (the report commands)."""
    base = ReasoningSettings()
    table = table or _NO_TABLE
    chosen = _given(env, "ALPHA_REASONER", _choice(REASONERS), table.reasoner, ("--reasoner", flag))
    return ReasoningSettings(
        reasoner=first_given(chosen, default=base.reasoner),
        model=first_given(
            _given(env, "ALPHA_BEDROCK_MODEL", check_model, table.model), default=base.model
        ),
        region=_given(env, "ALPHA_BEDROCK_REGION", _text, table.region),
        timeout=first_given(table.timeout, default=base.timeout),
        max_attempts=first_given(table.max_attempts, default=base.max_attempts),
    )


def resolve_analyzer(
    flag: str | None, env: Mapping[str, str], table: AnalyzerTable | None = None
) -> AnalyzerSettings:
    """Without a table: no alpha.toml is read (the report commands)."""
    base = AnalyzerSettings()
    table = table or _NO_TABLE
    engine = _given(env, "ALPHA_ENGINE", _choice(ENGINES), table.engine, ("--engine", flag))
    return AnalyzerSettings(
        engine=first_given(engine, default=base.engine),
        trail=_given(env, "ALPHA_ANALYZER_TRAIL", check_trail, table.trail),
        role=_given(env, "ALPHA_ANALYZER_ROLE", check_role, table.role),
        region=_given(env, "ALPHA_ANALYZER_REGION", _text, table.region),
        checks=first_given(
            _given(env, "ALPHA_ANALYZER_CHECKS", parse_boolean, table.checks),
            default=base.checks,
        ),
        max_wait=first_given(table.max_wait, default=base.max_wait),
    )
