"""Scan, generate and propose across an organisation: the trail is read once, then each
member account runs through the single-account use case as it is read.

Usage sources are the organisation trail as for one account (`AWSLogs/o-xxxx/<account>/...`
is read already, and each principal's ARN carries its account), so the sources are ingested
once up front; each account's own use case then queries the store for its principals' rows
only (`alpha.app.org_usage`), listing and reading no log again.
Each request carries the account's SCP and RCP levels (`OrgAccount.guardrails`).
Accounts are read `max_parallel` at a time and let go once used; an account that cannot be
read (or scanned) is reported with why, never failing the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alpha.app.backends import Backends
from alpha.app.forked import fork_each
from alpha.app.org_reading import (
    AccountRead,
    InAccount,
    account_name,
    coverage,
    read_accounts,
)
from alpha.app.org_settings import DEFAULT_MAX_PARALLEL
from alpha.app.org_usage import OrgUsage
from alpha.app.proposing import GenerateRequest, GenerationStream, ProposeResult, prepare
from alpha.app.scanning import ReadProgress, ScanInput, ScanRequest, rank, read_scan_input
from alpha.errors import AlphaError
from alpha.org.model import AccountFilter, AccountReadFailure, OrgAccount
from alpha.org.ports import OrganizationSource
from alpha.org.report import OrgReportBuilder, OrgScanReport
from alpha.scan.model import ScanReport
from alpha.usage.ingest import IngestReport
from alpha.usage.ports import TimeWindow
from alpha.usage.reader import ReadProblem

if TYPE_CHECKING:
    from alpha.app.application import Application

__all__ = [
    "OrgGenerated",
    "OrgProposeResult",
    "OrgRequest",
    "OrgScanOutcome",
    "generate_organization",
    "propose_organization",
    "scan_organization",
]

Progress = Callable[[str], None]
SCAN_WORKERS = 2  # accounts ranked at once, each in a forked child (this machine's cores)


@dataclass(frozen=True, slots=True)
class OrgRequest:
    """The organisation as a user named it (`aws`, `aws://PROFILE`, a folder), the sources,
    the window, which accounts, and how many are read at once."""

    org: str
    sources: tuple[str, ...]
    window: TimeWindow = field(default_factory=TimeWindow)
    wanted: AccountFilter = field(default_factory=AccountFilter)
    max_parallel: int = DEFAULT_MAX_PARALLEL
    principal: str | None = None  # generate and propose: one principal, or every one
    keep_unmapped: bool = True

    def for_account(self, source: OrganizationSource, read: AccountRead) -> GenerateRequest:
        return GenerateRequest(
            account_name(source, read),
            self.sources,
            self.principal,
            self.window,
            self.keep_unmapped,
            org=read.account.guardrails,
        )


@dataclass(frozen=True, slots=True)
class OrgScanOutcome:
    report: OrgScanReport
    problems: tuple[ReadProblem, ...]
    unlisted: int = 0


@contextmanager
def _usage_once(
    backends: Backends,
    request: OrgRequest,
    on_start: ReadProgress | None = None,
    on_progress: ReadProgress | None = None,
) -> Iterator[tuple[OrgUsage, IngestReport]]:
    """The sources ingested once for every account, the store open while the accounts run."""
    from alpha.usage.ingest import ingest

    sources = [backends.usage_source(text) for text in request.sources]
    with backends.open_usage_store() as usage:
        read = ingest(sources, usage, request.window, on_start=on_start, on_progress=on_progress)
        yield OrgUsage(usage, read.keys, request.window), read


def scan_organization(
    backends: Backends,
    request: OrgRequest,
    on_start: ReadProgress | None = None,
    on_progress: ReadProgress | None = None,
    *,
    workers: int = SCAN_WORKERS,
) -> OrgScanOutcome:
    """Every covered account's ranking. This process reads each account (its IAM, its usage
    rows) in turn; each is ranked in a child forked once it is read, `workers` at a time, so
    reading the next account overlaps ranking the last ones."""
    source = backends.organization(request.org)
    covered = coverage(source, request.wanted)
    builder = OrgReportBuilder(covered.organization.id)
    for skipped in covered.skipped:
        builder.fail(skipped)
    catalog = backends.catalog()  # loaded before the children fork: they share it

    def ranked(read: _ScanRead) -> AccountReadFailure | tuple[OrgAccount, ScanReport]:
        if isinstance(read, AccountReadFailure):
            return read
        account, scanned = read
        try:
            return account, rank(scanned, catalog)
        except AlphaError as exc:
            return AccountReadFailure(account.id, f"cannot scan: {exc}")

    with _usage_once(backends, request, on_start, on_progress) as (usage, ingested):
        reads = _scan_inputs(backends, source, request, covered.accounts, usage)
        for found in fork_each(ranked, reads, workers):
            if isinstance(found, AccountReadFailure):
                builder.fail(found)
            else:
                builder.add(*found)
    return OrgScanOutcome(builder.report(), ingested.problems, ingested.unlisted)


_ScanRead = AccountReadFailure | tuple[OrgAccount, ScanInput]


def _scan_inputs(
    backends: Backends,
    source: OrganizationSource,
    request: OrgRequest,
    accounts: tuple[OrgAccount, ...],
    usage: OrgUsage,
) -> Iterator[_ScanRead]:
    """Each account's IAM and usage, read in turn (or why it could not be)."""
    for read in read_accounts(source, accounts, request.max_parallel):
        if isinstance(read, AccountReadFailure):
            yield read
            continue
        named = request.for_account(source, read)
        scan_request = ScanRequest(named.account, request.sources, request.window, named.org)
        in_account = InAccount(backends, read.state, usage.account(read.account.id))
        try:
            yield read.account, read_scan_input(in_account, scan_request)[0]
        except AlphaError as exc:
            yield AccountReadFailure(read.account.id, f"cannot scan: {exc}")


