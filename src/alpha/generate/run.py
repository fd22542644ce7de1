"""From usage sources to proposals: ingest what is new, then propose per principal. A
principal the generator cannot propose for is a `GenerationFailure` beside the others'
proposals, never the end of the run (and never a second ingest). `plan_generation` ingests and
reads the usage's outline; its plan's `outcomes()` makes the proposals one by one, and
`collect` holds them all.

The store is the `UsageStore` port (the CLI passes DuckDB). Its outline (who has usage, with
how many stored rows, which actions, first and last call) gives the run's context; then the
rows are read a part at a time (`alpha.usage.parts`): the principals in order, a set of them
per query, so memory holds one part whatever the number of principals.
Principals are resolved through the snapshot (CloudTrail writes role ARNs without their path,
and sessions as `assumed-role/...`). Data events count as logged when any principal's usage
holds a data-plane action.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime

from alpha.account import AccountSnapshot, PrincipalNotFoundError
from alpha.catalog import Catalog
from alpha.generate.errors import GenerateError
from alpha.generate.generator import ProposalGenerator, UsageContext
from alpha.generate.model import GenerationFailure, GenerationSettings, PolicyProposal
from alpha.guardrails import GuardrailConfig
from alpha.policy.org_policies import OrgGuardrails
from alpha.reasoning import Reasoner
from alpha.reasoning.data_plane import is_data_plane
from alpha.usage.aggregate import UsageOutline, UsageQuery, UsageRow
from alpha.usage.ingest import IngestReport, ingest
from alpha.usage.lifeline import die_with_parent, frozen_heap, return_freed_memory
from alpha.usage.parts import ROWS_PER_PART, parts
from alpha.usage.people import PersonUse
from alpha.usage.ports import TimeWindow, UsageReader, UsageSource, UsageStore

__all__ = [
    "GenerationPlan",
    "GenerationRun",
    "Outcome",
    "collect",
    "plan_fleet_generation",
    "plan_generation",
]


log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
_PER_WORKER_MIN = 8  # below this many principals per worker, forking costs more than it saves
_CHUNK = 8  # principals per task: results come back in order soon, few wait in memory
_CHUNKS_IN_FLIGHT = 3  # per worker: enough to keep it busy while the parent writes
ALONE_ROWS = 100_000  # a principal with more report rows is proposed for in this process
Job = tuple[str, list[UsageRow], dict[str, int]]
"""A principal, its report rows, and its distinct active days per action."""
Outcome = PolicyProposal | GenerationFailure
OpenReader = Callable[[], AbstractContextManager[UsageReader]]


@dataclass(frozen=True, slots=True)
class GenerationRun:
    """What one run gave: proposals, and the principals it could not propose for (both in
    principal order)."""

    proposals: tuple[PolicyProposal, ...]
    failures: tuple[GenerationFailure, ...]


def propose_each(
    generator: ProposalGenerator,
    jobs: Iterator[Job],
    expected: int,
    context: UsageContext,
    workers: int,
) -> Iterator[Outcome]:
    """A proposal or a failure per job, in job order, made as they are asked for; over
    `workers` forked processes when there are enough jobs (`expected`: about how many). Jobs
    are taken from `jobs` as they are needed (their rows let go once proposed for), and at
    most a few chunks are in flight, so memory holds what is being made, not the whole run.

    The generator (catalog, snapshot, compiled caches) is inherited by the forked workers
    instead of being sent."""
    if workers <= 1 or expected < workers * _PER_WORKER_MIN or not _can_fork():
        for job in jobs:
            yield _attempt(generator, job, context)
        return
    _shared.clear()
    _shared.append((generator, context))
    pool = _Workers(workers)
    try:
        pending: deque[Future[list[Outcome]]] = deque()
        for piece in _pieces(jobs):
            if isinstance(piece, list):
                pending.append(pool.submit(piece))
                if len(pending) >= workers * _CHUNKS_IN_FLIGHT:
                    yield from pending.popleft().result()
                continue
            while pending:  # in order: what went before first
                yield from pending.popleft().result()
            pool.close()  # idle workers' memory is given back while this job runs
            yield _attempt(generator, piece, context)
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.close()
        _shared.clear()


class _Workers:
    """A pool of forked workers, made at the first chunk (so they inherit what the parent holds
    then, from a frozen heap, after freed memory went back to the system) and closed between
    runs of chunks."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, chunk: list[Job]) -> Future[list[Outcome]]:
        if self._pool is not None:
            return self._pool.submit(_propose_chunk, chunk)
        return_freed_memory()
        with frozen_heap():  # the workers fork at the first task
            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
            return self._pool.submit(_propose_chunk, chunk)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _pieces(jobs: Iterator[Job]) -> Iterator[list[Job] | Job]:
    """Chunks of `_CHUNK` jobs for the workers, and, alone, each job of more than
    `ALONE_ROWS` rows: made here, its rows are held once (sent to a worker, they would be held
    twice, here until it answers and there), with no worker alive meanwhile."""
    chunk: list[Job] = []
    for job in jobs:
        if len(job[1]) > ALONE_ROWS:
            if chunk:
                yield chunk
                chunk = []
            yield job
            continue
        chunk.append(job)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _attempt(generator: ProposalGenerator, job: Job, context: UsageContext) -> Outcome:
    arn, rows, days = job
    try:
        return generator.propose(arn, rows, context, days)
    except GenerateError as exc:  # this principal only; a bug (GenerationBugError) is not
        return GenerationFailure(generator.snapshot.principal(arn).arn, str(exc))


