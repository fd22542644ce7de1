"""Read new log batches from usage sources into a usage store: streaming, bounded, parallel.

The parent process lists the batches, asks the store which it already holds (same key and
version: skipped), reads the bytes of the others and hands them to worker processes. A worker
decodes, interprets and tallies one batch and sends back only its compact `BatchUsage`; the
parent saves those in groups, each group in one transaction. At most a few batches are in flight
and a group is flushed once it holds `flush_rows` rows, so memory stays flat whatever the input.

A file that cannot be read at all is reported in this run's problems and not stored, so it is
tried again next run and whatever an earlier version of it stored stays untouched. Records
skipped inside a readable file are stored with that file's counts.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

from alpha.usage.aggregate import (
    BatchTally,
    BatchUsage,
    StoredBatch,
    StoredSummary,
    UsageSummary,
    merge_counts,
)
from alpha.usage.errors import UsageError
from alpha.usage.events import CloudTrailEvent
from alpha.usage.hot import FastTally
from alpha.usage.interpret import Interpretation, SkippedEvent, interpret
from alpha.usage.mapping import EventMapper
from alpha.usage.native import NativeFile, native_module
from alpha.usage.ports import (
    LogBatch,
    TimeWindow,
    UsageSource,
    UsageStore,
    WorkerReadableSource,
)
from alpha.usage.reader import LazyLogReader, LogReader, ReadProblem, SkipReason

log = logging.getLogger(__name__)

Interpreter = Callable[[CloudTrailEvent], Interpretation]
InterpreterFactory = Callable[[], Interpreter]
Progress = Callable[[int, int], None]  # (bytes done, events done)

DEFAULT_WORKERS = 2
FLUSH_ROWS = 250_000
# Each batch's rows reach the store as one file; many tiny batches are saved in bounded groups.
FLUSH_BATCHES = 2_000
_IN_FLIGHT_PER_WORKER = 3


class MapperInterpreter:
    """`interpret` with one mapper. The ingest recognises it and takes its fast path
    (`alpha.usage.hot`), which counts the same; any other interpreter sees every event."""

    __slots__ = ("mapper",)

    def __init__(self, mapper: EventMapper) -> None:
        self.mapper = mapper

    def __call__(self, event: CloudTrailEvent) -> Interpretation:
        return interpret(event, self.mapper)


def default_interpreter() -> Interpreter:
    """ALPHA's interpretation with the bundled IAM catalog and mapping table."""
    from alpha.catalog import load_catalog
    from alpha.usage.mapping import load_mapping_table

    return MapperInterpreter(EventMapper(load_catalog(), load_mapping_table()))


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What this run did: batches listed and read, records read, problems met."""

    keys: tuple[str, ...]
    batches_read: int
    events_read: int
    problems: tuple[ReadProblem, ...]
    failed: frozenset[str] = field(default_factory=frozenset)

    def failed_files(self) -> tuple[ReadProblem, ...]:
        return tuple(p for p in self.problems if p.record is None)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One batch's result from a worker: its usage, or None when the file was unreadable."""

    usage: BatchUsage | None
    problems: tuple[ReadProblem, ...]


@dataclass(slots=True)
class _Run:
    """The parent's side of a run: collects outcomes, saves them in groups.

    Saving runs in one background thread (DuckDB releases the GIL while it loads), so the
    parent keeps feeding the workers meanwhile; at most one group waits to be saved."""

    store: UsageStore
    flush_rows: int
    saver: ThreadPoolExecutor
    saving: Future[None] | None = None
    pending: list[StoredBatch] = field(default_factory=list)
    pending_rows: int = 0
    batches_read: int = 0
    events_read: int = 0
    problems: list[ReadProblem] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)

    def take(self, batch: LogBatch, outcome: _Outcome) -> None:
        self.batches_read += 1
        self.problems.extend(outcome.problems)
        if outcome.usage is None:
            self.failed.add(batch.key)
            return
        self.events_read += outcome.usage.events
        self.pending.append(StoredBatch(batch.key, batch.version, batch.size, outcome.usage))
        self.pending_rows += outcome.usage.row_count
        if self.pending_rows >= self.flush_rows or len(self.pending) >= FLUSH_BATCHES:
            self.flush()

    def flush(self) -> None:
        self.wait()
        if self.pending:
            self.saving = self.saver.submit(self.store.save, self.pending)
        self.pending = []
        self.pending_rows = 0

    def wait(self) -> None:
        if self.saving is not None:
            saving, self.saving = self.saving, None
            saving.result()


