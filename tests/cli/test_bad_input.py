"""Hostile input to the commands that read policies, cases, account files and alpha.toml
(issue 11): each case is one line naming the file (or flag) and the place, and exit code 2,
never a traceback. The CLI runs in-process, as the installed script does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alpha.demo.sample import ROLLOUT_AT, write_sample
from tests.cli.workflow_helpers import alpha

DEEP = "[" * 100_000  # past the decoder's stack: a RecursionError before
BIG = "9" * 5_000  # past Python's 4,300-digit limit for int(): a ValueError before
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
ROLE = {
    "RoleName": "app",
    "Arn": "arn:aws:iam::111122223333:role/app",
    "AssumeRolePolicyDocument": POLICY,
}
CASE = {"policies": [POLICY], "action": "s3:GetObject", "resource": "r"}


def policy_text(value: str) -> str:
    """The policy with `"Id": <value>` on its second line."""
    return json.dumps(POLICY)[:-1] + f',\n"Id": {value}}}'


def account_text(value: str, key: str = "Policies") -> str:
    return f'{{"RoleDetailList": [],\n"{key}": {value}}}'


def role_text(**fields: object) -> str:
    return json.dumps({"RoleDetailList": [{**ROLE, **fields}]})


def toml_text(line: str, table: str = "rollout") -> str:
    return f"[{table}]\n{line}\n"


SIMULATE = ["simulate", "--policy", "p.json", "--action", "s3:GetObject", "--resource", "*"]
CHECK = ["check-access", "--existing", "p.json", "--proposed", "p.json"]
SHOW = ["account", "show", "a.json"]
CASES = ["simulate", "--cases", "c.jsonl"]
GUARDRAILS = ["lint", "--guardrails", "--config", "g.toml", "ok.json"]
WORKFLOW = ["proposals", "list"]

# (files to write, command line, what the error line says)
BAD: dict[str, tuple[dict[str, str], list[str], str]] = {
    "deep policy / simulate": (
        {"p.json": policy_text(DEEP)},
        SIMULATE,
        "p.json: line 2 column 506: not JSON this reader can take: nested more than 500",
    ),
    "deep policy / check-access": (
        {"p.json": policy_text(DEEP)},
        CHECK,
        "p.json: line 2 column 506: not JSON",
    ),
    "deep policy / diff": ({"p.json": policy_text(DEEP)}, ["diff", "p.json", "p.json"], "line 2"),
    "deep account": ({"a.json": account_text(DEEP)}, SHOW, "a.json: line 2 column 512: not JSON"),
    "deep document in an account": (
        {"a.json": role_text(AssumeRolePolicyDocument=DEEP[:2000])},
        SHOW,
        "a.json: RoleDetailList[0].AssumeRolePolicyDocument: line 1 column 501: not JSON",
    ),
    "deep case": (
        {"c.jsonl": json.dumps(CASE) + "\n" + DEEP + "\n"},
        CASES,
        "c.jsonl: line 2: not JSON this reader can take: nested more than 500 levels deep "
        "(column 501)",
    ),
    "deep alpha.toml": (
        {"alpha.toml": toml_text(f"logs = {DEEP}")},
        WORKFLOW,
        "alpha.toml: line 2: not valid TOML: nested more than 500 levels deep",
    ),
    "deep guardrails": (
        {"g.toml": toml_text(f"blocked_actions = {DEEP}", "guardrails"), "ok.json": "{}"},
        GUARDRAILS,
        "g.toml: line 2: not valid TOML: nested",
    ),
    "big integer policy": (
        {"p.json": policy_text(BIG)},
        SIMULATE,
        "p.json: line 2 column 7: a number of more than 4,300 digits",
    ),
    "big integer account": (
        {"a.json": account_text(BIG)},
        SHOW,
        "a.json: line 2 column 13: a number of more than 4,300 digits",
    ),
    "big integer case": (
        {"c.jsonl": json.dumps({**CASE, "context": {"n": 1}}).replace("1}", f"{BIG}}}")},
        CASES,
        "c.jsonl: line 1: a number of more than 4,300 digits (column",
    ),
    "big integer alpha.toml": (
        {"alpha.toml": toml_text(f"max_new_denials = {BIG}")},
        WORKFLOW,
        "alpha.toml: line 2: not valid TOML: a number of more than 4,300 digits",
    ),
    "big integer guardrails": (
        {"g.toml": toml_text(f"max_policy_size = {BIG}", "guardrails"), "ok.json": "{}"},
        GUARDRAILS,
        "g.toml: line 2: not valid TOML: a number of more than 4,300 digits",
    ),
    "bake past the calendar": (
        {"alpha.toml": toml_text('bake = "99999999999w"')},
        WORKFLOW,
        "alpha.toml: line 2: rollout.bake: '99999999999w': a duration must be at most a century",
    ),
    "bake in seconds past the calendar": (
        {"alpha.toml": toml_text("bake = 86400000000000")},
        WORKFLOW,
        "alpha.toml: line 2: rollout.bake: Input should be a valid timedelta",
    ),
    "negative bake in seconds": (
        {"alpha.toml": toml_text("bake = -5")},
        WORKFLOW,
        "alpha.toml: line 2: rollout.bake: a duration must be longer than zero",
    ),
    "expiry past the calendar": (
        {"alpha.toml": toml_text('expiry = "9999999999999999999999d"', "approvals")},
        WORKFLOW,
        "alpha.toml: line 2: approvals.expiry: '9999999999999999999999d': a duration must",
    ),
    "--now at the end of the calendar": (
        {},
        [*WORKFLOW, "--now", "9999-12-31T23:59:59Z"],
        "--now: '9999-12-31T23:59:59Z' is outside the years 1970 to 8999",
    ),
    "--now before year 1 in UTC": (
        {},
        [*WORKFLOW, "--now", "0001-01-01T00:00:00+05:00"],
        "--now: '0001-01-01T00:00:00+05:00' is outside the years 1970 to 8999",
    ),
    "account date before year 1 in UTC": (
        {"a.json": role_text(RoleLastUsed={"LastUsedDate": "0001-01-01T00:00:00+01:00"})},
        SHOW,
        "a.json: RoleDetailList[0].RoleLastUsed.LastUsedDate: '0001-01-01T00:00:00+01:00' is "
        "outside the years 1 to 9999 in UTC",
    ),
    "line break in a case's context key": (
        {"c.jsonl": json.dumps({**CASE, "context": {"a\nb": [{}]}})},
        CASES,
        "c.jsonl: line 1: context.a\\nb[0]: must be a string or a list of strings",
    ),
    "line break in a principal": (
        {"a.json": role_text()},
        [*SHOW, "--principal", "arn:aws:iam::111122223333:role/x\ny"],
        "a.json: no role or user arn:aws:iam::111122223333:role/x\\ny",
    ),
    "NUL in a policy path": (
        {},
        ["simulate", "--policy", "p\0.json", "--action", "a:b", "--resource", "*"],
        "p\\x00.json: embedded null byte",
    ),
    "NUL in a check-access path": (
        {"p.json": json.dumps(POLICY)},
        ["check-access", "--existing", "p.json", "--proposed", "\0"],
        "\\x00: embedded null byte",
    ),
    "NUL in a cases path": ({}, ["simulate", "--cases", "c\0"], "c\\x00: embedded null byte"),
    "NUL in a lint path": ({}, ["lint", "p\0.json"], "p\\x00.json: embedded null byte"),
    "NUL in an account path": ({}, ["account", "show", "\0"], "\\x00: embedded null byte"),
    "NUL in a guardrails path": (
        {"ok.json": "{}"},
        ["lint", "--guardrails", "--config", "g\0.toml", "ok.json"],
        "g\\x00.toml: embedded null byte",
    ),
    "NUL in an output path": (
        {"p.json": json.dumps(POLICY)},
        ["normalise", "p.json", "-o", "o\0.json"],
        "o\\x00.json: embedded null byte",
    ),
    "NUL in a usage source": ({}, ["usage", "a\0b"], "a\\x00b: embedded null byte"),
    "NUL in a scan account": (
        {},
        ["scan", "--account", "a\0.json", "--usage", "."],
        "a\\x00.json: embedded null byte",
    ),
    "NUL in a store path": ({}, ["status", "--store", "s\0.db"], "s\\x00.db: embedded null byte"),
    "NUL in a settings path": ({}, ["status", "--config", "c\0"], "c\\x00: embedded null byte"),
    "NUL in the demo's folder": ({}, ["demo", "--dir", "d\0"], "d\\x00: embedded null byte"),
    "output folder that does not exist": (
        {"p.json": json.dumps(POLICY)},
        ["normalise", "p.json", "-o", "missing/o.json"],
        "missing/o.json: cannot write: No such file or directory",
    ),
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("ALPHA_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.mark.parametrize(("files", "argv", "message"), list(BAD.values()), ids=list(BAD))
def test_bad_input_is_one_line_and_exit_2(
    folder: Path, files: dict[str, str], argv: list[str], message: str
) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    ran = alpha(*argv)
    assert (ran.code, ran.out) == (2, ""), ran.err
    assert ran.err.startswith("alpha: error: ")
    assert message in ran.err
    assert ran.err.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (account_text("[]", key="RoleDetailList"), "line 2 column 1: duplicate key"),
        (account_text('[{"AttachmentCount": NaN}]'), "line 2 column 34: not JSON: NaN is not"),
        (role_text(Path="/").replace('"Path"', '"RoleName"'), "line 1 column 220: duplicate"),
    ],
)
def test_account_files_refuse_what_policy_files_refuse(
    folder: Path, text: str, message: str
) -> None:
    (folder / "a.json").write_text(text, encoding="utf-8")
    ran = alpha(*SHOW)
    assert ran.code == 2
    assert ran.err.startswith(f"alpha: error: a.json: {message}"), ran.err


def test_export_to_a_folder_that_does_not_exist(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_sample(folder)
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")  # the sample's logs are in the past
    now = ("--now", ROLLOUT_AT.isoformat())
    proposed = alpha(
        "propose", "--principal", "arn:aws:iam::111122223333:role/orders-api",
        "--usage", "cloudtrail", "--account", paths.account.name, "--by", "dana", *now,
    )  # fmt: skip
    assert proposed.code == 0, proposed.err  # the store now holds the account's copy
    ran = alpha("proposals", "export-account", "--out", "missing/account.json", *now)
    assert (ran.code, ran.out) == (2, "")
    assert (
        ran.err == "alpha: error: missing/account.json: cannot write: No such file or directory\n"
    )


def test_lint_names_a_file_in_one_line(folder: Path) -> None:
    (folder / "a\nb.json").write_text("{}", encoding="utf-8")
    ran = alpha("lint", "a\nb.json")
    assert ran.code == 1
    assert ran.out.splitlines() == [
        "a\\nb.json:Statement: error MISSING_ELEMENT: missing",
        "1 errors, 0 warnings, 0 notes in 1 file",
    ]
