"""The scan use case: every principal of an account ranked by excess, from its usage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alpha.app.backends import Backends
from alpha.policy.org_policies import OrgGuardrails
from alpha.scan.model import ScanReport
from alpha.usage.aggregate import UsageQuery
from alpha.usage.ports import TimeWindow
from alpha.usage.reader import ReadProblem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from alpha.account import AccountSnapshot
    from alpha.catalog import Catalog
    from alpha.scan.scan import CallsSeen
    from alpha.usage.aggregate import UsageOutline, UsageRow
    from alpha.usage.ingest import IngestReport
    from alpha.usage.people import PersonUse
    from alpha.usage.ports import UsageReader

__all__ = [
    "ReadProgress",
    "ScanInput",
    "ScanOutcome",
    "ScanRequest",
    "rank",
    "read_scan_input",
    "scan",
]

ReadProgress = Callable[[int, int], None]
"""`on_start(batches, bytes)` and `on_progress(bytes_done, events)` of the ingest."""


@dataclass(frozen=True, slots=True)
class ScanRequest:
    account: str
    sources: tuple[str, ...]
    window: TimeWindow = field(default_factory=TimeWindow)
    # The SCPs and RCPs over the account (issue 16): a grant they deny is not granted
    org: OrgGuardrails = field(default_factory=OrgGuardrails)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """The ranking, and what could not be read on the way (files or records skipped)."""

    report: ScanReport
    problems: tuple[ReadProblem, ...]
    unlisted: int = 0  # skipped records past those described in `problems`


def scan(
    backends: Backends,
    request: ScanRequest,
    on_start: ReadProgress | None = None,
    on_progress: ReadProgress | None = None,
) -> ScanOutcome:
    scanned, read = read_scan_input(backends, request, on_start, on_progress)
    return ScanOutcome(rank(scanned, backends.catalog()), tuple(read.problems), read.unlisted)


@dataclass(frozen=True, slots=True)
class ScanInput:
    """Everything ranking one account needs, read and held: its IAM, its principals' calls
    (what the rows say of them, read a part at a time and let go), the usage's outline and
    people. The organisation's scan reads an account's, then ranks it in a child process
    that inherits it."""

    snapshot: AccountSnapshot
    calls: Mapping[str, CallsSeen]
    outline: UsageOutline
    people: tuple[PersonUse, ...]
    request: ScanRequest


def read_scan_input(
    backends: Backends,
    request: ScanRequest,
    on_start: ReadProgress | None = None,
    on_progress: ReadProgress | None = None,
) -> tuple[ScanInput, IngestReport]:
    """The account and its usage, read (the sources ingested first: nothing new for an
    organisation's account, whose trail was read once), and what the ingest read."""
    from alpha.scan.scan import calls_seen
    from alpha.usage.ingest import ingest

    snapshot = backends.read_account(request.account)
    sources = [backends.usage_source(text) for text in request.sources]
    with backends.open_usage_store() as usage:
        read = ingest(sources, usage, request.window, on_start=on_start, on_progress=on_progress)
        query = UsageQuery(read.keys, None, request.window)
        outline = usage.outline(query)
        calls = calls_seen(snapshot, _snapshot_rows(usage, query, outline, snapshot))
        people = tuple(usage.people(query))
    return ScanInput(snapshot, calls, outline, people, request), read


def rank(scanned: ScanInput, catalog: Catalog) -> ScanReport:
    """The account's ranking, from what `read_scan_input` read."""
    from alpha.scan.people import with_people
    from alpha.scan.scan import scan_seen

    request = scanned.request
    report = scan_seen(
        scanned.snapshot,
        scanned.calls,
        scanned.outline,
        catalog,
        window=request.window,
        org=request.org,
    )
    return with_people(report, scanned.snapshot, scanned.people)


def _snapshot_rows(
    usage: UsageReader, query: UsageQuery, outline: UsageOutline, snapshot: AccountSnapshot
) -> Iterator[UsageRow]:
    """The rows of the snapshot's principals only (a store may hold a whole organisation's),
    read a part at a time."""
    from alpha.account import PrincipalNotFoundError
    from alpha.usage.parts import parts

    def known(item: tuple[str, int]) -> bool:
        try:
            snapshot.principal(item[0])
        except PrincipalNotFoundError:
            return False
        return True

    for part in parts(filter(known, outline.principals), lambda item: item[1]):
        yield from usage.usage(query.among(frozenset(name for name, _ in part)))
