"""Read new log batches from usage sources into a usage store: streaming, bounded, parallel.

The parent process lists the batches, asks the store which it already holds (same key and
version: skipped), reads the bytes of the others and hands them to worker processes. A worker
decodes, interprets and tallies one batch and sends back only its compact `BatchUsage` (its rows
in a spool file when the store loads files: see `alpha.usage.worker`); the parent saves those in
groups, each group in one transaction. At most a few batches are in flight and a group is
flushed once it holds `flush_rows` rows, so memory stays flat whatever the input.

A file that cannot be read at all is reported in this run's problems and not stored, so it is
tried again next run and whatever an earlier version of it stored stays untouched. Records
skipped inside a readable file are stored with that file's counts.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from alpha.usage.aggregate import (
    StoredBatch,
    StoredSummary,
    UsageSummary,
    merge_counts,
)
from alpha.usage.errors import UsageError
from alpha.usage.lifeline import die_with_parent
from alpha.usage.ports import (
    LogBatch,
    TalliedSource,
    TimeWindow,
    UsageSource,
    UsageWriter,
    WorkerReadableSource,
)
from alpha.usage.reader import DEFAULT_LIMITS, ReadLimits, ReadProblem, SkipReason
from alpha.usage.spool import discard, run_spool
from alpha.usage.worker import (
    InterpreterFactory,
    MapperInterpreter,
    Outcome,
    TallyJob,
    default_interpreter,
    oversized,
    read_and_tally,
    read_and_tally_each,
    tally,
    unreadable,
    warm,
    worker_state,
)

__all__ = [
    "DEFAULT_WORKERS",
    "FLUSH_ROWS",
    "IngestReport",
    "InterpreterFactory",
    "MapperInterpreter",
    "ReadLimits",
    "default_interpreter",
    "ingest",
    "summarize",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes done, events done)
_Item = tuple[UsageSource, LogBatch]

DEFAULT_WORKERS = 2
# Big enough that each table's rows in a group fill DuckDB row groups (122,880 rows), which it
# then writes straight into the database file: smaller groups went through its write-ahead log
# and were written again by a checkpoint, about a CPU-second more per million events.
FLUSH_ROWS = 400_000
# Each batch's rows reach the store as one file; many tiny batches are saved in bounded groups.
FLUSH_BATCHES = 2_000
_IN_FLIGHT_PER_WORKER = 3  # tasks
_CHUNK = 4  # batches a worker reads itself, per task
# Skipped records a run describes one by one (each file describes at most
# `ReadLimits.listed_problems`); the rest are counted in the usage's skipped counts.
RUN_LISTED_RECORDS = 1_000


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What this run did: batches listed and read, records read, problems met."""

    keys: tuple[str, ...]
    batches_read: int
    events_read: int
    problems: tuple[ReadProblem, ...]
    failed: frozenset[str] = field(default_factory=frozenset)
    # skipped records not described in `problems` (they are all counted in the usage's
    # skipped counts): past the run's and each file's share of descriptions
    unlisted: int = 0

    def failed_files(self) -> tuple[ReadProblem, ...]:
        return tuple(p for p in self.problems if p.record is None)


