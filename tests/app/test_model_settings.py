"""The reasoner's and the engine's settings: flag, then variable, then alpha.toml, then the
default; model ids, inference profiles and ARNs accepted; bad values named where they are."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alpha.app.errors import SettingsError
from alpha.app.model_settings import DEFAULT_MODEL, check_model
from alpha.app.settings import Flags, load_settings

TOML = """\
[reasoning]
reasoner = "bedrock"
model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
region = "us-west-2"
timeout = "30s"
max_attempts = 3

[analyzer]
engine = "access-analyzer"
trail = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/management"
role = "arn:aws:iam::111122223333:role/AccessAnalyzerCloudTrail"
checks = true
max_wait = "10m"
"""


def test_the_defaults_are_local_and_alpha(tmp_path: Path) -> None:
    settings = load_settings(Flags(), {}, tmp_path)
    assert settings.reasoning.reasoner == "local"
    assert settings.reasoning.model == DEFAULT_MODEL
    assert settings.analyzer.engine == "alpha"
    assert settings.analyzer.checks is False


def test_the_file_then_the_variables_then_the_flags(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    from_file = load_settings(Flags(), {}, tmp_path)
    assert from_file.reasoning.model == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert from_file.reasoning.timeout == timedelta(seconds=30)
    assert from_file.reasoning.max_attempts == 3
    assert from_file.analyzer.role == "arn:aws:iam::111122223333:role/AccessAnalyzerCloudTrail"
    assert from_file.analyzer.max_wait == timedelta(minutes=10)
    assert from_file.analyzer.checks is True

    env = {"ALPHA_REASONER": "local", "ALPHA_ENGINE": "alpha", "ALPHA_ANALYZER_CHECKS": "no"}
    from_env = load_settings(Flags(), env, tmp_path)
    assert (from_env.reasoning.reasoner, from_env.analyzer.engine) == ("local", "alpha")
    assert from_env.analyzer.checks is False

    flagged = load_settings(Flags(reasoner="bedrock", engine="access-analyzer"), env, tmp_path)
    assert (flagged.reasoning.reasoner, flagged.analyzer.engine) == ("bedrock", "access-analyzer")


@pytest.mark.parametrize(
    "model",
    [
        DEFAULT_MODEL,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-3-haiku-20240307-v1:0:200k",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
    ],
)
def test_model_ids_profiles_and_arns_are_accepted(model: str) -> None:
    assert check_model(model) == model


@pytest.mark.parametrize("model", ["", "claude", "claude please", "arn:aws:s3:::bucket"])
def test_anything_else_is_not_a_model(model: str) -> None:
    with pytest.raises(ValueError, match="not a Bedrock model id"):
        check_model(model)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[reasoning]\nmodel = "gpt-4"\n', "line 2: reasoning.model: 'gpt-4' is not a Bedrock"),
        ("[reasoning]\nmax_attempts = 0\n", "line 2: reasoning.max_attempts"),
        ('[analyzer]\nrole = "admin"\n', "line 2: analyzer.role: 'admin' is not an IAM role ARN"),
        ('[analyzer]\nengine = "magic"\n', "line 2: analyzer.engine"),
    ],
)
def test_bad_file_values_name_the_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "alpha.toml").write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(Flags(), {}, tmp_path)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALPHA_ANALYZER_TRAIL", "management"),
        ("ALPHA_ENGINE", "both"),
        ("ALPHA_ANALYZER_CHECKS", "maybe"),
    ],
)
def test_bad_variables_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        load_settings(Flags(), {name: value}, tmp_path)