def ingest(
    sources: Sequence[UsageSource],
    store: UsageStore,
    window: TimeWindow,
    *,
    interpreter: InterpreterFactory = default_interpreter,
    strict: bool = False,
    workers: int = DEFAULT_WORKERS,
    flush_rows: int = FLUSH_ROWS,
    on_start: Callable[[int, int], None] | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Bring the store up to date with every batch of `sources` in `window`.

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

    with ThreadPoolExecutor(1, thread_name_prefix="alpha-usage-save") as saver:
        run = _Run(store, flush_rows, saver, problems=problems)
        done_bytes = 0
        try:
            for (_, batch), outcome in _outcomes(todo, interpreter, strict, workers, ready):
                run.take(batch, outcome)
                done_bytes += batch.size
                if on_progress is not None:
                    on_progress(done_bytes, run.events_read)
            run.flush()
        finally:
            run.wait()
    return IngestReport(
        keys=tuple(batch.key for _, batch in listed),
        batches_read=run.batches_read,
        events_read=run.events_read,
        problems=tuple(run.problems),
        failed=frozenset(run.failed),
    )


def summarize(stored: StoredSummary, report: IngestReport) -> UsageSummary:
    """The summary of a report: the stored batches' counts, plus the files this run could not
    read at all (those are never stored, so they are counted from the run)."""
    unreadable: dict[str, int] = {}
    for problem in report.failed_files():
        unreadable[problem.reason] = unreadable.get(problem.reason, 0) + 1
    return UsageSummary(
        files=len(report.keys),
        events=stored.events,
        events_read=report.events_read,
        skipped=merge_counts([stored.skipped, unreadable]),
        unmapped=stored.unmapped,
    )


def _list(
    sources: Sequence[UsageSource], window: TimeWindow, strict: bool
) -> tuple[list[tuple[UsageSource, LogBatch]], list[ReadProblem]]:
    listed: dict[str, tuple[UsageSource, LogBatch]] = {}
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
    todo: list[tuple[UsageSource, LogBatch]],
    interpreter: InterpreterFactory,
    strict: bool,
    workers: int,
    ready: Callable[[], None],
) -> Iterator[tuple[tuple[UsageSource, LogBatch], _Outcome]]:
    if workers <= 1 or len(todo) <= 1:
        ready()
        for item, data in _read_ahead(todo, strict):
            if isinstance(data, _Outcome):
                yield item, data
            elif data is None:
                yield item, _read_and_tally(interpreter, strict, *item)
            else:
                yield item, _tally(interpreter, strict, item[1].key, data)
        return
    # Workers are forked after the interpreter is built here, so they inherit it (and the
    # catalog) instead of each loading it again; `spawn` platforms build it in the worker.
    _worker_state(interpreter, strict)
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        # The first submit forks every worker: do it now, before any thread of ours exists
        # (readers, saver, a progress display), so no child inherits a lock held by one of them
        # (a child would hang flushing stderr at exit if a thread was writing to it).
        pool.submit(_warm, interpreter, strict).result()
        ready()
        yield from _bounded(pool, todo, interpreter, strict, workers * _IN_FLIGHT_PER_WORKER)


def _bounded(
    pool: Executor,
    todo: list[tuple[UsageSource, LogBatch]],
    interpreter: InterpreterFactory,
    strict: bool,
    limit: int,
) -> Iterator[tuple[tuple[UsageSource, LogBatch], _Outcome]]:
    """Results in listing order, with at most `limit` batches submitted and not yet taken."""
    in_flight: deque[tuple[tuple[UsageSource, LogBatch], Future[_Outcome] | _Outcome]] = deque()
    try:
        for item, data in _read_ahead(todo, strict):
            if isinstance(data, _Outcome):
                in_flight.append((item, data))
            elif data is None:  # the worker reads it
                future = pool.submit(_read_and_tally, interpreter, strict, *item)
                in_flight.append((item, future))
            else:
                future = pool.submit(_tally, interpreter, strict, item[1].key, data)
                in_flight.append((item, future))
            if len(in_flight) >= limit:
                yield _resolved(in_flight.popleft())
        while in_flight:
            yield _resolved(in_flight.popleft())
    finally:
        for _, pending in in_flight:
            if isinstance(pending, Future):
                pending.cancel()


def _resolved(
    entry: tuple[tuple[UsageSource, LogBatch], Future[_Outcome] | _Outcome],
) -> tuple[tuple[UsageSource, LogBatch], _Outcome]:
    item, pending = entry
    return item, pending.result() if isinstance(pending, Future) else pending


