from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alpha.policy.parse import read_policy_file
from tests.cli.helpers import run_cli

EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli([*args], capsys)


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, indent=2))
    return str(path)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


GOOD = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})


def test_clean_file_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "lint", write(tmp_path, "good.json", GOOD))
    assert (code, err) == (0, "")
    assert out == "0 errors, 0 warnings, 0 notes in 1 file\n"


def test_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = {"Statement": GOOD["Statement"]}  # no Version: a warning
    file = write(tmp_path, "w.json", document)
    code, out, _ = run(capsys, "lint", file)
    assert code == 0
    assert out.splitlines()[0].startswith(f"{file}:Version: warning LEGACY_VERSION: ")


def test_error_exits_1_naming_file_place_and_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = policy({"Effect": "Allow", "Action": ["s3:GetObject", "s3:Fetch"], "Resource": "*"})
    file = write(tmp_path, "bad.json", bad)
    code, out, _ = run(capsys, "lint", file)
    assert code == 1
    assert out.splitlines() == [
        f"{file}:Statement[0].Action[1]: error UNKNOWN_ACTION: "
        "'s3:Fetch' is not an action in the IAM catalog",
        "1 errors, 0 warnings, 0 notes in 1 file",
    ]


@pytest.mark.parametrize(
    ("text", "code", "path"),
    [
        ('{"Statement": [', "NOT_JSON", "line 1 column 16"),
        ('{"Statement": [{"Effect": "Allow"}]}', "MISSING_ELEMENT", "Statement[0].Action"),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]}',
            "ACTION_AND_NOTACTION",
            "Statement[0].NotAction",
        ),
    ],
)
def test_structural_problems_are_findings_not_crashes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, code: str, path: str
) -> None:
    file = write(tmp_path, "broken.json", text)
    exit_code, out, err = run(capsys, "lint", file, "--format", "json")
    assert (exit_code, err) == (1, "")
    found = json.loads(out)
    assert {(f["file"], f["path"], f["code"], f["severity"]) for f in found} >= {
        (file, path, code, "error")
    }


def test_json_output_lists_every_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:Get*"], "Resource": "arn:aws:s3:::b/*"}
    )
    file = write(tmp_path, "p.json", document)
    code, out, _ = run(capsys, "lint", file, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "file": file,
            "path": "Statement[0].Action[0]",
            "code": "REDUNDANT_PATTERN",
            "severity": "info",
            "title": "Pattern covered by a wildcard",
            "message": "'s3:GetObject' is covered by 's3:Get*' (Statement[0].Action[1])",
        }
    ]


def test_unreadable_file_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.json"
    code, out, err = run(capsys, "lint", write(tmp_path, "good.json", GOOD), str(missing))
    assert code == 2
    assert out == ""
    assert err.startswith(f"alpha: error: {missing}: cannot read:")
    assert len(err.splitlines()) == 1


def test_managed_kind_checks_the_size_quota(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resources = [f"arn:aws:s3:::bucket-number-{i}" for i in range(300)]
    big = write(
        tmp_path,
        "big.json",
        policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": resources}),
    )
    assert run(capsys, "lint", big)[0] == 0
    code, out, _ = run(capsys, "lint", big, "--kind", "managed")
    assert code == 1
    assert f"{big}: error SIZE_QUOTA_MANAGED: " in out


def test_inline_files_count_together(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    resources = [f"arn:aws:s3:::bucket-number-{i}" for i in range(40)]
    half = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": resources})
    one = write(tmp_path, "one.json", half)
    two = write(tmp_path, "two.json", half)
    assert run(capsys, "lint", one, "--kind", "inline", "--inline-owner", "user")[0] == 0
    code, out, _ = run(capsys, "lint", one, two, "--kind", "inline", "--inline-owner", "user")
    assert code == 1
    assert "(all files): error SIZE_QUOTA_INLINE: " in out
    assert "a user's inline policies together may have 2,048" in out


def test_resource_kind_needs_a_principal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = write(tmp_path, "bucket.json", GOOD)
    code, out, _ = run(capsys, "lint", file, "--kind", "resource")
    assert code == 1
    assert f"{file}:Statement[0].Principal: error MISSING_ELEMENT" in out


@pytest.mark.parametrize(
    ("name", "exit_code"),
    [
        ("admin-ish-role.json", 0),
        ("s3-reader.json", 0),
        ("broken.json", 1),
        ("broken-structure.json", 1),
    ],
)
def test_bundled_examples(capsys: pytest.CaptureFixture[str], name: str, exit_code: int) -> None:
    assert run(capsys, "lint", str(EXAMPLES / name))[0] == exit_code


def test_normalise_writes_the_canonical_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    written = {
        "Statement": {
            "Effect": "Allow",
            "Action": ["S3:getobject", "s3:Get*", "ec2:describeinstances"],
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b/*"],
        }
    }
    file = write(tmp_path, "p.json", written)
    code, out, err = run(capsys, "normalise", file)
    assert (code, err) == (0, "")
    assert json.loads(out) == policy(
        {
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "s3:Get*"],
            "Resource": "arn:aws:s3:::b/*",
        }
    )
    target = tmp_path / "out.json"
    assert run(capsys, "normalise", file, "-o", str(target)) == (0, "", "")
    assert target.read_text() == out
    assert run(capsys, "normalise", str(target))[1] == out


def test_normalise_rejects_a_broken_policy_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = EXAMPLES / "broken-structure.json"
    code, out, err = run(capsys, "normalise", str(file))
    assert (code, out) == (2, "")
    assert err == (
        f"alpha: error: {file}: Statement[0].Effect: must be 'Allow' or 'Deny', not 'allow' "
        "(and 5 more)\n"
    )


def test_examples_are_policies() -> None:
    for path in EXAMPLES.glob("*.json"):
        if path.name != "broken-structure.json":
            assert read_policy_file(path).statements
