"""Reading an organisation's accounts: bounded in flight, in order, one account's failure
never stopping the others, suspended accounts skipped with why."""

from __future__ import annotations

import threading
from dataclasses import replace

from alpha.app.org_reading import AccountRead, coverage, read_accounts
from alpha.org import AccountFilter, AccountReadFailure, OrgAccount, OrgError
from tests.fakes.memory_org import MemoryOrgAccount, MemoryOrganization
from tests.org import sample_org
from tests.org.sample_org import Ids


class CountingOrganization(MemoryOrganization):
    """Counts how many accounts are being read at once, and breaks its promise for one."""

    def __init__(self, *args: object, raising: str | None = None) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._now = 0
        self.most = 0
        self._raising = raising

    def open_account(self, account: OrgAccount) -> MemoryOrgAccount | AccountReadFailure:
        with self._lock:
            self._now += 1
            self.most = max(self.most, self._now)
        try:
            if account.id == self._raising:
                raise OrgError(f"account {account.id}: the adapter raised")
            return super().open_account(account)
        finally:
            with self._lock:
                self._now -= 1


def _source(raising: str | None = None) -> CountingOrganization:
    ids = Ids()
    return CountingOrganization(
        sample_org.organization(ids), sample_org.documents(ids), raising=raising
    )


def test_every_account_is_read_in_order_and_failures_stay_beside_the_others() -> None:
    source = _source()
    accounts = source.organization().accounts
    reads = list(read_accounts(source, accounts, 2))
    assert [r.account.id if isinstance(r, AccountRead) else r.account_id for r in reads] == [
        a.id for a in accounts
    ]
    failed = [r for r in reads if isinstance(r, AccountReadFailure)]
    assert [f.account_id for f in failed] == [Ids().accounts["locked"]]


def test_no_more_than_max_parallel_accounts_are_read_at_once() -> None:
    source = _source()
    accounts = source.organization().accounts * 4
    assert len(list(read_accounts(source, accounts, 2))) == len(accounts)
    assert 1 <= source.most <= 2


def test_an_adapter_that_raises_fails_only_that_account() -> None:
    prod = Ids().accounts["prod"]
    source = _source(raising=prod)
    reads = list(read_accounts(source, source.organization().accounts, 3))
    failures = {r.account_id: r.reason for r in reads if isinstance(r, AccountReadFailure)}
    assert "the adapter raised" in failures[prod]
    assert sum(isinstance(r, AccountRead) for r in reads) == 3


def test_suspended_accounts_are_skipped_with_a_reason_and_filters_apply() -> None:
    source = _source()
    organization = source.organization()
    sandbox = Ids().accounts["sandbox"]
    accounts = tuple(
        replace(a, status="SUSPENDED") if a.id == sandbox else a for a in organization.accounts
    )
    source = CountingOrganization(
        replace(organization, accounts=accounts), sample_org.documents(Ids())
    )
    covered = coverage(source, AccountFilter(tags=()))
    assert sandbox not in [a.id for a in covered.accounts]
    assert [(f.account_id, f.reason) for f in covered.skipped] == [
        (sandbox, "account sandbox is suspended: not read")
    ]
    only_payments = coverage(source, AccountFilter(units=(Ids().units["Payments"],)))
    assert [a.name for a in only_payments.accounts] == ["payments"]