@dataclass(slots=True)
class _Run:
    """The parent's side of a run: collects outcomes, saves them in groups.

    Saving runs in one background thread (DuckDB releases the GIL while it loads), so the
    parent keeps feeding the workers meanwhile; at most one group waits to be saved."""

    store: UsageWriter
    flush_rows: int
    saver: ThreadPoolExecutor
    saving: tuple[Future[None], list[StoredBatch]] | None = None
    pending: list[StoredBatch] = field(default_factory=list)
    pending_rows: int = 0
    batches_read: int = 0
    events_read: int = 0
    problems: list[ReadProblem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    listed_records: int = 0
    unlisted: int = 0

    def take(self, batch: LogBatch, outcome: Outcome) -> None:
        self.batches_read += 1
        self._describe(outcome)
        if outcome.usage is None:
            self.failed.add(batch.key)
            return
        self.events_read += outcome.usage.events
        self.pending.append(StoredBatch(batch.key, batch.version, batch.size, outcome.usage))
        self.pending_rows += outcome.usage.row_count
        if self.pending_rows >= self.flush_rows or len(self.pending) >= FLUSH_BATCHES:
            self.flush()

    def _describe(self, outcome: Outcome) -> None:
        """Every file-level problem is kept (a monitor must know each file it could not
        read); skipped records only up to `RUN_LISTED_RECORDS` in a run, the rest counted."""
        self.unlisted += outcome.unlisted
        for problem in outcome.problems:
            if problem.record is None:
                self.problems.append(problem)
            elif self.listed_records < RUN_LISTED_RECORDS:
                self.problems.append(problem)
                self.listed_records += 1
            else:
                self.unlisted += 1

    def flush(self) -> None:
        self.wait()
        if self.pending:
            self.saving = (self.saver.submit(self.store.save, self.pending), self.pending)
        self.pending = []
        self.pending_rows = 0

    def wait(self) -> None:
        if self.saving is not None:
            (saving, batches), self.saving = self.saving, None
            try:
                saving.result()
            finally:
                discard(batches)


def ingest(
    sources: Sequence[UsageSource],
    store: UsageWriter,
    window: TimeWindow,
    *,
    interpreter: InterpreterFactory = default_interpreter,
    strict: bool = False,
    workers: int = DEFAULT_WORKERS,
    flush_rows: int = FLUSH_ROWS,
    limits: ReadLimits = DEFAULT_LIMITS,
    on_start: Callable[[int, int], None] | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Bring the store up to date with every batch of `sources` in `window`.

    `limits` bound what one file and one record may hold: a file over them is refused with
    a file-level problem, without being held, and such a record skipped.

    `on_start(batches, bytes)` is called once with what is to be read (after the worker
    processes are forked: a progress display may start threads then), `on_progress(bytes,
    events)` after each batch. In strict mode the first problem raises `UsageError`; batches
    saved before it stay saved (each is complete and correct).
    """
    listed, problems = _list(sources, window, strict)
    known = store.versions([batch.key for _, batch in listed])
    todo = [(s, b) for s, b in listed if known.get(b.key) != b.version]
    log.info("%d batches listed, %d new or changed", len(listed), len(todo))

    def ready() -> None:
        if on_start is not None:
            on_start(len(todo), sum(b.size for _, b in todo))

    with (
        run_spool(store, workers, flush_rows) as spool,
        ThreadPoolExecutor(1, thread_name_prefix="alpha-usage-save") as saver,
    ):
        run = _Run(store, flush_rows, saver, problems=problems)
        done_bytes = 0
        job = TallyJob(interpreter, strict, spool, limits)
        found = _outcomes(todo, job, workers, ready)
        try:
            for (_, batch), outcome in found:
                run.take(batch, outcome)
                done_bytes += batch.size
                if on_progress is not None:
                    on_progress(done_bytes, run.events_read)
            run.flush()
        finally:
            found.close()  # the worker processes are gone before their spool folder is
            run.wait()
    return IngestReport(
        keys=tuple(batch.key for _, batch in listed),
        batches_read=run.batches_read,
        events_read=run.events_read,
        problems=tuple(run.problems),
        failed=frozenset(run.failed),
        unlisted=run.unlisted,
    )


def summarize(stored: StoredSummary, report: IngestReport) -> UsageSummary:
    """The summary of a report: the stored batches' counts, plus the files this run could not
    read at all (those are never stored, so they are counted from the run)."""
    failed: dict[str, int] = {}
    for problem in report.failed_files():
        failed[problem.reason] = failed.get(problem.reason, 0) + 1
    return UsageSummary(
        files=len(report.keys),
        events=stored.events,
        events_read=report.events_read,
        skipped=merge_counts([stored.skipped, failed]),
        unmapped=stored.unmapped,
    )


def _list(
    sources: Sequence[UsageSource], window: TimeWindow, strict: bool
) -> tuple[list[_Item], list[ReadProblem]]:
    listed: dict[str, _Item] = {}
    problems: list[ReadProblem] = []
    for source in sources:
        found = 0
        for batch in source.batches(window):
            found += 1
            listed.setdefault(batch.key, (source, batch))
        if not found:
            problem = ReadProblem(source.name, SkipReason.NO_LOG_FILES, "no log file found")
            if strict:
                raise UsageError(problem.describe())
            problems.append(problem)
    return list(listed.values()), problems


def _outcomes(
    todo: list[_Item],
    job: TallyJob,
    workers: int,
    ready: Callable[[], None],
) -> Generator[tuple[_Item, Outcome]]:
    if workers <= 1 or len(todo) <= 1:
        local = replace(job, spool=None)  # this process is the worker: rows stay in memory
        ready()
        for item, data in _read_ahead(todo, job):
            if isinstance(data, Outcome):
                yield item, data
            elif data is None:
                yield item, read_and_tally(local, *item)
            else:
                yield item, tally(local, item[1].key, data)
        return
    # Workers are forked after the interpreter is built here, so they inherit it (and the
    # catalog) instead of each loading it again; `spawn` platforms build it in the worker.
    worker_state(job.interpreter, job.strict, job.limits)
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        # The first submit forks every worker: do it now, before any thread of ours exists
        # (readers, saver, a progress display), so no child inherits a lock held by one of them
        # (a child would hang flushing stderr at exit if a thread was writing to it).
        pool.submit(warm, job).result()
        ready()
        limit = workers * _IN_FLIGHT_PER_WORKER
        yield from _bounded(pool, todo, job, limit)


# One task's batches and what they became: outcomes, or the task computing them.
_Task = tuple[tuple[_Item, ...], "Future[Outcome] | Future[list[Outcome]] | list[Outcome]"]


def _bounded(
    pool: Executor,
    todo: list[_Item],
    job: TallyJob,
    limit: int,
) -> Iterator[tuple[_Item, Outcome]]:
    """Results in listing order, with at most `limit` tasks submitted and not yet taken.
    Batches a worker reads itself go `_CHUNK` to a task: each task is a round trip through
    the pool's queues and threads, which cost more than the file a task is about."""
    tasks: deque[_Task] = deque()
    chunk: list[_Item] = []
    try:
        for item, data in _read_ahead(todo, job):
            if data is None:  # the worker reads it
                chunk.append(item)
                if len(chunk) < _CHUNK:
                    continue
            if chunk:
                tasks.append((tuple(chunk), pool.submit(read_and_tally_each, job, chunk)))
                chunk = []
            if isinstance(data, Outcome):
                tasks.append(((item,), [data]))
            elif data is not None:
                tasks.append(((item,), pool.submit(tally, job, item[1].key, data)))
            while len(tasks) >= limit:
                yield from _resolved(tasks.popleft())
        if chunk:
            tasks.append((tuple(chunk), pool.submit(read_and_tally_each, job, chunk)))
        while tasks:
            yield from _resolved(tasks.popleft())
    finally:
        for _, pending in tasks:
            if isinstance(pending, Future):
                pending.cancel()


def _resolved(task: _Task) -> Iterator[tuple[_Item, Outcome]]:
    items, pending = task
    found = pending.result() if isinstance(pending, Future) else pending
    outcomes = found if isinstance(found, list) else [found]
    yield from zip(items, outcomes, strict=True)


_Read = Future[bytes] | Future[Outcome] | Outcome | None


def _read_ahead(
    todo: Iterable[_Item], job: TallyJob, depth: int = 4
) -> Iterator[tuple[_Item, bytes | Outcome | None]]:
    """Each batch's bytes (or the unreadable outcome), read by a few threads ahead of use:
    a remote source's reads overlap instead of queueing behind each other. None for a batch
    of a `WorkerReadableSource`: the worker reads it (no bytes through the pipe). A batch
    listed as over the size limit is refused unread."""
    with ThreadPoolExecutor(depth) as readers:
        queue: deque[tuple[_Item, _Read]] = deque()
        for item in todo:
            queue.append((item, _start_read(readers, item, job)))
            if len(queue) > depth:
                yield _read_result(*queue.popleft(), job.strict)
        while queue:
            yield _read_result(*queue.popleft(), job.strict)


def _start_read(readers: Executor, item: _Item, job: TallyJob) -> _Read:
    source, batch = item
    if isinstance(source, WorkerReadableSource):
        return None
    if isinstance(source, TalliedSource):
        return readers.submit(_tallied, source, batch)
    return oversized(batch, job.limits, job.strict) or readers.submit(source.read, batch)


def _tallied(source: TalliedSource, batch: LogBatch) -> Outcome:
    """A counted batch's outcome: its usage as the source gives it, nothing to tally."""
    return Outcome(source.tallied(batch), ())


def _read_result(item: _Item, future: _Read, strict: bool) -> tuple[_Item, bytes | Outcome | None]:
    if future is None or isinstance(future, Outcome):
        return item, future
    try:
        return item, future.result()
    except (OSError, UsageError) as exc:
        return item, unreadable(item[1], exc, strict)