def _read_ahead(
    todo: Iterable[tuple[UsageSource, LogBatch]], strict: bool, depth: int = 4
) -> Iterator[tuple[tuple[UsageSource, LogBatch], bytes | _Outcome | None]]:
    """Each batch's bytes (or the unreadable outcome), read by a few threads ahead of use:
    a remote source's reads overlap instead of queueing behind each other. None for a batch
    of a `WorkerReadableSource`: the worker reads it (no bytes through the pipe)."""
    with ThreadPoolExecutor(depth) as readers:
        queue: deque[tuple[tuple[UsageSource, LogBatch], Future[bytes] | None]] = deque()
        for item in todo:
            worker_reads = isinstance(item[0], WorkerReadableSource)
            queue.append((item, None if worker_reads else readers.submit(item[0].read, item[1])))
            if len(queue) > depth:
                yield _read_result(*queue.popleft(), strict)
        while queue:
            yield _read_result(*queue.popleft(), strict)


def _read_result(
    item: tuple[UsageSource, LogBatch], future: Future[bytes] | None, strict: bool
) -> tuple[tuple[UsageSource, LogBatch], bytes | _Outcome | None]:
    if future is None:
        return item, None
    try:
        return item, future.result()
    except (OSError, UsageError) as exc:
        return item, _unreadable(item[1], exc, strict)


def _unreadable(batch: LogBatch, exc: OSError | UsageError, strict: bool) -> _Outcome:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    problem = ReadProblem(batch.key, SkipReason.UNREADABLE, detail)
    if strict:
        raise UsageError(problem.describe()) from exc
    return _Outcome(None, (problem,))


def _read_and_tally(
    interpreter: InterpreterFactory, strict: bool, source: UsageSource, batch: LogBatch
) -> _Outcome:
    """Read one batch and tally it. Runs in a worker process."""
    try:
        data = source.read(batch)
    except (OSError, UsageError) as exc:
        return _unreadable(batch, exc, strict)
    return _tally(interpreter, strict, batch.key, data)


@dataclass(frozen=True, slots=True)
class _Worker:
    """What a process needs to tally batches, built once: the eager reader and interpreter,
    and the fast path when the interpreter is ALPHA's own and the run is not strict (strict
    runs name the failing event, which the fast path's lighter records do not carry)."""

    reader: LogReader
    interpret: Interpreter
    fast: tuple[LazyLogReader, FastTally] | None
    native: NativeFile | None


@cache
def _worker_state(interpreter: InterpreterFactory, strict: bool) -> _Worker:
    """One per process (built once, then reused for every batch)."""
    interpret_event = interpreter()
    fast = native = None
    if isinstance(interpret_event, MapperInterpreter) and not strict:
        fast = (LazyLogReader(), FastTally(interpret_event.mapper))
        module = native_module()
        if module is not None:
            native = NativeFile(module, interpret_event.mapper)
    return _Worker(LogReader(strict=strict), interpret_event, fast, native)


def _warm(interpreter: InterpreterFactory, strict: bool) -> None:
    _worker_state(interpreter, strict)


def _tally(interpreter: InterpreterFactory, strict: bool, key: str, data: bytes) -> _Outcome:
    """Decode, interpret and tally one batch. Runs in a worker process."""
    worker = _worker_state(interpreter, strict)
    # The decoded records hold no reference cycles; the cyclic GC would only re-scan millions
    # of fresh objects (it doubles the decoding time), so it is paused for the batch.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if worker.native is not None:
            found = worker.native.tally(data, key)
            if found is not None:
                return _Outcome(*found)
        if worker.fast is not None:
            return _tally_fast(*worker.fast, key, data)
        return _tally_each(worker, strict, key, data)
    finally:
        if gc_was_enabled:
            gc.enable()


def _tally_fast(reader: LazyLogReader, fast: FastTally, key: str, data: bytes) -> _Outcome:
    decoded = reader.decode(data, key)
    if decoded.format is None:
        return _Outcome(None, decoded.problems)
    tally = _with_problems(decoded.problems)
    bad = fast.add_all(decoded.events, tally)
    if not bad:
        return _Outcome(tally.finish(), decoded.problems)
    indexes = decoded.event_indexes()
    found = (ReadProblem(key, b.reason, b.detail, indexes[b.position]) for b in bad)
    return _Outcome(tally.finish(), (*decoded.problems, *found))


def _tally_each(worker: _Worker, strict: bool, key: str, data: bytes) -> _Outcome:
    decoded = worker.reader.decode(data, key)
    if decoded.format is None:
        return _Outcome(None, decoded.problems)
    tally = _with_problems(decoded.problems)
    for index, event in enumerate(decoded.events):
        outcome = worker.interpret(event)
        if strict and isinstance(outcome, SkippedEvent):
            where = event.eventID or f"record {index}"
            raise UsageError(f"{key}: {where}: {outcome.reason}")
        tally.add(outcome)
    return _Outcome(tally.finish(), decoded.problems)


def _with_problems(problems: Iterable[ReadProblem]) -> BatchTally:
    tally = BatchTally()
    for problem in problems:
        tally.events += 1
        tally.skip(problem.reason)
    return tally
