"""The organization folder: what it reads, what it writes back, and bad files refused in one
line naming the file and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from alpha.adapters.local.org_folder import OrgFolder, organization_document, write_org_folder
from alpha.org import AccountReadFailure, OrgError
from tests.org import sample_folder
from tests.org.sample_folder import GENERATED, MANAGEMENT, NO_FILE, PROD, ROOT


def _read(tmp_path: Path, document: dict[str, Any]) -> OrgFolder:
    folder = sample_folder.write_sample_folder(tmp_path / "org", document)
    return OrgFolder(folder)


def _broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(sample_folder.organization_json())
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d["Accounts"][1].pop("ParentId"), "Accounts[1].ParentId", "Field required"),
        (lambda d: d.pop("Units"), "Units", "Field required"),
        (
            lambda d: d["Accounts"][1].update(ParentId="ou-ab12-nowhere1"),
            "Accounts[1].ParentId",
            "'ou-ab12-nowhere1' is not the Id of any of Units",
        ),
        (
            lambda d: d["Units"][1].update(ParentId="ou-ab12-nowhere1"),
            "Units[1].ParentId",
            "is not the Id of any of Units",
        ),
        (
            lambda d: d["Policies"][0].update(Content={"Statement": "allow all"}),
            "Policies[0].Content",
            "",
        ),
        (
            lambda d: d["Policies"][0].update(Content="{not json"),
            "Policies[0].Content",
            "not JSON",
        ),
        (
            lambda d: d["Policies"][0]["Targets"].append("ou-ab12-gone0001"),
            "Policies[0].Targets[6]",
            "neither a unit nor an account",
        ),
        (
            lambda d: d["Policies"][0].update(Type="TAG_POLICY"),
            "Policies[0].Type",
            "should match pattern",
        ),
        (lambda d: d["Accounts"][0].update(Id="1234"), "Accounts[0].Id", "should match"),
        (lambda d: d["Units"][0].update(ParentId=PROD), "Units", "exactly one unit without"),
    ],
)
def test_a_bad_organization_file_is_one_line_naming_file_and_field(
    tmp_path: Path, change: Any, field: str, says: str
) -> None:
    source = _read(tmp_path, _broken(change))
    with pytest.raises(OrgError) as caught:
        source.organization()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "org" / "organization.json"))
    assert field in message
    assert says in message


def test_not_json_names_the_line(tmp_path: Path) -> None:
    folder = sample_folder.write_sample_folder(tmp_path / "org")
    (folder / "organization.json").write_text('{"Id": "o-x",\n  oops}')
    with pytest.raises(OrgError, match=r"organization.json: .*line 2"):
        OrgFolder(folder).organization()


def test_a_missing_organization_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OrgError, match=r"organization\.json: cannot read"):
        OrgFolder(tmp_path).organization()


def test_an_account_file_that_is_not_an_account_is_that_accounts_failure(tmp_path: Path) -> None:
    source = _read(tmp_path, sample_folder.organization_json())
    (tmp_path / "org" / "accounts" / f"{GENERATED}.json").write_text('{"RoleDetailList": 3}')
    organization = source.organization()
    account = organization.account(GENERATED)
    assert account is not None
    failure = source.open_account(account)
    assert isinstance(failure, AccountReadFailure)
    assert f"{GENERATED}.json" in failure.reason
    management = organization.account(MANAGEMENT)
    assert management is not None
    assert not isinstance(source.open_account(management), AccountReadFailure)


def test_an_account_without_its_file_says_how_to_make_it(tmp_path: Path) -> None:
    source = _read(tmp_path, sample_folder.organization_json())
    account = source.organization().account(NO_FILE)
    assert account is not None
    failure = source.open_account(account)
    assert isinstance(failure, AccountReadFailure)
    assert "get-account-authorization-details" in failure.reason


def test_no_scp_listed_means_scps_not_enabled(tmp_path: Path) -> None:
    source = _read(tmp_path, _broken(lambda d: d.update(Policies=[])))
    assert all(a.guardrails.empty for a in source.organization().accounts)


def test_the_written_folder_reads_back_the_same_organization(tmp_path: Path) -> None:
    first = _read(tmp_path, sample_folder.organization_json())
    organization = first.organization()
    documents: list[tuple[str, object]] = [(GENERATED, {"RoleDetailList": []})]
    written = write_org_folder(tmp_path / "copy", organization, documents)
    assert written == [GENERATED]
    assert OrgFolder(tmp_path / "copy").organization() == organization
    document = json.loads((tmp_path / "copy" / "organization.json").read_text())
    assert document == organization_document(organization)
    assert [u["Id"] for u in document["Units"]] == [ROOT, PROD]
