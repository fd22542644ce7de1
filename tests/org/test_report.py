"""The organisation's report, folded from each account's scan."""

from __future__ import annotations

from alpha.org import AccountReadFailure, OrgAccount, OrgUnit
from alpha.org.report import OrgReportBuilder
from alpha.scan import EscalationRisk, PrincipalScore, ScanReport, UnusedPrincipal
from alpha.scan.model import AdminEquivalent
from alpha.usage.ports import TimeWindow
from tests.org.small_report import score as principal_score

ROOT = (OrgUnit("r-ab12", "Root"),)


def _score(
    account: str, name: str, score: float, *flags: object, kind: str = "role"
) -> PrincipalScore:
    return principal_score(f"arn:aws:iam::{account}:{kind}/{name}", score, *flags)


def _account(account_id: str, name: str) -> OrgAccount:
    return OrgAccount(account_id, name, "ACTIVE", ROOT)


UNUSED = UnusedPrincipal(None, 0, "no call")
ESCALATES = EscalationRisk(())
ADMIN = AdminEquivalent("every action", ())


def _report(worst: int = 3):  # type: ignore[no-untyped-def]
    builder = OrgReportBuilder("o-example", worst=worst)
    builder.add(
        _account("111111111111", "small"),
        ScanReport(
            (
                _score("111111111111", "a", 5.0, UNUSED),
                _score("111111111111", "u", 1.0, UNUSED, kind="user"),
            ),
            TimeWindow(),
        ),
    )
    builder.add(
        _account("222222222222", "big"),
        ScanReport(
            (
                _score("222222222222", "b", 50.0, ADMIN, ESCALATES),
                _score("222222222222", "c", 4.0, ESCALATES),
                _score("222222222222", "d", 3.0),
            ),
            TimeWindow(),
        ),
    )
    builder.fail(AccountReadFailure("333333333333", "no role"))
    return builder.report()


def test_accounts_are_ranked_by_the_sum_of_their_principals_excess() -> None:
    report = _report()
    assert [(s.account.name, s.excess, s.principals) for s in report.accounts] == [
        ("big", 57.0, 3),
        ("small", 6.0, 2),
    ]
    assert report.accounts[0].count("admin") == 1
    assert report.accounts[0].count("escalation") == 2


def test_the_worst_principals_across_the_organisation_are_kept_top_n() -> None:
    report = _report(worst=3)
    assert [(f.account, f.score.score) for f in report.worst] == [
        ("222222222222", 50.0),
        ("111111111111", 5.0),
        ("222222222222", 4.0),
    ]


def test_unused_roles_escalation_and_accounts_not_covered() -> None:
    report = _report()
    assert [f.score.principal.rsplit("/", 1)[1] for f in report.unused_roles] == ["a"]
    assert [f.score.principal.rsplit("/", 1)[1] for f in report.escalation] == ["b", "c"]
    assert [(f.account_id, f.reason) for f in report.not_covered] == [("333333333333", "no role")]
    assert report.flagged(frozenset({"admin"})) == 1
    assert report.flagged(frozenset({"unused", "escalation"})) == 4
    document = report.to_dict()
    assert document["not_covered"] == [{"account": "333333333333", "reason": "no role"}]
    assert document["worst_principals"][0]["account"] == "222222222222"
    assert document["accounts"][0]["scp_levels"] == 0
