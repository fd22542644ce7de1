"""Guardrail configuration: TOML, environment overrides and their precedence, and errors that
name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpha.errors import AlphaError
from alpha.guardrails import GuardrailConfig, GuardrailError, load_config, parse_config
from alpha.policy.findings import Severity

FILE = """\
[tool.other]
x = 1

[guardrails]
blocked_actions = ["s3:DeleteBucket", "iam:Create*"]
disallowed_services = ["gamelift"]
required_conditions = ["aws:RequestedRegion"]
passrole_services = ["lambda.amazonaws.com"]
partial_action_wildcards = "error"
max_policy_size = 10240

[guardrails.condition_values]
"aws:RequestedRegion" = ["eu-west-1", "eu-central-1"]

[guardrails.rules.WILDCARD_RESOURCE_ON_WRITE]
severity = "warning"

[guardrails.rules.SIZE_QUOTA]
enabled = false
"""


def test_defaults_block_unscoped_passrole_and_require_nothing() -> None:
    config = load_config()
    assert config == GuardrailConfig()
    assert config.enabled("PASSROLE_UNSCOPED")
    assert config.severity("PASSROLE_UNSCOPED") is Severity.ERROR
    assert config.blocked_actions == config.required_conditions == config.disallowed_services == ()
    assert config.max_policy_size == 6144


def test_reads_the_guardrails_table(tmp_path: Path) -> None:
    path = tmp_path / "alpha.toml"
    path.write_text(FILE, encoding="utf-8")
    config = load_config(path, {})
    assert config.blocked_actions == ("s3:DeleteBucket", "iam:Create*")
    assert config.disallowed_services == ("gamelift",)
    assert config.required_conditions == ("aws:RequestedRegion",)
    assert config.values_for("AWS:RequestedRegion") == ("eu-west-1", "eu-central-1")
    assert config.partial_action_wildcards == "error"
    assert config.max_policy_size == 10240
    assert config.severity("WILDCARD_RESOURCE_ON_WRITE") is Severity.WARNING
    assert config.severity("WILDCARD_ACTION") is Severity.ERROR
    assert not config.enabled("SIZE_QUOTA")
    assert config.enabled("WILDCARD_ACTION")


def test_a_file_without_the_table_gives_defaults() -> None:
    assert parse_config("[tool]\nx = 1\n", "alpha.toml") == GuardrailConfig()


@pytest.mark.parametrize(
    ("env", "field", "expected"),
    [
        ({"ALPHA_BLOCKED_ACTIONS": "ec2:RunInstances"}, "blocked_actions", ("ec2:RunInstances",)),
        ({"ALPHA_BLOCKED_ACTIONS": " a:B , c:* ,,"}, "blocked_actions", ("a:B", "c:*")),
        ({"ALPHA_DISALLOWED_SERVICES": "ec2,lambda"}, "disallowed_services", ("ec2", "lambda")),
        (
            {"ALPHA_REQUIRED_CONDITIONS": "aws:SourceVpc"},
            "required_conditions",
            ("aws:SourceVpc",),
        ),
        # empty or blank counts as unset: the file's value stays
        ({"ALPHA_BLOCKED_ACTIONS": ""}, "blocked_actions", ("s3:DeleteBucket", "iam:Create*")),
        ({"ALPHA_BLOCKED_ACTIONS": " , "}, "blocked_actions", ("s3:DeleteBucket", "iam:Create*")),
        ({"UNRELATED": "x"}, "disallowed_services", ("gamelift",)),
    ],
)
def test_environment_replaces_the_files_list(
    env: dict[str, str], field: str, expected: tuple[str, ...]
) -> None:
    config = parse_config(FILE, "alpha.toml", env)
    assert getattr(config, field) == expected


def test_environment_applies_without_a_file() -> None:
    config = load_config(None, {"ALPHA_DISALLOWED_SERVICES": "gamelift"})
    assert config.disallowed_services == ("gamelift",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[guardrails]\nblocked_actions = ["s3:GetObject", "s3 Get"]\n',
            "alpha.toml: line 2: guardrails.blocked_actions[1]: 's3 Get' is not an action",
        ),
        (
            '[guardrails]\ndisallowed_services = "ec2"\n',
            "alpha.toml: line 2: guardrails.disallowed_services:",
        ),
        (
            '[guardrails]\n\n\nblockd_actions = ["x:Y"]\n',
            "alpha.toml: line 4: guardrails.blockd_actions: Extra inputs are not permitted",
        ),
        (
            "[guardrails]\nmax_policy_size = 0\n",
            "alpha.toml: line 2: guardrails.max_policy_size:",
        ),
        (
            '[guardrails]\npartial_action_wildcards = "sometimes"\n',
            "alpha.toml: line 2: guardrails.partial_action_wildcards:",
        ),
        (
            "[guardrails]\nx = 1\n[guardrails.rules.NO_SUCH_RULE]\nenabled = false\n",
            "alpha.toml: line 3: guardrails.rules.NO_SUCH_RULE: unknown rule 'NO_SUCH_RULE'",
        ),
        (
            '[guardrails]\n[guardrails.rules.SIZE_QUOTA]\nseverity = "fatal"\n',
            "alpha.toml: line 3: guardrails.rules.SIZE_QUOTA.severity:",
        ),
        (
            '[guardrails.condition_values]\n"not a key" = ["x"]\n',
            "alpha.toml: line 2: guardrails.condition_values.not a key",
        ),
        ("guardrails = 3\n", "alpha.toml: guardrails: must be a table"),
        ("[guardrails\n", "alpha.toml: not valid TOML: "),
    ],
)
def test_bad_config_names_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(GuardrailError) as raised:
        parse_config(text, "alpha.toml")
    assert str(raised.value).startswith(expected), str(raised.value)
    assert isinstance(raised.value, AlphaError)


def test_toml_syntax_error_gives_the_line() -> None:
    with pytest.raises(GuardrailError, match=r"line 3"):
        parse_config('[guardrails]\nblocked_actions = ["a:B"]\nrequired_conditions = = 1\n', "f")


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(GuardrailError) as raised:
        parse_config("", "alpha.toml", {"ALPHA_BLOCKED_ACTIONS": "s3:GetObject,not an action"})
    message = str(raised.value)
    assert message.startswith("ALPHA_BLOCKED_ACTIONS[1]: 'not an action' is not an action")


def test_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(GuardrailError, match=r"nope\.toml: cannot read"):
        load_config(missing, {})


def test_config_is_immutable() -> None:
    config = GuardrailConfig()
    with pytest.raises(ValueError, match="frozen"):
        config.blocked_actions = ("a:B",)