@dataclass(frozen=True, slots=True)
class OrgGenerated:
    """One account's proposals, made as `stream.outcomes()` is iterated."""

    account: OrgAccount
    stream: GenerationStream


def generate_organization(
    backends: Backends, request: OrgRequest, on_progress: Progress | None = None
) -> Iterator[OrgGenerated | AccountReadFailure]:
    """Each account's generation in turn (iterate one's outcomes before asking for the next:
    only the accounts in flight are held)."""
    source = backends.organization(request.org)
    covered = coverage(source, request.wanted)
    yield from covered.skipped
    with _usage_once(backends, request) as (usage, _):
        for read in read_accounts(source, covered.accounts, request.max_parallel):
            if isinstance(read, AccountReadFailure):
                yield read
                continue
            in_account = InAccount(backends, read.state, usage.account(read.account.id))
            try:
                stream = prepare(in_account, request.for_account(source, read), on_progress)
            except AlphaError as exc:
                yield AccountReadFailure(read.account.id, f"cannot generate: {exc}")
                continue
            yield OrgGenerated(read.account, stream)


@dataclass(frozen=True, slots=True)
class OrgProposeResult:
    proposed: tuple[tuple[OrgAccount, ProposeResult], ...]
    failures: tuple[AccountReadFailure, ...]

    @property
    def blocked(self) -> bool:
        return any(result.blocked for _, result in self.proposed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts": [
                {"account": account.id, "name": account.name, **result.to_dict()}
                for account, result in self.proposed
            ],
            "not_covered": [{"account": f.account_id, "reason": f.reason} for f in self.failures],
        }


def propose_organization(
    app: Application,
    request: OrgRequest,
    by: str | None = None,
    on_progress: Progress | None = None,
) -> OrgProposeResult:
    """`propose` in every covered account, each proposal stored per principal as for one
    account (a folder's account imported as its working copy, a live one recorded as live)."""
    from alpha.app.application import Application

    backends = app.backends
    source = backends.organization(request.org)
    covered = coverage(source, request.wanted)
    failures = list(covered.skipped)
    proposed: list[tuple[OrgAccount, ProposeResult]] = []
    with _usage_once(backends, request) as (usage, _), backends.open_store() as store:
        for read in read_accounts(source, covered.accounts, request.max_parallel):
            if isinstance(read, AccountReadFailure):
                failures.append(read)
                continue
            in_account = InAccount(backends, read.state, usage.account(read.account.id), store)
            try:
                result = Application(app.settings, in_account).propose(
                    request.for_account(source, read), by, on_progress
                )
            except AlphaError as exc:
                failures.append(AccountReadFailure(read.account.id, f"cannot propose: {exc}"))
                continue
            proposed.append((read.account, result))
    return OrgProposeResult(tuple(proposed), tuple(failures))