# Set just before forking and read by the workers (fork copies it): the one module-level state,
# held only while `propose_each` runs.
_shared: list[tuple[ProposalGenerator, UsageContext]] = []


def _propose_chunk(chunk: list[Job]) -> list[Outcome]:
    generator, context = _shared[0]
    return [_attempt(generator, job, context) for job in chunk]


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True, slots=True)
class GenerationPlan:
    """A run with its usage outlined: the principals to propose for, in order, whose rows
    `jobs` reads a part at a time as the proposals are asked for (`outcomes()`)."""

    generator: ProposalGenerator
    context: UsageContext
    jobs: Iterator[Job]
    principals: int  # how many principals `jobs` may give (those with an allowed call do)
    workers: int = DEFAULT_WORKERS

    def outcomes(self) -> Iterator[Outcome]:
        return propose_each(self.generator, self.jobs, self.principals, self.context, self.workers)


def plan_generation(
    snapshot: AccountSnapshot,
    catalog: Catalog,
    guardrails: GuardrailConfig,
    *,
    sources: Sequence[UsageSource],
    store: UsageStore,
    window: TimeWindow,
    principal: str | None = None,
    settings: GenerationSettings | None = None,
    reasoner: Reasoner | None = None,
    on_progress: Callable[[str], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    org: OrgGuardrails | None = None,
    reopen: OpenReader | None = None,
    rows_per_part: int = ROWS_PER_PART,
) -> GenerationPlan:
    """Ingest what is new and outline the usage: what to propose for `principal`, or for
    every principal of the snapshot with usage. The rows are read later, a part at a time,
    from `store` (which must then still be open) or, with `reopen`, from the store it opens
    for each part (so no store is held open while proposals are made)."""
    report = _ingest(sources, store, window, on_progress)
    query = UsageQuery(report.keys, None, window)
    outline = store.outline(query)
    spellings = spellings_by_principal(outline, snapshot)
    wanted = snapshot.principal(principal).arn if principal is not None else None
    context = UsageContext(
        window=_window_of(outline, window),
        events=store.summary(report.keys).events,
        principals=len(spellings),
        data_events_logged=any(is_data_plane(action, catalog) for action in outline.actions),
        people=people_by_principal(store.people(query), snapshot),
    )
    generator = ProposalGenerator(
        catalog, snapshot, guardrails, settings=settings, reasoner=reasoner, org=org
    )
    chosen = [(arn, spellings[arn]) for arn in sorted(spellings) if wanted in (None, arn)]
    opener = reopen or (lambda: nullcontext(store))
    principal_parts = parts(chosen, lambda item: sum(n for _, n in item[1]), rows_per_part)
    jobs = _read_in_parts(opener, query, principal_parts, snapshot)
    return GenerationPlan(generator, context, jobs, len(chosen), workers)


Spellings = tuple[tuple[str, int], ...]
"""How the store spells one principal (CloudTrail may write a role with or without its path),
each with its number of stored rows."""


def spellings_by_principal(
    outline: UsageOutline, snapshot: AccountSnapshot
) -> dict[str, Spellings]:
    """The outline's principals keyed by snapshot principal ARN; those the snapshot lacks are
    left out."""
    found: dict[str, Spellings] = {}
    skipped = 0
    for name, rows in outline.principals:
        try:
            arn = snapshot.principal(name).arn
        except PrincipalNotFoundError:
            skipped += 1
            continue
        found[arn] = (*found.get(arn, ()), (name, rows))
    if skipped:
        log.info("%d principals in the usage are not in the snapshot", skipped)
    return found


def _read_in_parts(
    opener: OpenReader,
    query: UsageQuery,
    principal_parts: Iterable[list[tuple[str, Spellings]]],
    snapshot: AccountSnapshot,
) -> Iterator[Job]:
    """Each part's rows and active days in one query each, then its jobs (principals with
    no allowed call have nothing to propose)."""
    for part in principal_parts:
        among = query.among(frozenset(name for _, spelled in part for name, _ in spelled))
        with opener() as reader:
            grouped = group_by_principal(reader.usage(among), snapshot)
            days = active_days_by_principal(reader.active_days(among), snapshot)
        for arn, _ in part:
            rows = grouped.pop(arn, [])
            if any(r.count > 0 for r in rows):
                yield arn, rows, days.pop(arn, {})


def plan_fleet_generation(
    targets: Sequence[str],
    snapshots: Sequence[AccountSnapshot],
    catalog: Catalog,
    guardrails: GuardrailConfig,
    *,
    sources: Sequence[UsageSource],
    store: UsageStore,
    window: TimeWindow,
    settings: GenerationSettings | None = None,
    reasoner: Reasoner | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> GenerationPlan:
    """One proposal for the same role in several accounts (`targets[i]` in `snapshots[i]`),
    from the union of every copy's calls: made for the first copy (the copies' policies are
    the same, `alpha.org.fleet`), so its proof and replay cover every account's calls."""
    report = _ingest(sources, store, window, on_progress)
    query = UsageQuery(report.keys, None, window)
    outline = store.outline(query)
    # only the copies' rows are read: the store may hold a whole organisation's
    copies = query.among(_copies_in(outline, targets, snapshots))
    rows = store.usage(copies)
    active = store.active_days(copies)
    union: list[UsageRow] = []
    days: dict[str, int] = {}
    for target, snapshot in zip(targets, snapshots, strict=True):
        account = target.split(":")[4]
        # Only the account's own rows: a snapshot without an account id would take another
        # account's role of the same name for its own.
        mine = [r for r in rows if _in_account(r.principal, account)]
        union += group_by_principal(mine, snapshot).get(target, [])
        seen = {p: d for p, d in active.items() if _in_account(p, account)}
        for action, count in active_days_by_principal(seen, snapshot).get(target, {}).items():
            days[action] = max(count, days.get(action, 0))
    context = UsageContext(
        window=_window_of(outline, window),
        events=store.summary(report.keys).events,
        principals=len(outline.principals),
        data_events_logged=any(is_data_plane(action, catalog) for action in outline.actions),
    )
    generator = ProposalGenerator(
        catalog, snapshots[0], guardrails, settings=settings, reasoner=reasoner
    )
    used = any(r.count > 0 for r in union)
    jobs: list[Job] = [(targets[0], union, days)] if used else []
    return GenerationPlan(generator, context, iter(jobs), len(jobs), workers=1)


def _ingest(
    sources: Sequence[UsageSource],
    store: UsageStore,
    window: TimeWindow,
    on_progress: Callable[[str], None] | None,
) -> IngestReport:
    report = ingest(sources, store, window)
    if on_progress is not None:
        on_progress(f"read {report.events_read:,} new events from {report.batches_read} files")
    return report


def collect(outcomes: Iterable[Outcome]) -> GenerationRun:
    """Every outcome held: for a run small enough to keep whole (one principal, the demo)."""
    held = list(outcomes)
    return GenerationRun(
        tuple(o for o in held if isinstance(o, PolicyProposal)),
        tuple(o for o in held if isinstance(o, GenerationFailure)),
    )


def group_by_principal(
    rows: Sequence[UsageRow], snapshot: AccountSnapshot
) -> dict[str, list[UsageRow]]:
    """Rows per snapshot principal ARN; principals the snapshot lacks are left out."""
    resolved: dict[str, str | None] = {}
    grouped: dict[str, list[UsageRow]] = {}
    for row in rows:
        if row.principal not in resolved:
            try:
                resolved[row.principal] = snapshot.principal(row.principal).arn
            except PrincipalNotFoundError:
                resolved[row.principal] = None
        arn = resolved[row.principal]
        if arn is not None:
            grouped.setdefault(arn, []).append(row)
    skipped = sum(1 for v in resolved.values() if v is None)
    if skipped:
        log.info("%d principals in the usage are not in the snapshot", skipped)
    return grouped


def people_by_principal(
    uses: Sequence[PersonUse], snapshot: AccountSnapshot
) -> dict[str, tuple[PersonUse, ...]]:
    """The people's calls per snapshot principal ARN (usage names roles without their path)."""
    grouped: dict[str, list[PersonUse]] = {}
    for use in uses:
        try:
            arn = snapshot.principal(use.principal).arn
        except PrincipalNotFoundError:
            continue
        grouped.setdefault(arn, []).append(use)
    return {arn: tuple(found) for arn, found in grouped.items()}


def active_days_by_principal(
    days: Mapping[str, Mapping[str, int]], snapshot: AccountSnapshot
) -> dict[str, dict[str, int]]:
    """The store's active days keyed by snapshot principal ARN (CloudTrail may write a role
    without its path). Two spellings of one principal keep the larger count: a lower bound."""
    resolved: dict[str, dict[str, int]] = {}
    for principal, per_action in days.items():
        try:
            arn = snapshot.principal(principal).arn
        except PrincipalNotFoundError:
            continue
        mine = resolved.setdefault(arn, {})
        for action, count in per_action.items():
            mine[action] = max(count, mine.get(action, 0))
    return resolved


def _copies_in(
    outline: UsageOutline, targets: Sequence[str], snapshots: Sequence[AccountSnapshot]
) -> frozenset[str]:
    """How the usage spells each target (with or without its path), in its own account."""
    found: set[str] = set()
    for target, snapshot in zip(targets, snapshots, strict=True):
        account = target.split(":")[4]
        spellings = spellings_by_principal(outline, snapshot).get(target, ())
        found.update(name for name, _ in spellings if _in_account(name, account))
    return frozenset(found)


def _in_account(arn: str, account: str) -> bool:
    return arn.split(":")[4:5] == [account]


def _window_of(outline: UsageOutline, window: TimeWindow) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    start = window.since or outline.first_seen or now
    end = window.until or outline.last_seen or now
    return start, end
