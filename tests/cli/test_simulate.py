from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli

ALLOW_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {
            "Sid": "NoSecrets",
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "secret"}},
        },
    ],
}


run = run_cli


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_allowed_names_the_statement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path, "p.json", ALLOW_READ)
    code, out, _ = run(
        [
            "simulate",
            "--policy",
            str(policy),
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::b/k",
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0] == "Allowed: s3:GetObject on arn:aws:s3:::b/k"
    assert "p.json Statement[0] (Sid Read)" in out


def test_repeated_context_keys_make_a_multivalued_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write(tmp_path, "p.json", ALLOW_READ)
    argv = [
        "simulate",
        "--policy",
        str(policy),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
    ]
    argv += ["--context", "aws:TagKeys=a", "--context", "AWS:TAGKEYS=secret", "--format", "json"]
    code, out, _ = run(argv, capsys)
    document = json.loads(out)
    assert code == 0
    assert document["decision"] == "ExplicitlyDenied"
    assert document["statements"][0]["sid"] == "NoSecrets"


def test_layers_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path, "p.json", ALLOW_READ)
    scp = write(
        tmp_path, "scp.json", {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}
    )
    argv = ["simulate", "--policy", str(policy), "--scp", str(scp), "--action", "s3:GetObject"]
    code, out, _ = run([*argv, "--resource", "arn:aws:s3:::b/k"], capsys)
    assert code == 0
    assert out.startswith("ImplicitlyDenied")
    assert "SCP level 0" in out


def test_cases_print_one_line_per_case_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        {"policies": [ALLOW_READ], "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
        {"policies": [ALLOW_READ], "action": "s3:PutObject", "resource": "arn:aws:s3:::b/k"},
        {
            "policies": [ALLOW_READ],
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
            "context": {"aws:TagKeys": ["x", "secret"]},
        },
        {
            "policies": [ALLOW_READ],
            "boundary": {"Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}},
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k",
        },
    ]
    cases = write(
        tmp_path, "cases.jsonl", "\n".join([json.dumps(lines[0]), "", *map(json.dumps, lines[1:])])
    )
    code, out, _ = run(["simulate", "--cases", str(cases)], capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["decision"] for r in results] == [
        "Allowed",
        "ImplicitlyDenied",
        "ExplicitlyDenied",
        "ImplicitlyDenied",
    ]
    assert results[0]["statements"][0]["policy"] == "policies[0]"
    assert results[3]["missing"]["layer"] == "boundary"


BAD_POLICY = {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}
GOOD = {"policies": [ALLOW_READ], "action": "s3:GetObject", "resource": "r"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "cases.jsonl: line 3: not JSON"),
        ("[1, 2]", "cases.jsonl: line 3: a case must be a JSON object"),
        (
            json.dumps({"policies": [ALLOW_READ], "resource": "r"}),
            "cases.jsonl: line 3: action: Field required",
        ),
        (
            json.dumps({**GOOD, "action": 5}),
            "cases.jsonl: line 3: action: Input should be a valid string",
        ),
        (
            json.dumps({**GOOD, "policies": [BAD_POLICY]}),
            "cases.jsonl: line 3: policies[0]: Statement[0].Effect: must be",
        ),
        (
            json.dumps({**GOOD, "scps": [ALLOW_READ, "nope"]}),
            "cases.jsonl: line 3: scps[1]: a policy must be a JSON object",
        ),
        (
            json.dumps({**GOOD, "context": {"k": {"x": 1}}}),
            "cases.jsonl: line 3: context.k: must be a string",
        ),
    ],
)
def test_bad_cases_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    cases = write(tmp_path, "cases.jsonl", f"{json.dumps(GOOD)}\n\n{line}\n")
    code, out, err = run(["simulate", "--cases", str(cases)], capsys)
    assert code == 2
    assert out == ""  # no partial batch
    assert err.startswith("alpha: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cases", "missing.jsonl"], "missing.jsonl: cannot read"),
        (
            ["--policy", "missing.json", "--action", "s3:GetObject", "--resource", "r"],
            "missing.json: cannot read",
        ),
        (
            ["--policy", "{p}", "--action", "a", "--resource", "r", "--context", "novalue"],
            "--context 'novalue'",
        ),
    ],
)
def test_bad_options_fail_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    policy = write(tmp_path, "p.json", ALLOW_READ)
    code, _, err = run(["simulate", *[a.replace("{p}", str(policy)) for a in argv]], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_invalid_policy_file_names_the_file_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write(tmp_path, "bad.json", BAD_POLICY)
    code, _, err = run(
        ["simulate", "--policy", str(policy), "--action", "a:b", "--resource", "r"], capsys
    )
    assert code == 2
    assert f"{policy}: Statement[0].Effect" in err


def test_missing_request_options_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["simulate", "--action", "s3:GetObject"], capsys)
    assert code == 2
    assert "--policy" in err


def test_rcps_from_files_are_levels_of_the_resources_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(__file__).resolve().parents[1] / "data" / "org"
    admin = write(
        tmp_path, "admin.json", {"Version": "2012-10-17", "Statement": [ALLOW_ALL_STATEMENT]}
    )
    options = [
        "--rcp",
        str(data / "RCPFullAWSAccess.json"),
        "--rcp",
        str(data / "DenyBucketDeletion.json"),
    ]
    principal = "arn:aws:iam::111122223333:role/app"
    code, out, _ = run(
        [
            *("simulate", "--policy", str(admin), *options, "--action", "s3:DeleteBucket"),
            *("--resource", "arn:aws:s3:::reports", "--principal", principal),
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0] == "ExplicitlyDenied: s3:DeleteBucket on arn:aws:s3:::reports"
    assert f"denied by rcp {data / 'DenyBucketDeletion.json'} Statement[0]" in out
    case = {
        "policies": [{"Version": "2012-10-17", "Statement": [ALLOW_ALL_STATEMENT]}],
        "rcps": [json.loads((data / "RCPFullAWSAccess.json").read_text())],
        "action": "ec2:RunInstances",  # not a service RCPs cover
        "resource": "*",
    }
    cases = write(tmp_path, "cases.jsonl", json.dumps(case))
    code, out, _ = run(["simulate", "--cases", str(cases)], capsys)
    assert json.loads(out)["decision"] == "Allowed"


ALLOW_ALL_STATEMENT = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    ],
)
def test_get_caller_identity_is_allowed_whatever_the_policies_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], statement: dict[str, Any]
) -> None:
    policy = write(tmp_path, "p.json", {"Version": "2012-10-17", "Statement": [statement]})
    arguments = ["--policy", str(policy), "--action", "sts:GetCallerIdentity", "--resource", "*"]
    code, out, _ = run(["simulate", *arguments], capsys)
    assert code == 0
    assert out.splitlines() == [
        "Allowed: sts:GetCallerIdentity on *",
        "  allowed whatever the policies say: the action needs no permission",
    ]


def test_a_short_arn_in_an_identity_policy_is_padded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1"}
    policy = write(tmp_path, "p.json", {"Version": "2012-10-17", "Statement": [short]})
    queue = "arn:aws:sqs:us-east-1:111122223333:q"
    arguments = ["--policy", str(policy), "--action", "sqs:SendMessage", "--resource", queue]
    code, out, _ = run(["simulate", *arguments], capsys)
    assert code == 0
    assert out.startswith(f"Allowed: sqs:SendMessage on {queue}")
