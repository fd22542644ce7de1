"""The scan use case: every principal of an account ranked by excess, from its usage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from alpha.app.backends import Backends
from alpha.policy.org_policies import OrgGuardrails
from alpha.scan.model import ScanReport
from alpha.usage.aggregate import UsageQuery
from alpha.usage.ports import TimeWindow
from alpha.usage.reader import ReadProblem

__all__ = ["ReadProgress", "ScanOutcome", "ScanRequest", "scan"]

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
    from alpha.scan import scan as scan_account
    from alpha.scan.people import with_people
    from alpha.usage.ingest import ingest

    snapshot = backends.read_account(request.account)
    sources = [backends.usage_source(text) for text in request.sources]
    with backends.open_usage_store() as usage:
        read = ingest(sources, usage, request.window, on_start=on_start, on_progress=on_progress)
        query = UsageQuery(read.keys, None, request.window)
        rows = usage.usage(query)
        people = usage.people(query)
    report = scan_account(snapshot, rows, backends.catalog(), request.window, request.org)
    report = with_people(report, snapshot, people)
    return ScanOutcome(report, tuple(read.problems), read.unlisted)
