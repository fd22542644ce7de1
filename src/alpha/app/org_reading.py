"""Reading the accounts of an organisation: which are covered, each one's IAM in parallel
within a bound, and the per-account view of the backends that lets every single-account use
case (scan, generate, propose) run unchanged on one member account.

At most `max_parallel` accounts are being read at once, and a read account is handed on as
soon as it is ready and dropped once used: memory holds the accounts in flight, never the
whole organisation's IAM. Throttling is the clients' adaptive retries' business; one
account's failure is an `AccountReadFailure` beside the others.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpha.account import AccountSnapshot
from alpha.app.backends import Backends, is_live_account
from alpha.app.org_usage import AccountUsage, NoNewBatches
from alpha.errors import AlphaError
from alpha.org.model import AccountFilter, AccountReadFailure, OrgAccount, Organization
from alpha.org.ports import OrgAccountState, OrganizationSource
from alpha.store.ports import Store
from alpha.usage.ports import UsageSource, UsageStore

__all__ = [
    "AccountRead",
    "Coverage",
    "InAccount",
    "OrgExport",
    "coverage",
    "export_organization",
    "read_accounts",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountRead:
    account: OrgAccount
    state: OrgAccountState


@dataclass(frozen=True, slots=True)
class Coverage:
    """The accounts to read, and those the filter keeps but that cannot be (suspended)."""

    organization: Organization
    accounts: tuple[OrgAccount, ...]
    skipped: tuple[AccountReadFailure, ...]


def coverage(source: OrganizationSource, wanted: AccountFilter) -> Coverage:
    organization = source.organization()
    kept = organization.select(wanted)
    skipped = tuple(
        AccountReadFailure(a.id, f"account {a.name or a.id} is {a.status.lower()}: not read")
        for a in kept
        if not a.active
    )
    return Coverage(organization, tuple(a for a in kept if a.active), skipped)


def read_accounts(
    source: OrganizationSource, accounts: Iterable[OrgAccount], max_parallel: int
) -> Iterator[AccountRead | AccountReadFailure]:
    """Each account's IAM, in the accounts' order, `max_parallel` read at once."""
    pending: deque[tuple[OrgAccount, Future[OrgAccountState | AccountReadFailure]]] = deque()
    waiting = iter(accounts)
    with ThreadPoolExecutor(max(1, max_parallel), thread_name_prefix="alpha-org") as pool:

        def submit() -> None:
            account = next(waiting, None)
            if account is not None:
                pending.append((account, pool.submit(_open, source, account)))

        for _ in range(max(1, max_parallel)):
            submit()
        while pending:
            account, future = pending.popleft()
            submit()
            opened = future.result()
            yield opened if isinstance(opened, AccountReadFailure) else AccountRead(account, opened)


def _open(source: OrganizationSource, account: OrgAccount) -> OrgAccountState | AccountReadFailure:
    try:
        return source.open_account(account)
    except AlphaError as exc:  # an adapter's promise broken: still only this account's failure
        log.warning("account %s: %s", account.id, exc)
        return AccountReadFailure(account.id, str(exc))


class InAccount:
    """`backends`, with the account they read being one member account's IAM, whatever name
    a request gives it, and its usage the account's share of the organisation's, read once
    (`alpha.app.org_usage`): the single-account use cases run unchanged on it. With `store`,
    the workflow store the organisation's run opened once: opening a store checks every row
    of its chain, so opening it again for each account would cost the whole store each time."""

    def __init__(
        self,
        backends: Backends,
        state: OrgAccountState,
        usage: AccountUsage,
        store: Store | None = None,
    ) -> None:
        self._backends = backends
        self._state = state
        self._usage = usage
        self._store = store

    def open_store(self) -> AbstractContextManager[Store]:
        if self._store is None:
            return self._backends.open_store()
        return nullcontext(self._store)

    def usage_source(self, text: str) -> UsageSource:
        return NoNewBatches(text)

    @contextmanager
    def open_usage_store(self) -> Iterator[UsageStore]:
        yield self._usage

    def read_account(self, text: str) -> AccountSnapshot:
        return self._state.snapshot()

    def account_document(self, text: str) -> object:
        return self._state.document()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._backends, name)


def account_name(source: OrganizationSource, read: AccountRead) -> str:
    """How a request names the account: the organisation's live source (`aws://PROFILE`), so
    proposals record that they roll out to live IAM; a folder's account file otherwise."""
    return source.name if is_live_account(source.name) else read.state.name


@dataclass(frozen=True, slots=True)
class OrgExport:
    written: tuple[str, ...]
    failures: tuple[AccountReadFailure, ...]


def export_organization(
    source: OrganizationSource,
    folder: Path,
    wanted: AccountFilter,
    max_parallel: int,
    on_account: Callable[[AccountRead | AccountReadFailure], None] = lambda _: None,
) -> OrgExport:
    """The organisation as a folder (organization.json and each readable account's file)."""
    from alpha.adapters.local.org_folder import write_org_folder

    covered = coverage(source, wanted)
    failures = list(covered.skipped)

    def documents() -> Iterator[tuple[str, object]]:
        for read in read_accounts(source, covered.accounts, max_parallel):
            on_account(read)
            if isinstance(read, AccountReadFailure):
                failures.append(read)
            else:
                yield read.account.id, read.state.document()

    selected = Organization(
        covered.organization.id,
        covered.organization.management_account,
        covered.organization.select(wanted),
    )
    written = write_org_folder(folder, selected, documents())
    return OrgExport(tuple(written), tuple(failures))
