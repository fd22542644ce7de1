"""The ingest's per-batch work, as a worker process does it: read, decode, interpret, tally.

Each process builds its reader and interpreter once (`worker_state`) and reuses them for every
batch. A batch comes back as an `Outcome`: its compact `BatchUsage`, or the problem that made
it unreadable. Given a spool folder, a worker leaves the batch's rows in files there
(`RowFile`) and sends back only their paths: a million rows then never cross the pipe to the
parent, which would read and copy them only to write them out again for the store.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from alpha.usage.aggregate import BatchUsage, RowFile
from alpha.usage.errors import UsageError
from alpha.usage.events import CloudTrailEvent
from alpha.usage.fast_tally import FastTally
from alpha.usage.interpret import Interpretation, SkippedEvent, interpret
from alpha.usage.mapping import EventMapper
from alpha.usage.native import NativeFile, native_module
from alpha.usage.ports import LogBatch, UsageSource
from alpha.usage.reader import (
    DEFAULT_LIMITS,
    LazyLogReader,
    LogReader,
    ReadLimits,
    ReadProblem,
    SkipReason,
    Skips,
    too_large,
)
from alpha.usage.tally import BatchTally

Interpreter = Callable[[CloudTrailEvent], Interpretation]
InterpreterFactory = Callable[[], Interpreter]


class MapperInterpreter:
    """`interpret` with one mapper. The ingest recognises it and takes its fast path
    (`alpha.usage.fast_tally`), which counts the same; any other interpreter sees every event."""

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
class TallyJob:
    """How a run's batches are tallied, as sent to each worker with every batch: the
    interpreter, whether the run is strict, where to spool rows (None: in memory), and the
    most a file and a record may hold."""

    interpreter: InterpreterFactory
    strict: bool = False
    spool: str | None = None
    limits: ReadLimits = DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class Outcome:
    """One batch's result from a worker: its usage, or None when the file was unreadable; the
    problems described, and how many more records were skipped without being described."""

    usage: BatchUsage | None
    problems: tuple[ReadProblem, ...]
    unlisted: int = 0


def unreadable(batch: LogBatch, exc: OSError | UsageError, strict: bool) -> Outcome:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    problem = ReadProblem(batch.key, SkipReason.UNREADABLE, detail)
    if strict:
        raise UsageError(problem.describe()) from exc
    return Outcome(None, (problem,))


def oversized(batch: LogBatch, limits: ReadLimits, strict: bool) -> Outcome | None:
    """A batch listed as larger than a file may be, refused before it is read (reading it
    would hold it all); None for any other."""
    if batch.size <= limits.file_bytes:
        return None
    problem = too_large(batch.key, batch.size, limits.file_bytes)
    if strict:
        raise UsageError(problem.describe())
    return Outcome(None, (problem,))


def read_and_tally(job: TallyJob, source: UsageSource, batch: LogBatch) -> Outcome:
    """Read one batch and tally it. Runs in a worker process."""
    refused = oversized(batch, job.limits, job.strict)
    if refused is not None:
        return refused
    try:
        data = source.read(batch)
    except (OSError, UsageError) as exc:
        return unreadable(batch, exc, job.strict)
    return tally(job, batch.key, data)


def read_and_tally_each(
    job: TallyJob, items: Sequence[tuple[UsageSource, LogBatch]]
) -> list[Outcome]:
    """`read_and_tally` for several batches, in order. Runs in a worker process."""
    return [read_and_tally(job, source, batch) for source, batch in items]


@dataclass(frozen=True, slots=True)
class Worker:
    """What a process needs to tally batches, built once: the eager reader and interpreter,
    and the fast path when the interpreter is ALPHA's own and the run is not strict (strict
    runs name the failing event, which the fast path's lighter records do not carry)."""

    reader: LogReader
    interpret: Interpreter
    fast: tuple[LazyLogReader, FastTally] | None
    native: NativeFile | None


