"""`alpha check-access` and `alpha diff` (named apart from tests/policy/test_compare.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli

EXISTING = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
    ],
}
NARROWER = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
}
WIDER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Cleanup",
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    ],
}


run = run_cli


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_check_access_passes_a_narrower_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing, proposed = write(tmp_path, "e.json", EXISTING), write(tmp_path, "p.json", NARROWER)
    code, out, _ = run(["check-access", "--existing", existing, "--proposed", proposed], capsys)
    assert code == 0
    assert out.startswith("no new access")


def test_check_access_shows_the_counterexample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing, proposed = write(tmp_path, "e.json", EXISTING), write(tmp_path, "p.json", WIDER)
    code, out, _ = run(["check-access", "--existing", existing, "--proposed", proposed], capsys)
    assert code == 1
    assert "action:    s3:DeleteObject" in out
    assert "resource:  arn:aws:s3:::b/" in out
    assert "aws:securetransport=true" in out
    assert f"granted by {proposed}: Statement[0] (Cleanup)" in out


def test_check_access_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing, proposed = write(tmp_path, "e.json", EXISTING), write(tmp_path, "p.json", WIDER)
    argv = ["check-access", "--existing", existing, "--proposed", proposed, "--format", "json"]
    code, out, _ = run(argv, capsys)
    data = json.loads(out)
    assert code == 1
    assert data["new_access"] is True
    assert data["counterexample"]["action"] == "s3:DeleteObject"
    assert data["counterexample"]["context"] == {"aws:securetransport": ["true"]}
    assert data["statement"] == f"{proposed}: Statement[0] (Cleanup)"


def test_check_access_with_several_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = write(tmp_path, "e.json", EXISTING)
    first, second = write(tmp_path, "p1.json", NARROWER), write(tmp_path, "p2.json", WIDER)
    argv = ["check-access", "--existing", existing, "--proposed", first, "--proposed", second]
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert f"granted by {second}: Statement[0]" in out


@pytest.mark.parametrize(
    ("content", "place"),
    [
        ("{not json", "line 1 column 2"),
        (
            {"Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]},
            "Statement[0].Effect",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any, place: str
) -> None:
    existing, bad = write(tmp_path, "e.json", EXISTING), write(tmp_path, "bad.json", content)
    for argv in (
        ["check-access", "--existing", existing, "--proposed", bad],
        ["diff", existing, bad],
    ):
        code, _, err = run(argv, capsys)
        assert code == 2
        assert err.count("\n") == 1
        assert err.startswith(f"alpha: error: {bad}: {place}")


def test_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = write(tmp_path, "e.json", EXISTING)
    code, _, err = run(["diff", existing, str(tmp_path / "nope.json")], capsys)
    assert code == 2
    assert "nope.json" in err


def test_diff_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing, proposed = write(tmp_path, "e.json", NARROWER), write(tmp_path, "p.json", WIDER)
    code, out, _ = run(["diff", existing, proposed], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == [
        "changes: +1 actions, -1 actions",
        "  + s3:DeleteObject",
        "  - s3:GetObject",
    ]
    assert lines[3] == "privilege reduction: 100.0% (1 of 1 grants removed)"
    assert "  Read: 100.0% (1 of 1)" in lines


def test_diff_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing, proposed = write(tmp_path, "e.json", EXISTING), write(tmp_path, "p.json", NARROWER)
    code, out, _ = run(["diff", existing, proposed, "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["added_actions"] == []
    assert "s3:PutObject" in data["removed_actions"]
    assert data["change_summary"] == f"+0 actions, -{len(data['removed_actions'])} actions"
    assert data["by_access_level"]["Read"]["removed_grants"] > 0


def _ec2_admin() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ec2:*", "s3:GetObject"], "Resource": "*"}],
    }


def _s3_only() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }


def test_diff_summarises_a_service_with_many_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = write(tmp_path, "a.json", _ec2_admin()), write(tmp_path, "b.json", _s3_only())
    code, out, _ = run(["diff", before, after], capsys)
    assert code == 0
    removed = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(removed) == 1
    assert removed[0].startswith("  - ec2 (")
    assert "actions: ec2:" in removed[0]


def test_diff_all_actions_lists_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = write(tmp_path, "a.json", _ec2_admin()), write(tmp_path, "b.json", _s3_only())
    code, out, _ = run(["diff", "--all-actions", before, after], capsys)
    assert code == 0
    removed = [line for line in out.splitlines() if line.startswith("  - ")]
    assert len(removed) > 500
    assert "  - ec2:RunInstances" in removed


def policy_of(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def check(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    existing: dict[str, Any],
    proposed: dict[str, Any],
    *options: str,
) -> tuple[int, str]:
    files = ["--existing", write(tmp_path, "e.json", existing)]
    files += ["--proposed", write(tmp_path, "p.json", proposed)]
    code, out, _ = run(["check-access", *files, *options], capsys)
    return code, out


@pytest.mark.parametrize(
    ("existing", "proposed", "lines"),
    [
        (  # an action that takes no resource type is requested on `*`
            policy_of({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            policy_of({"Effect": "Allow", "Action": "a4b:CompleteRegistration", "Resource": "*"}),
            ["action:    a4b:CompleteRegistration", "resource:  *"],
        ),
        (  # an action AWS may add under the wildcard, named as such
            policy_of({"Effect": "Allow", "NotAction": "sqs:Zz*", "Resource": "*"}),
            policy_of({"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:q"}),
            ["(not in the IAM catalog: an action AWS may add)", "resource:  arn:aws:sqs:"],
        ),
    ],
)
def test_check_access_counterexamples_are_real_requests(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    existing: dict[str, Any],
    proposed: dict[str, Any],
    lines: list[str],
) -> None:
    code, out = check(tmp_path, capsys, existing, proposed)
    assert code == 1
    for line in lines:
        assert line in out


def test_check_access_possible_new_access_names_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    never = {"StringEquals": {"aws:username": "a"}, "StringLike": {"aws:username": "b*"}}
    existing = policy_of(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/x*"}
    )
    proposed = policy_of(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": never,
        }
    )
    code, out = check(tmp_path, capsys, existing, proposed, "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["new_access"] == "possible"
    assert "the resource pattern 'arn:aws:s3:::b/*' widened" in data["reason"]
