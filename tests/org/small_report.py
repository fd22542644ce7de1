"""A small organisation report made by the real builder, with names an attacker could choose
(account and OU names are free text in Organizations): for the saved report and the console."""

from __future__ import annotations

from alpha.org import AccountReadFailure, OrgAccount, OrgUnit
from alpha.org.report import OrgReportBuilder, OrgScanReport
from alpha.scan import EscalationRisk, PrincipalScore, ScanReport, UnusedPrincipal
from alpha.scan.model import EscalationMethodHeld
from alpha.usage.ports import TimeWindow

HOSTILE = '<script>alert("x")</script>'
BIG = "222222222222"
SMALL = "111111111111"
REFUSED = "333333333333"
UNUSED = UnusedPrincipal(None, 0, "no call")
ESCALATES = EscalationRisk((EscalationMethodHeld("iam:PassRole + lambda:CreateFunction", "", "p"),))


def score(arn: str, excess: float, *flags: object) -> PrincipalScore:
    return PrincipalScore(
        rank=0,
        principal=arn,
        kind=arn.split(":")[5].split("/", maxsplit=1)[0],
        granted=10,
        used=1,
        unused_grants=9,
        score=excess,
        unused_share=0.9,
        by_access_level=(),
        flags=tuple(flags),  # type: ignore[arg-type]
    )


def small_report(big_principal: str = f"arn:aws:iam::{BIG}:role/deployer") -> OrgScanReport:
    """Two accounts (`BIG` with the most excess, named `HOSTILE` under an OU named so too),
    `big_principal` the worst principal, one unused role, one account refused."""
    root = OrgUnit("r-ab12", "Root")
    builder = OrgReportBuilder("o-example0001")
    builder.add(
        OrgAccount(SMALL, "sandbox", "ACTIVE", (root,)),
        ScanReport((score(f"arn:aws:iam::{SMALL}:role/idle", 2.0, UNUSED),), TimeWindow()),
    )
    builder.add(
        OrgAccount(BIG, HOSTILE, "ACTIVE", (root, OrgUnit("ou-ab12-x", HOSTILE))),
        ScanReport(
            (score(big_principal, 40.0, ESCALATES), score(f"arn:aws:iam::{BIG}:user/ci", 5.0)),
            TimeWindow(),
        ),
    )
    builder.fail(AccountReadFailure(REFUSED, f"cannot assume the role: {HOSTILE}"))
    return builder.report()
