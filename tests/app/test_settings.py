from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from alpha.app.config_file import read_file_settings
from alpha.app.errors import SettingsError
from alpha.app.settings import Flags, load_settings
from alpha.app.values import parse_duration, parse_time
from alpha.guardrails import GuardrailError, load_config
from alpha.rollout.stages import StageSettings
from tests.hostile_documents import settings_files, value_or_one_line_error

DEFAULT_BAKE = StageSettings().bake

TOML = """\
[store]
path = "state/alpha.db"

[rollout]
logs = ["trail"]
bake = "2h"
bakes = { canary = "3h" }

[approvals]
approvers = ["sam", "lee"]
expiry = "2d"
separation_of_duties = false
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6h", timedelta(hours=6)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1w", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "6", "h", "6x", "-1h", "0h", "6h junk"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_defaults_without_file_or_variables(tmp_path: Path) -> None:
    settings = load_settings(Flags(), {}, tmp_path)
    assert settings.store == tmp_path / ".alpha" / "alpha.db"
    assert settings.usage_store == tmp_path / ".alpha" / "usage.duckdb"
    assert settings.bake == DEFAULT_BAKE
    assert settings.logs == ()
    assert settings.separation_of_duties is True
    assert settings.approvers == frozenset()
    assert settings.approval_expiry == timedelta(days=7)
    assert settings.now is None


def test_file_beats_defaults_and_paths_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    settings = load_settings(Flags(), {}, tmp_path)
    assert settings.store == tmp_path / "state" / "alpha.db"
    assert settings.logs == (str(tmp_path / "trail"),)
    assert settings.bake == timedelta(hours=2)
    assert settings.bakes == {"canary": timedelta(hours=3)}
    assert settings.approvers == {"sam", "lee"}
    assert settings.approval_expiry == timedelta(days=2)
    assert settings.separation_of_duties is False


def test_variables_beat_the_file(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    env = {
        "ALPHA_STORE": "env.db",
        "ALPHA_BAKE": "4h",
        "ALPHA_APPROVERS": "kim",
        "ALPHA_APPROVAL_EXPIRY": "1d",
        "ALPHA_SEPARATION_OF_DUTIES": "true",
        "ALPHA_LOGS": "a,b",
        "ALPHA_NOW": "2026-10-31T06:00:00Z",
    }
    settings = load_settings(Flags(), env, tmp_path)
    assert settings.store == tmp_path / "env.db"
    assert settings.bake == timedelta(hours=4)
    assert settings.bakes == {}  # a bake from the environment is for every stage
    assert settings.approvers == {"kim"}
    assert settings.approval_expiry == timedelta(days=1)
    assert settings.separation_of_duties is True
    assert settings.logs == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert settings.now == datetime(2026, 10, 31, 6, tzinfo=UTC)


def test_flags_beat_variables(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    env = {"ALPHA_STORE": "env.db", "ALPHA_BAKE": "4h", "ALPHA_NOW": "2026-10-31T06:00:00Z"}
    flags = Flags(store="flag.db", bake="5m", logs=("x",), now="2026-11-01T00:00:00")
    settings = load_settings(flags, env, tmp_path)
    assert settings.store == tmp_path / "flag.db"
    assert settings.bake == timedelta(minutes=5)
    assert settings.logs == (str(tmp_path / "x"),)
    assert settings.now == datetime(2026, 11, 1, tzinfo=UTC)


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(TOML)
    settings = load_settings(Flags(), {"ALPHA_BAKE": " ", "ALPHA_APPROVERS": ""}, tmp_path)
    assert settings.bake == timedelta(hours=2)
    assert settings.approvers == {"sam", "lee"}


def test_a_bad_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "alpha.toml"
    path.write_text('[store]\npath = "x"\n\n[rollout]\nlogs = []\nbake = "soon"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(Flags(), {}, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 6: rollout.bake: ")
    assert "'soon' is not a duration" in message
    assert "\n" not in message


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text("[approvals]\nexpiry = '1d'\napprover = ['sam']\n")
    with pytest.raises(SettingsError, match=r"line 3: approvals\.approver: Extra inputs"):
        load_settings(Flags(), {}, tmp_path)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text("[rollout\n")
    with pytest.raises(SettingsError, match=r"alpha\.toml: not valid TOML"):
        load_settings(Flags(), {}, tmp_path)


def test_other_tables_are_left_to_their_readers(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text("[guardrails]\nblocked_actions = ['iam:*']\n")
    assert load_settings(Flags(), {}, tmp_path).bake == DEFAULT_BAKE


@pytest.mark.parametrize(
    ("env", "flags", "expected"),
    [
        ({"ALPHA_BAKE": "6x"}, Flags(), "ALPHA_BAKE: '6x' is not a duration"),
        ({"ALPHA_SEPARATION_OF_DUTIES": "maybe"}, Flags(), "ALPHA_SEPARATION_OF_DUTIES: "),
        ({}, Flags(bake="later"), "--bake: 'later' is not a duration"),
        ({}, Flags(now="yesterday"), "--now: 'yesterday' is not an ISO time"),
        ({}, Flags(config="missing.toml"), "missing.toml: no such settings file"),
    ],
)
def test_bad_flags_and_variables_are_named(
    tmp_path: Path, env: dict[str, str], flags: Flags, expected: str
) -> None:
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(")):
        load_settings(flags, env, tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("99999999999w", "'99999999999w': a duration must be at most a century"),
        ("36526d", "'36526d': a duration must be at most a century"),
        ("9" * 5_000 + "h", "a duration must be at most a century"),  # no int() of 5,000 digits
    ],
)
def test_durations_past_a_century_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_leading_zeros_do_not_make_a_duration_long() -> None:
    assert parse_duration("0" * 5_000 + "1h") == timedelta(hours=1)
    assert parse_duration("36525d") == timedelta(days=36_525)


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59Z",  # plus any bake, past year 9999
        "9000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",  # year 0 in UTC: astimezone overflows
        "1969-12-31T23:59:59Z",
    ],
)
def test_times_outside_1970_to_8999_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years 1970 to 8999"):
        parse_time(text)


def test_times_are_kept_in_utc() -> None:
    assert parse_time("8999-12-31T18:00:00-05:00") == datetime(8999, 12, 31, 23, tzinfo=UTC)
    assert parse_time("2026-01-01T05:00:00+05:00") == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[rollout]\nlogs = " + "[" * 50_000, "line 2: not valid TOML: nested more than 500"),
        ("[rollout]\nmax_wait = 1\nmax_new_denials = " + "1_0" * 2_200, "line 3: not valid"),
        ('[approvals]\nexpiry = "99999999999w"', "line 2: approvals.expiry: '99999999999w'"),
        ("[rollout]\nbake = 864000000000", "line 2: rollout.bake: a duration must be"),
        ("[rollout]\nbake = -1", "line 2: rollout.bake: a duration must be longer than zero"),
        ("[rollout]\nbakes = { canary = nan }", "line 2: rollout.bakes.canary: "),
        ('[store]\npath = "x"\n[store]', "not valid TOML: Cannot declare ('store',) twice"),
    ],
)
def test_hostile_settings_files_are_one_error(tmp_path: Path, toml: str, expected: str) -> None:
    (tmp_path / "alpha.toml").write_text(toml)
    with pytest.raises(SettingsError) as caught:
        load_settings(Flags(), {}, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'alpha.toml'}: "), message
    assert expected in message
    assert "\n" not in message


def test_now_at_the_end_of_the_calendar_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^ALPHA_NOW: '9999-12-31T23:59:59Z' is outside"):
        load_settings(Flags(), {"ALPHA_NOW": "9999-12-31T23:59:59Z"}, tmp_path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(settings_files())
def test_any_settings_file_is_settings_or_one_line_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "alpha.toml"
        path.write_text(text, encoding="utf-8")
        value_or_one_line_error(lambda: read_file_settings(path), SettingsError)
        value_or_one_line_error(lambda: load_config(path), GuardrailError)


SCOPE_TOML = """\
[rollout]
iam = "aws://prod"

