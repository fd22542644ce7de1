"""Every command over hostile files: exit 0, 1 or 2, and an error is one line, never a traceback.

Inputs are real documents (the example policies, the sample accounts, real CloudTrail) damaged
at random (a subtree replaced by any JSON value, deep nesting, huge numbers, the text cut short
or spliced with junk), and arbitrary JSON. `make test` runs a small budget; set
`ALPHA_FUZZ_EXAMPLES` for a longer run (`benchmarks/README.md`, "Fuzzing the commands").
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.workflow_helpers import alpha
from tests.fakes.cloudtrail_logs import SAMPLES

ROOT = Path(__file__).resolve().parent.parent.parent
POLICIES = sorted((ROOT / "examples" / "policies").glob("*.json"))
ACCOUNTS = sorted((ROOT / "tests" / "data" / "accounts").glob("*.json"))[:2]
TRAILS = sorted(SAMPLES.rglob("*.json"))[:3]
BUDGET = settings(
    max_examples=int(os.environ.get("ALPHA_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BIG_NUMBER = "<a number of 5,000 digits>"


def _encode(value: Any) -> bytes:
    return json.dumps(value).replace(json.dumps(BIG_NUMBER), "9" * 5000).encode()


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.just(BIG_NUMBER)  # written out as 5,000 digits: past Python's int-str limit
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["*", "s3:*", "arn:aws:s3:::*", "Allow", "Deny", "2012-10-17", ""])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def _replace_somewhere(document: Any, value: Any, path: list[int]) -> Any:
    """`document` with the subtree that `path` picks (indexes taken modulo) set to `value`."""
    if not path or not isinstance(document, (dict, list)) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    changed = dict(document) if isinstance(document, dict) else list(document)
    changed[key] = _replace_somewhere(document[key], value, path[1:])
    return changed


@st.composite
def damaged(draw: st.DrawFn, originals: list[Path]) -> bytes:
    """A real document, damaged one way or another, as the bytes of a file."""
    original = json.loads(draw(st.sampled_from(originals)).read_text(encoding="utf-8"))
    how = draw(st.sampled_from(["subtree", "deep", "cut", "splice", "any"]))
    if how == "subtree":
        path = draw(st.lists(st.integers(min_value=0), max_size=6))
        return _encode(_replace_somewhere(original, draw(JSON), path))
    if how == "deep":
        depth = draw(st.integers(min_value=500, max_value=200_000))
        return ("[" * depth + "]" * depth).encode()
    text = json.dumps(original).encode()
    if how == "cut":
        return text[: draw(st.integers(min_value=0, max_value=len(text)))]
    if how == "splice":
        at = draw(st.integers(min_value=0, max_value=len(text)))
        return text[:at] + draw(st.binary(max_size=16)) + text[at:]
    return _encode(draw(JSON))


def _check(argv: list[str]) -> None:
    ran = alpha(*argv)
    assert ran.code in (0, 1, 2), (argv, ran.code, ran.err[-500:])
    assert "Traceback" not in ran.err, ran.err[-2000:]
    if ran.code == 2:
        assert ran.err.startswith(("alpha: error: ", "Error: ", "Usage: ")), ran.err[-500:]
        if ran.err.startswith("alpha: error: "):
            assert ran.err.count("\n") == 1, ran.err[-500:]


Command = Callable[[Path, Path], list[str]]
POLICY_COMMANDS: dict[str, Command] = {
    "lint": lambda f, _: ["lint", str(f)],
    "normalise": lambda f, _: ["normalise", str(f)],
    "simulate": lambda f, _: [
        "simulate",
        "--policy",
        str(f),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::reports/a.csv",
    ],
    "check-access": lambda f, _: [
        "check-access",
        "--existing",
        str(POLICIES[0]),
        "--proposed",
        str(f),
    ],
    "diff": lambda f, _: ["diff", str(POLICIES[0]), str(f)],
}


@pytest.mark.parametrize("command", sorted(POLICY_COMMANDS))
def test_policy_commands_survive_damaged_policies(command: str, tmp_path: Path) -> None:
    @BUDGET
    @given(damaged(POLICIES))
    def run(data: bytes) -> None:
        policy = tmp_path / "policy.json"
        policy.write_bytes(data)
        _check(POLICY_COMMANDS[command](policy, tmp_path))

    run()


def test_account_show_survives_damaged_accounts(tmp_path: Path) -> None:
    @BUDGET
    @given(damaged(ACCOUNTS))
    def run(data: bytes) -> None:
        account = tmp_path / "account.json"
        account.write_bytes(data)
        _check(["account", "show", str(account)])

    run()


def test_usage_survives_damaged_logs(tmp_path: Path) -> None:
    @BUDGET
    @given(damaged(TRAILS))
    def run(data: bytes) -> None:
        logs = tmp_path / "logs"
        logs.mkdir(exist_ok=True)
        (logs / "trail.json").write_bytes(data)
        store = tmp_path / "usage.duckdb"
        _check(["usage", str(logs), "--store", str(store), "--format", "json"])

    run()


SETTINGS_TEXT = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda table, key, value: f"[{table}]\n{key} = {value}\n",
        st.sampled_from(["store", "rollout", "approvals", "guardrails", "github"]),
        st.sampled_from(
            ["path", "bake", "bakes", "expiry", "approvers", "canary_fraction", "users", "x"]
        ),
        st.sampled_from(
            ['"6h"', '"99999999999999w"', "1e400", "-1", "[]", '["\\u200bsam"]', "{}", '"x"']
        ),
    ),
)


def test_workflow_commands_survive_damaged_settings(tmp_path: Path) -> None:
    @BUDGET
    @given(SETTINGS_TEXT)
    def run(text: str) -> None:
        config = tmp_path / "alpha.toml"
        config.write_text(text, encoding="utf-8")
        _check(["status", "--config", str(config), "--store", str(tmp_path / "alpha.db")])

    run()
