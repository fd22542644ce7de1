"""The organisation's scan report: each account's scan folded into one view.

Accounts ranked by excess (the sum of their principals' excess), the worst principals across
the organisation, the unused roles, the principals with escalation paths or admin-equivalent
grants, and the accounts not covered with the reason each could not be read. Built one
account at a time (`OrgReportBuilder.add`), so an organisation's scans need not all be held:
only what the report shows is kept.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from alpha.org.model import AccountReadFailure, OrgAccount
from alpha.scan import PrincipalScore, ScanReport
from alpha.scan.model import ADMIN, ESCALATION, FLAG_CODES, UNUSED
from alpha.usage.ports import TimeWindow

__all__ = ["AccountSummary", "OrgFinding", "OrgReportBuilder", "OrgScanReport"]

DEFAULT_WORST = 20


@dataclass(frozen=True, slots=True)
class AccountSummary:
    account: OrgAccount
    principals: int
    excess: float
    flagged: tuple[tuple[str, int], ...]  # (flag code, principals with it), FLAG_CODES order

    def count(self, code: str) -> int:
        return dict(self.flagged).get(code, 0)

    def to_dict(self) -> dict[str, Any]:
        account = self.account
        return {
            "account": account.id,
            "name": account.name,
            "path": [unit.name for unit in account.path],
            "principals": self.principals,
            "excess": round(self.excess, 2),
            "flagged": dict(self.flagged),
            "scp_levels": len(account.guardrails.scps),
            "rcp_levels": len(account.guardrails.rcps),
        }


@dataclass(frozen=True, slots=True)
class OrgFinding:
    """One principal of one account, as the organisation's report names it."""

    account: str
    account_name: str
    score: PrincipalScore

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "account_name": self.account_name, **self.score.to_dict()}


@dataclass(frozen=True, slots=True)
class OrgScanReport:
    organization: str
    accounts: tuple[AccountSummary, ...]  # most excess first
    worst: tuple[OrgFinding, ...]  # most excess first, across every account
    unused_roles: tuple[OrgFinding, ...]
    escalation: tuple[OrgFinding, ...]  # escalation paths and admin-equivalent grants
    not_covered: tuple[AccountReadFailure, ...]
    window: TimeWindow = field(default_factory=TimeWindow)

    def flagged(self, codes: frozenset[str]) -> int:
        """Principals with any of these flags, in every covered account."""
        return sum(summary.count(code) for summary in self.accounts for code in codes)

    @property
    def principals(self) -> int:
        return sum(summary.principals for summary in self.accounts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "accounts": [summary.to_dict() for summary in self.accounts],
            "worst_principals": [finding.to_dict() for finding in self.worst],
            "unused_roles": [finding.to_dict() for finding in self.unused_roles],
            "escalation_paths": [finding.to_dict() for finding in self.escalation],
            "not_covered": [
                {"account": f.account_id, "reason": f.reason} for f in self.not_covered
            ],
        }


class OrgReportBuilder:
    """Folds each account's `ScanReport` in as it is made; keeps the `worst` highest scores."""

    def __init__(self, organization: str, worst: int = DEFAULT_WORST) -> None:
        self._organization = organization
        self._worst_kept = worst
        self._worst: list[tuple[float, int, OrgFinding]] = []  # a min-heap of the kept
        self._accounts: list[AccountSummary] = []
        self._unused: list[OrgFinding] = []
        self._escalation: list[OrgFinding] = []
        self._failures: list[AccountReadFailure] = []
        self._window: TimeWindow | None = None
        self._added = 0

    def add(self, account: OrgAccount, report: ScanReport) -> None:
        self._window = self._window or report.window
        counts = dict.fromkeys(FLAG_CODES, 0)
        for score in report.scores:
            finding = OrgFinding(account.id, account.name, score)
            for code in score.flag_codes:
                counts[code] += 1
            if UNUSED in score.flag_codes and score.kind == "role":
                self._unused.append(finding)
            if ESCALATION in score.flag_codes or ADMIN in score.flag_codes:
                self._escalation.append(finding)
            self._keep_if_worst(finding)
        excess = sum(score.score for score in report.scores)
        flagged = tuple((code, counts[code]) for code in FLAG_CODES)
        self._accounts.append(AccountSummary(account, len(report.scores), excess, flagged))

    def _keep_if_worst(self, finding: OrgFinding) -> None:
        self._added += 1
        entry = (finding.score.score, -self._added, finding)  # ties: the earlier one first
        if len(self._worst) < self._worst_kept:
            heapq.heappush(self._worst, entry)
        elif self._worst and entry[:2] > self._worst[0][:2]:
            heapq.heapreplace(self._worst, entry)

    def fail(self, failure: AccountReadFailure) -> None:
        self._failures.append(failure)

    def report(self) -> OrgScanReport:
        def by_excess(finding: OrgFinding) -> tuple[float, str, str]:
            return (-finding.score.score, finding.account, finding.score.principal)

        worst = sorted(self._worst, key=lambda entry: (-entry[0], -entry[1]))
        return OrgScanReport(
            organization=self._organization,
            accounts=tuple(sorted(self._accounts, key=lambda s: (-s.excess, s.account.id))),
            worst=tuple(entry[2] for entry in worst),
            unused_roles=tuple(sorted(self._unused, key=by_excess)),
            escalation=tuple(sorted(self._escalation, key=by_excess)),
            not_covered=tuple(sorted(self._failures, key=lambda f: f.account_id)),
            window=self._window or TimeWindow(),
        )