[scope]
names = ["app-*"]
paths = ["/teams/"]
tags = ["alpha-managed=true", "team"]
own = ["alpha-*", "deployer"]
"""


def test_the_scope_and_the_iam_target_come_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(SCOPE_TOML)
    settings = load_settings(Flags(), {}, tmp_path)
    assert settings.iam == "aws://prod"
    scope = settings.rollout_settings().scope
    assert (scope.names, scope.paths, scope.tags, scope.own) == (
        ("app-*",),
        ("/teams/",),
        ("alpha-managed=true", "team"),
        ("alpha-*", "deployer"),
    )


def test_scope_variables_replace_the_file_lists(tmp_path: Path) -> None:
    (tmp_path / "alpha.toml").write_text(SCOPE_TOML)
    env = {"ALPHA_IAM": "local", "ALPHA_SCOPE_NAMES": "web-*, api-*", "ALPHA_SCOPE_PATHS": "/"}
    settings = load_settings(Flags(), env, tmp_path)
    assert settings.iam == "local"
    assert (settings.scope.names, settings.scope.paths) == (("web-*", "api-*"), ("/",))
    assert settings.scope.tags == ("alpha-managed=true", "team")


def test_by_default_any_principal_but_alphas_own_is_in_scope(tmp_path: Path) -> None:
    settings = load_settings(Flags(), {}, tmp_path)
    assert settings.iam is None
    assert settings.scope.own == ("alpha-*",)
    assert (settings.scope.names, settings.scope.paths, settings.scope.tags) == ((), (), ())


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ('[rollout]\niam = "gcp"\n', {}, r"line 2: rollout\.iam: String should match"),
        ('[scope]\npaths = ["teams"]\n', {}, r"line 2: scope\.paths\.0: String should match"),
        ('[scope]\nnames = [""]\n', {}, r"line 2: scope\.names\.0: String should have at least"),
        ("", {"ALPHA_IAM": "aws://"}, "ALPHA_IAM: 'aws://': expected aws, aws://PROFILE or local"),
        ("", {"ALPHA_SCOPE_PATHS": "/a/,b"}, "ALPHA_SCOPE_PATHS: 'b': an IAM path starts"),
    ],
)
def test_bad_scope_and_iam_settings_are_named(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    (tmp_path / "alpha.toml").write_text(toml)
    with pytest.raises(SettingsError, match=expected):
        load_settings(Flags(), env, tmp_path)
