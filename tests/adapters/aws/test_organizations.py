"""`alpha org export`, `org show` and `scan --org aws` against Organizations and every member
account's IAM in moto's server mode (tests/org/sample_org.py: IAM authentication on, the
`locked` account's role may not read IAM), through the CLI with the endpoint in the
environment as a user would point boto3 at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.org import sample_org


@pytest.fixture(scope="module")
def moto_org(aws_env: None) -> Iterator[sample_org.MotoOrg]:
    from tests.conftest import _moto_server

    with _moto_server() as endpoint:
        built = sample_org.build_in_moto(endpoint)
        try:
            yield built
        finally:
            sample_org.moto_post(endpoint, "/moto-api/reset-auth", b"inf")
            sample_org.moto_post(endpoint, "/moto-api/reset")


@pytest.fixture
def as_alpha(moto_org: sample_org.MotoOrg, monkeypatch: pytest.MonkeyPatch) -> sample_org.MotoOrg:
    """The management account's `alpha` user, every service at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_org.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_org.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_org.secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("ALPHA_ORG", raising=False)
    monkeypatch.delenv("ALPHA_CONFIG", raising=False)
    return moto_org


def test_export_writes_the_folder_and_names_the_account_it_could_not_read(
    as_alpha: sample_org.MotoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = as_alpha.ids
    out = tmp_path / "org"
    code, stdout, err = run_cli(["org", "export", "--org", "aws", "--out", str(out)], capsys)
    assert code == 0, err
    locked = ids.accounts[sample_org.UNREADABLE]
    assert f"account {locked} not covered" in err
    assert f"arn:aws:iam::{locked}:role/OrganizationAccountAccessRole" in err
    assert "AccessDenied" in err
    assert "with 4 account(s); 1 not covered" in stdout
    written = sorted(p.stem for p in (out / "accounts").iterdir())
    assert written == sorted(v for k, v in ids.accounts.items() if k != sample_org.UNREADABLE)

    live = run_cli(["org", "show", "--org", "aws", "--format", "json"], capsys)
    offline = run_cli(["org", "show", "--org", str(out), "--format", "json"], capsys)
    assert live[0] == offline[0] == 0
    assert json.loads(live[1]) == json.loads(offline[1])
    assert len(json.loads(live[1])) == 5


def test_scan_org_aws_covers_every_readable_account(
    as_alpha: sample_org.MotoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = as_alpha.ids
    logs = tmp_path / "trail"
    logs.mkdir()
    argv = ["scan", "--org", "aws", "--usage", str(logs), "--store", str(tmp_path / "u.duckdb")]
    code, out, err = run_cli([*argv, "--ou", ids.units["Prod"], "--format", "json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert {a["account"] for a in report["accounts"]} == {
        ids.accounts["prod"],
        ids.accounts["payments"],
    }
    assert [f["account"] for f in report["not_covered"]] == [ids.accounts["locked"]]
    unused = {f["principal"] for f in report["unused_roles"]}
    assert f"arn:aws:iam::{ids.accounts['payments']}:role/payments-app" in unused
    payments = next(a for a in report["accounts"] if a["account"] == ids.accounts["payments"])
    assert payments["scp_levels"] == 4