@cache
def worker_state(
    interpreter: InterpreterFactory, strict: bool, limits: ReadLimits = DEFAULT_LIMITS
) -> Worker:
    """One per process (built once, then reused for every batch)."""
    interpret_event = interpreter()
    fast = native = None
    if isinstance(interpret_event, MapperInterpreter) and not strict:
        fast = (LazyLogReader(limits=limits), FastTally(interpret_event.mapper))
        module = native_module()
        if module is not None:
            native = NativeFile(module, interpret_event.mapper, limits=limits)
    return Worker(LogReader(strict=strict, limits=limits), interpret_event, fast, native)


def warm(job: TallyJob) -> None:
    worker_state(job.interpreter, job.strict, job.limits)


def tally(job: TallyJob, key: str, data: bytes) -> Outcome:
    """Decode, interpret and tally one batch; its rows spooled to files when the job says."""
    worker = worker_state(job.interpreter, job.strict, job.limits)
    # The decoded records hold no reference cycles; the cyclic GC would only re-scan millions
    # of fresh objects (it doubles the decoding time), so it is paused for the batch.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return spooled(_tally_with(worker, job.strict, key, data), job.spool)
    finally:
        if gc_was_enabled:
            gc.enable()


def spooled(outcome: Outcome, spool: str | None) -> Outcome:
    """The outcome with its rows and source IPs moved into files under `spool` (the batch's
    other counts stay in it: they are small). Unchanged when `spool` is None."""
    usage = outcome.usage
    if spool is None or usage is None:
        return outcome
    return replace(
        outcome,
        usage=replace(
            usage,
            rows=_spool_file(spool, usage.rows),
            source_ips=_spool_file(spool, usage.source_ips),
        ),
    )


def _spool_file(spool: str, data: bytes | RowFile) -> bytes | RowFile:
    if not isinstance(data, bytes) or not data:
        return data
    try:
        handle, path = tempfile.mkstemp(suffix=".ndjson", dir=spool)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise UsageError(f"{spool}: cannot write rows for the store: {exc.strerror}") from exc
    return RowFile(path)


def _tally_with(worker: Worker, strict: bool, key: str, data: bytes) -> Outcome:
    if worker.native is not None:
        found = worker.native.tally(data, key)
        if found is not None:
            return Outcome(*found)
    if worker.fast is not None:
        return tally_fast(*worker.fast, key, data)
    return _tally_each(worker, strict, key, data)


def tally_fast(reader: LazyLogReader, fast: FastTally, key: str, data: bytes) -> Outcome:
    decoded = reader.decode(data, key)
    if decoded.format is None:
        return Outcome(None, decoded.problems)
    counted = _with_skips(decoded.skips)
    bad = fast.add_all(decoded.events, counted)
    if not bad:
        return Outcome(counted.finish(), decoded.problems, decoded.skips.unlisted)
    indexes = decoded.event_indexes()
    found = (ReadProblem(key, b.reason, b.detail, indexes[b.position]) for b in bad)
    # the first described in record order, as the native path describes them
    problems = sorted((*decoded.problems, *found), key=lambda p: p.record or 0)
    listed = problems[: reader.limits.listed_problems]
    unlisted = decoded.skips.unlisted + len(problems) - len(listed)
    return Outcome(counted.finish(), tuple(listed), unlisted)


def _tally_each(worker: Worker, strict: bool, key: str, data: bytes) -> Outcome:
    decoded = worker.reader.decode(data, key)
    if decoded.format is None:
        return Outcome(None, decoded.problems)
    counted = _with_skips(decoded.skips)
    for index, event in enumerate(decoded.events):
        outcome = worker.interpret(event)
        if strict and isinstance(outcome, SkippedEvent):
            where = event.eventID or f"record {index}"
            raise UsageError(f"{key}: {where}: {outcome.reason}")
        counted.add(outcome)
    return Outcome(counted.finish(), decoded.problems, decoded.skips.unlisted)


def _with_skips(skips: Skips) -> BatchTally:
    """A tally that starts with the file's skipped records, counted by reason."""
    counted = BatchTally()
    for reason, count in skips.by_reason:
        counted.events += count
        counted.skip(reason, count)
    return counted
