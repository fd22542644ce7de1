"""`scan --org`, `generate --org`, `propose --org` and `alpha org show` end to end on an
organisation folder built from the repository's sample accounts and CloudTrail sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.org import sample_folder
from tests.org.sample_folder import GENERATED, GENERATED_LOGS, MANAGEMENT, NO_FILE, PROD, SUSPENDED
from tests.sample_accounts import GENERATED_ACCOUNT

run = run_cli


@pytest.fixture
def org(tmp_path: Path) -> Path:
    return sample_folder.write_sample_folder(tmp_path / "org")


def _scan(org: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "scan",
        "--org",
        str(org),
        "--usage",
        str(GENERATED_LOGS),
        "--store",
        str(tmp_path / "u.duckdb"),
        *extra,
    ]


def test_scan_org_json_ranks_accounts_and_lists_those_not_covered(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(_scan(org, tmp_path, "--format", "json"), capsys)
    assert code == 0, err
    report = json.loads(out)
    assert [a["account"] for a in report["accounts"]] == [GENERATED, MANAGEMENT]
    assert report["accounts"][0]["path"] == ["Root", "Prod"]
    assert report["accounts"][0]["scp_levels"] == 3
    assert {f["account"] for f in report["not_covered"]} == {NO_FILE, SUSPENDED}
    assert f"account {NO_FILE} not covered: no file" in err
    assert f"account {SUSPENDED} not covered: account closed is suspended" in err
    worst = report["worst_principals"]
    assert [p["score"] for p in worst] == sorted((p["score"] for p in worst), reverse=True)
    assert {p["account"] for p in report["escalation_paths"]} == {GENERATED}
    assert {p["account"] for p in report["unused_roles"]} == {MANAGEMENT}

    # The account's excess is what a scan of that account alone gives.
    single = [
        "scan",
        "--account",
        str(GENERATED_ACCOUNT),
        "--usage",
        str(GENERATED_LOGS),
        "--store",
        str(tmp_path / "u.duckdb"),
        "--format",
        "json",
    ]
    code, out, _ = run(single, capsys)
    alone = json.loads(out)
    assert report["accounts"][0]["excess"] == pytest.approx(
        sum(s["score"] for s in alone), abs=0.05
    )
    assert report["accounts"][0]["principals"] == len(alone)


def test_scan_org_table_and_fail_on(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run(_scan(org, tmp_path, "--fail-on", "admin"), capsys)
    assert code == 1
    assert "Accounts by excess" in out
    assert "Worst principals across the organisation" in out
    assert f"not covered: {NO_FILE}: no file" in out
    assert "2 accounts scanned, 2 not covered" in out
    assert "flagged admin (--fail-on)" in err


def test_filters_choose_the_accounts(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(_scan(org, tmp_path, "--ou", PROD, "--format", "json"), capsys)
    assert code == 0
    report = json.loads(out)
    assert [a["account"] for a in report["accounts"]] == [GENERATED]
    code, out, _ = run(_scan(org, tmp_path, "--org-tag", "env=prod", "--format", "json"), capsys)
    assert [a["account"] for a in json.loads(out)["accounts"]] == [GENERATED]
    code, out, _ = run(
        _scan(org, tmp_path, "--org-account", MANAGEMENT, "--format", "json"), capsys
    )
    assert [a["account"] for a in json.loads(out)["accounts"]] == [MANAGEMENT]
    assert json.loads(out)["not_covered"] == []


def test_alpha_org_from_the_environment(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_ORG", str(org))
    monkeypatch.chdir(tmp_path)
    argv = ["scan", "--usage", str(GENERATED_LOGS), "--store", "u.duckdb", "--format", "json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert len(json.loads(out)["accounts"]) == 2


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--account", str(GENERATED_ACCOUNT)], "give either --account or --org"),
        (["--org", "nowhere"], "nowhere: no such organization folder"),
    ],
)
def test_bad_org_arguments_are_one_line(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], says: str
) -> None:
    argv = _scan(org, tmp_path, *extra)
    if extra[0] == "--org":
        argv = argv[:1] + argv[3:]  # that --org instead of the sample's
    code, _, err = run(argv, capsys)
    assert code == 2
    assert says in err


def test_neither_account_nor_org_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALPHA_ORG", raising=False)
    code, _, err = run(["scan", "--usage", str(GENERATED_LOGS)], capsys)
    assert code == 2
    assert "give --account FILE|aws or --org DIR|aws" in err


def test_a_broken_organization_file_is_one_line_naming_the_field(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = sample_folder.organization_json()
    del document["Accounts"][1]["ParentId"]
    (org / "organization.json").write_text(json.dumps(document))
    code, _, err = run(_scan(org, tmp_path), capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "organization.json: Accounts[1].ParentId: Field required" in err


def test_org_show_lists_accounts_with_path_status_and_levels(
    org: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # no account id folded over two lines
    code, out, _ = run(["org", "show", "--org", str(org), "--format", "json"], capsys)
    assert code == 0
    shown = {a["account"]: a for a in json.loads(out)}
    assert shown[SUSPENDED]["status"] == "SUSPENDED"
    assert [u["name"] for u in shown[GENERATED]["path"]] == ["Root", "Prod"]
    assert shown[GENERATED]["tags"] == {"env": "prod"}
    assert (shown[GENERATED]["scp_levels"], shown[GENERATED]["rcp_levels"]) == (3, 0)
    code, out, _ = run(["org", "show", "--org", str(org), "--ou", PROD], capsys)
    assert "Organization o-sample0001" in out
    assert f"│ {GENERATED}" in out
    assert f"│ {MANAGEMENT}" not in out  # the row; the title names the management account


@pytest.mark.slow
def test_propose_and_generate_org_store_per_principal_and_list_failures(
    org: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "alpha.db")
    usage = ["--usage", str(GENERATED_LOGS)]
    code, out, err = run(
        [
            "propose",
            "--org",
            str(org),
            "--all",
            *usage,
            "--store",
            store,
            "--by",
            "sam",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code in (0, 1), err  # 1: a proposal has blocking guardrail violations
    result = json.loads(out)
    by_account = {a["account"]: a for a in result["accounts"]}
    assert set(by_account) == {GENERATED, MANAGEMENT}
    proposals = by_account[GENERATED]["proposals"]
    assert len(proposals) == 12
    assert all(f":{GENERATED}:role/" in p["principal"] for p in proposals)
    assert by_account[GENERATED]["account_copy"] == {
        "name": f"account-{GENERATED}",
        "imported": True,
    }
    assert {f["account"] for f in result["not_covered"]} == {NO_FILE, SUSPENDED}
    assert f"account {NO_FILE} not covered" in err

    code, out, _ = run(["proposals", "list", "--store", store, "--format", "json"], capsys)
    assert len(json.loads(out)) == 12

    code, out, err = run(
        [
            "generate",
            "--org",
            str(org),
            "--all",
            *usage,
            "--store",
            str(tmp_path / "g.duckdb"),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code in (0, 1), err
    assert len(json.loads(out)) == 12
    assert f"account {NO_FILE} not covered" in err


def test_an_scp_at_the_ou_cuts_what_the_organisation_scan_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FullAWSAccess at Prod replaced by an SCP that allows S3 only: the account's grants
    outside S3 are no longer access, so its excess falls and its principals say why."""
    document = sample_folder.organization_json()
    (full,) = document["Policies"]
    full["Targets"] = [t for t in full["Targets"] if t != PROD]
    document["Policies"].append(
        {
            "Id": "p-s3only0001",
            "Name": "S3Only",
            "Type": "SERVICE_CONTROL_POLICY",
            "Content": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
            "Targets": [PROD],
        }
    )
    open_org = sample_folder.write_sample_folder(tmp_path / "open")
    limited = sample_folder.write_sample_folder(tmp_path / "limited", document)

    def generated_account(folder: Path, store: str) -> dict[str, object]:
        code, out, err = run(_scan(folder, tmp_path / store, "--format", "json"), capsys)
        assert code == 0, err
        report = json.loads(out)
        return next(a for a in report["accounts"] if a["account"] == GENERATED)

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = generated_account(open_org, "a")
    after = generated_account(limited, "b")
    assert float(str(after["excess"])) < float(str(before["excess"]))
