"""The saved organisation report: written whole, read back, never replaced by a report that
covers no account, and a file that is not one named in the error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alpha.app.org_report_file import (
    OrgReportFileError,
    OrgReportNotSavedError,
    load_org_report,
    save_org_report,
)
from alpha.org import AccountReadFailure
from alpha.org.report import OrgReportBuilder
from tests.org.small_report import BIG, small_report

MADE = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def test_a_saved_report_reads_back_with_when_it_was_made(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "org-report.json"
    report = small_report()
    save_org_report(path, report, MADE)
    saved = load_org_report(path)
    assert saved is not None
    assert saved.made_at == MADE
    assert saved.report == report.to_dict()
    assert saved.report["accounts"][0]["account"] == BIG
    assert [p.name for p in path.parent.iterdir()] == ["org-report.json"]  # no temporary left


def test_none_saved_yet_is_none(tmp_path: Path) -> None:
    assert load_org_report(tmp_path / "org-report.json") is None


def test_a_report_that_covers_no_account_keeps_the_one_saved_before(tmp_path: Path) -> None:
    path = tmp_path / "org-report.json"
    save_org_report(path, small_report(), MADE)
    before = path.read_bytes()
    empty = OrgReportBuilder("o-example0001")
    empty.fail(AccountReadFailure("111111111111", "AccessDenied"))
    with pytest.raises(OrgReportNotSavedError, match="covers no account"):
        save_org_report(path, empty.report(), datetime.now(UTC))
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not a saved organisation report"),
        ('{"format": 99}', "format 1"),
        ('{"format": 1, "made_at": "2026-12-07T17:00:00+00:00", "report": {}}', "missing one"),
        (
            '{"format": 1, "made_at": "yesterday", "report": {"accounts": [], '
            '"worst_principals": [], "unused_roles": [], "escalation_paths": [], '
            '"not_covered": []}}',
            "made_at",
        ),
    ],
)
def test_a_file_that_is_not_a_saved_report_is_named(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "org-report.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OrgReportFileError, match=says) as raised:
        load_org_report(path)
    assert str(path) in str(raised.value)
