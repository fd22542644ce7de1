"""One role in three accounts, as a user runs it on account files: `alpha propose --role app
--account a.json --account b.json --account c.json` makes one proposal from the union of the
three copies' calls; `alpha rollout` puts the canary on the first account, then the other two;
a breach in the second wave's first account rolls all three back to exactly their files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.working_copy_iam import normalised_account, state_in_document
from tests.cli.workflow_helpers import Ran, alpha
from tests.fakes.cloudtrail_logs import delivery_folder, record, write_log
from tests.rollout.factories import account

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
ACCOUNTS = ("111111111111", "222222222222", "333333333333")


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/app"


def calls(account_id: str, name: str, start: datetime, hours: int, **more: Any) -> list[Any]:
    return [
        record(
            name,
            account=account_id,
            time=(start + timedelta(minutes=20 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **more,
        )
        for i in range(hours * 3)
    ]


def write_usage(root: Path, account_id: str, name: str, start: datetime, hours: int) -> None:
    folder = delivery_folder(root, start.strftime("%Y-%m-%d"), account=account_id)
    write_log(folder / f"{name}.json", calls(account_id, name, start, hours))


def fleet_setting(folder: Path, monkeypatch: pytest.MonkeyPatch, accounts: Sequence[str]) -> None:
    """The working folder: usage the day before T0, bake logs from T0 on (GetObject in every
    account), one-hour bakes, and a canary whose first wave is the first account alone (0.3
    of three or four accounts)."""
    monkeypatch.chdir(folder)
    for name in ("ALPHA_STORE", "ALPHA_CONFIG", "ALPHA_USER", "ALPHA_IAM", "ALPHA_ORG_ROLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALPHA_STORE_REPLAY", "true")
    monkeypatch.setenv("ALPHA_LOGS", str(folder / "bake"))
    monkeypatch.setenv("ALPHA_BAKE", "1h")
    (folder / "alpha.toml").write_text("[rollout]\ncanary_fraction = 0.3\n", encoding="utf-8")
    for account_id in accounts:
        write_usage(folder / "usage", account_id, "GetObject", T0 - timedelta(days=1), 12)
        write_usage(folder / "bake", account_id, "GetObject", T0, 24)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fleet_setting(tmp_path, monkeypatch, ACCOUNTS)
    for account_id in ACCOUNTS:
        (tmp_path / f"{account_id}.json").write_text(json.dumps(account(account_id)))
    # Only the third account's copy writes: the proposal must keep it (the union of calls).
    write_usage(tmp_path / "usage", ACCOUNTS[2], "PutObject", T0 - timedelta(days=1), 2)
    return tmp_path


def propose(*accounts: str, extra: tuple[str, ...] = ()) -> Ran:
    files = [a for account_id in accounts for a in ("--account", f"{account_id}.json")]
    return alpha(
        "propose", "--role", "app", *files, *extra, "--usage", "usage", "--by", "dana",
        "--now", at(-2), "--format", "json",
    )  # fmt: skip


def role_in_copy(account_id: str, out: Path) -> dict[str, Any]:
    ran = alpha("proposals", "export-account", "--account-id", account_id, "--out", str(out))
    assert ran.code == 0, ran.err
    document = normalised_account(json.loads(out.read_text()))
    return state_in_document(document, arn(account_id), str(out))


def test_one_proposal_rolled_out_across_accounts_and_back_on_a_breach(world: Path) -> None:
    originals = {a: state_in_document(normalised_account(account(a)), arn(a), a) for a in ACCOUNTS}
    proposed = propose(*ACCOUNTS)
    assert proposed.code == 0, proposed.err
    made = proposed.json()
    assert made["targets"] == [arn(a) for a in ACCOUNTS]
    [proposal] = made["proposals"]
    assert proposal["principal"] == arn(ACCOUNTS[0])
    shown = alpha("proposals", "show", proposal["id"], "--format", "json").json()
    allowed = {
        action
        for statement in shown["proposal"]["proposed_policy"]["Statement"]
        for action in statement["Action"]
    }
    assert {"s3:GetObject", "s3:PutObject"} <= allowed  # every account's calls

    assert alpha("approve", proposal["id"], "--by", "sam", "--now", at(-1)).code == 0
    # The second account's copy is refused a call half an hour into the canary.
    breach = delivery_folder(world / "bake", "2024-03-10", account=ACCOUNTS[1])
    write_log(
        breach / "denied.json",
        [record("DeleteObject", account=ACCOUNTS[1], time=at(0.5), error="AccessDenied")],
    )
    ran = alpha("rollout", proposal["id"], "--now", at(0), "--format", "json")
    assert ran.code == 1, ran.err
    [result] = ran.json()
    assert result["state"] == "rolled_back", result
    assert "IAMErrorRate breach" in result["detail"]
    for account_id in ACCOUNTS:
        assert role_in_copy(account_id, world / "out.json") == originals[account_id]

    status = alpha("status", "--format", "json").json()
    [found] = status["proposals"]
    assert [(t["account"], t["state"]) for t in found["targets"]] == [
        (a, "rolled back") for a in ACCOUNTS
    ]
    text = alpha("status").out
    assert f"{ACCOUNTS[1]} {arn(ACCOUNTS[1])}: rolled back" in text
    audit = [e for e in shown_audit(proposal["id"]) if e["action"] == "account.changed"]
    assert [e["reason"].split(" (")[0] for e in audit] == [
        f"canary wave 1 applied in account {ACCOUNTS[0]}",
        f"canary wave 2 applied in account {ACCOUNTS[1]}",
        f"canary wave 2 applied in account {ACCOUNTS[2]}",
        f"rolled back in account {ACCOUNTS[2]}",
        f"rolled back in account {ACCOUNTS[1]}",
        f"rolled back in account {ACCOUNTS[0]}",
    ]


def shown_audit(proposal_id: str) -> list[dict[str, Any]]:
    audit: list[dict[str, Any]] = alpha(
        "proposals", "show", proposal_id, "--format", "json"
    ).json()["audit"]
    return audit


def test_copies_whose_policies_differ_are_refused_by_account(world: Path) -> None:
    changed = account(ACCOUNTS[2])
    changed["RoleDetailList"][0]["RolePolicyList"][0]["PolicyDocument"] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    (world / f"{ACCOUNTS[2]}.json").write_text(json.dumps(changed))
    ran = propose(*ACCOUNTS)
    assert ran.code == 2
    assert f"in {ACCOUNTS[2]} (inline policy 'old-inline' differs)" in ran.err
    assert ACCOUNTS[1] not in ran.err
    assert alpha("proposals", "list", "--format", "json").json() == []


def test_an_organisation_folder_gives_the_accounts_holding_the_role(world: Path) -> None:
    folder = world / "org"
    (folder / "accounts").mkdir(parents=True)
    lacking = account("444444444444")
    lacking["RoleDetailList"] = lacking["RoleDetailList"][1:]  # no `app` there
    (folder / "accounts" / "444444444444.json").write_text(json.dumps(lacking))
    for account_id in ACCOUNTS:
        (folder / "accounts" / f"{account_id}.json").write_text(json.dumps(account(account_id)))
    listed = ["444444444444", *ACCOUNTS, "555555555555"]  # the last was not read
    organization = {
        "Id": "o-example",
        "ManagementAccountId": ACCOUNTS[0],
        "Units": [{"Id": "r-ab12", "Name": "Root"}],
        "Accounts": [
            {"Id": a, "Name": a, "Status": "ACTIVE", "ParentId": "r-ab12"} for a in listed
        ],
    }
    (folder / "organization.json").write_text(json.dumps(organization))
    ran = alpha(
        "propose", "--role", "app", "--org", "org", "--usage", "usage", "--by", "dana",
        "--now", at(-2), "--format", "json",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    made = ran.json()
    assert made["targets"] == [arn(a) for a in ACCOUNTS]
    assert made["skipped"] == [
        "444444444444: no role app",
        "555555555555: not read (no file org/accounts/555555555555.json: write it with "
        "`aws iam get-account-authorization-details` in account 555555555555 "
        "(or `alpha org export`))",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--account", "a.json"), "two --account FILE or more"),
        (("--account", "a.json", "--principal", "arn:aws:iam::1:role/x"), "leave out --principal"),
        ((), "give --org DIR|aws or two --account FILE or more"),
        (("--account", "a.json", "--account", "b.json", "--org", "org"), "not both"),
        (("--account", "a.json", "--account", "b.json", "--ou", "ou-ab12-abcdefgh"), "not both"),
        (("--account", "aws", "--account", "b.json"), "give --org aws"),
    ],
)
def test_bad_fleet_requests_say_what_to_give(
    world: Path, argv: tuple[str, ...], message: str
) -> None:
    ran = alpha("propose", "--role", "app", *argv, "--usage", "usage", "--by", "dana")
    assert ran.code == 2
    assert message in ran.err


def test_a_broken_organisation_folder_is_one_line_naming_the_field(world: Path) -> None:
    """The fleet reads the folder with the organisation reader: its errors name the field."""
    folder = world / "broken-org"
    (folder / "accounts").mkdir(parents=True)
    index = {"Id": "o-example", "ManagementAccountId": "111111111111", "Accounts": []}
    (folder / "organization.json").write_text(json.dumps(index))
    ran = alpha("propose", "--role", "app", "--org", str(folder), "--usage", "usage")
    assert ran.code == 2
    assert "organization.json: Units" in ran.err
    assert "Traceback" not in ran.err
