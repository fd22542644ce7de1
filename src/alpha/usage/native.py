"""The ingest's compiled fast path: one log file's records tallied in C.

`alpha.usage._native` (built from `csrc/` when the package is installed) walks a
`{"Records": [...]}` document in place and tallies each record on `FastTally`'s common path
without making a Python object for it. It decides nothing about what an event means: it asks a
`NativeResolver` (this module, over the same `EventMapper`) once per distinct event name,
identity, error code and (action, resource type), and keeps the answers. Every other record is
handed back, in file order, to `FastTally` and `interpret`, which count it into the same tally.
So the counts are exactly those of the Python path (tests compare the two on every sample).

A document the C scanner does not accept whole (another layout, a syntax error anywhere,
invalid UTF-8, ...) is left to the Python reader, which reports its problems as before. A file
refused whole (corrupt gzip, over the size limit) is refused here as the reader would refuse it,
and a record over the reader's size limit is handed back for the reader to skip.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

import msgspec

from alpha.usage.aggregate import BatchUsage, UnmappedCount
from alpha.usage.denials import ErrorKind, classify_error
from alpha.usage.events import (
    CloudTrailEvent,
    OnBehalfOf,
    SessionContext,
    SessionIssuer,
    UserIdentity,
)
from alpha.usage.fast_tally import FastTally
from alpha.usage.interpret import (
    Interpretation,
    action_uses,
)
from alpha.usage.mapping import EventMapper, Mapped, NotAnAction, VersionedMapping
from alpha.usage.principals import principal_of
from alpha.usage.read_problems import HopelessFileError, SkippedRecords
from alpha.usage.reader import (
    DEFAULT_LIMITS,
    LazyLogReader,
    ReadLimits,
    ReadProblem,
    gunzip,
    inflated,
)
from alpha.usage.tally import count_outcome

if TYPE_CHECKING:
    from alpha.usage._native import Finished, Tally

    class NativeCounter(Tally):
        """What `_tally_type` makes: the C tally with `add`, a `UsageCounter`."""

        def add(self, outcome: Interpretation, /) -> None: ...


_ERROR_KINDS = {
    ErrorKind.NONE: 0,
    ErrorKind.DENIED: 1,
    ErrorKind.UNAUTHENTICATED: 2,
    ErrorKind.OTHER: 3,
}
_LIMIT_NAMES = ("memo_limit", "request_memo_limit")
# Plan answers' per-action modes (see csrc/scanner.h)
_TAKES_NOTHING, _FROM_RESOURCES, _BY_REQUEST = 0, 1, 2

PlanAnswer = tuple[str] | tuple[str, str] | tuple[str, bool, tuple[tuple[str, int], ...]] | None


def native_module() -> ModuleType | None:
    """The compiled module, or None when the package was installed without it."""
    try:
        from alpha.usage import _native
    except ImportError:
        return None
    return _native


def libdeflate() -> str | None:
    """The shared object that gives libdeflate to the C `Inflater`: the `deflate` wheel's
    extension module, which links libdeflate in and exports its functions (so no system
    library is needed); None without that package (isal then gunzips everything)."""
    try:
        from deflate import _deflate
    except ImportError:
        return None
    return _deflate.__file__


class NativeResolver:
    """Answers the C scanner's questions with `mapper`, as `FastTally` would decide."""

    __slots__ = ("_mapper",)

    def __init__(self, mapper: EventMapper) -> None:
        self._mapper = mapper

    def plan(self, event_type: str | None, source: str, name: str) -> PlanAnswer:
        mapping = self._mapper.map_without_request(event_type, source, name)
        if mapping is None:
            return None
        if isinstance(mapping, NotAnAction):
            return ("skip", mapping.reason)
        versioned = isinstance(mapping, VersionedMapping)
        if isinstance(mapping, VersionedMapping):
            mapping = mapping.plain
        if not isinstance(mapping, Mapped):
            return None  # unmapped: handed back, `interpret` counts it and the activity
        modes = tuple((m.action, self._mode(m.action, m.resource)) for m in mapping.actions)
        return ("mapped", versioned, modes)

    def principal(  # noqa: PLR0917 - the C scanner calls it with positional arguments
        self,
        kind: str | None,
        arn: str | None,
        issuer_arn: str | None,
        account_id: str | None,
        user_name: str | None,
        source_identity: str | None = None,
        behalf_user: str | None = None,
    ) -> tuple[str, str | None] | None:
        context = None
        if issuer_arn or source_identity:
            issuer = SessionIssuer(arn=issuer_arn) if issuer_arn else None
            context = SessionContext(issuer, sourceIdentity=source_identity)
        identity = UserIdentity(
            type=kind,
            arn=arn,
            accountId=account_id,
            userName=user_name,
            sessionContext=context,
            onBehalfOf=OnBehalfOf(userId=behalf_user) if behalf_user else None,
        )
        found = principal_of(identity)
        return None if found is None else (found.arn, found.session)

    def error(self, code: str, message: str | None) -> int:
        return _ERROR_KINDS[classify_error(code, message)]

    def takes(self, action: str, resource_type: str | None) -> bool | None:
        return self._mapper.resources.takes_type(action, resource_type)

    def uses(self, record: bytes) -> tuple[tuple[str, str], ...] | None:
        """The (action, resource) pairs of a mapped record whose resources depend on its
        request, as `interpret` finds them; None when it is not such a record."""
        try:
            event = _event_decoder().decode(record)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return None
        mapping = self._mapper.map(event)
        if not isinstance(mapping, Mapped):
            return None
        found = action_uses(mapping, event, self._mapper.resources)
        return tuple((use.action, use.resource) for use in found)

    def _mode(self, action: str, role: str) -> int:
        if self._mapper.resources.takes_nothing(action):
            return _TAKES_NOTHING
        return _BY_REQUEST if role else _FROM_RESOURCES


class NativeFile:
    """Tallies whole log files through the C scanner; one per worker process."""

    def __init__(
        self,
        module: ModuleType,
        mapper: EventMapper,
        *,
        limits: ReadLimits = DEFAULT_LIMITS,
        memo_limits: tuple[int, int] | None = None,
        library: str | None = None,
    ) -> None:
        """`limits` are the reader's. `memo_limits` (distinct keys
        per memo, then per request memo) are for tests: tiny ones make the scanner forget and
        ask again all the time. `library` names the shared object that gives libdeflate,
        `libdeflate()`'s by default (tests: a missing one leaves isal to gunzip)."""
        memos = {} if memo_limits is None else dict(zip(_LIMIT_NAMES, memo_limits, strict=True))
        self._limits = limits
        self._scanner = module.Scanner(
            NativeResolver(mapper), record_limit=self._limits.record_bytes, **memos
        )
        self._inflater = module.Inflater(libdeflate() if library is None else library)
        self._reader = LazyLogReader(limits=self._limits)
        self._fast = FastTally(mapper)
        self._tally_type = _tally_type(module)

    def tally(
        self, data: bytes, file: str
    ) -> tuple[BatchUsage | None, tuple[ReadProblem, ...], int] | None:
        """The file's usage, the skipped records described and how many more there were (no
        usage: the file is refused whole, its problem as the Python reader says it); None
        when the Python reader must read it."""
        opened = inflated(data, file, self._limits.file_bytes, self._gunzip)
        if isinstance(opened, ReadProblem):
            return None, (opened,), 0
        data = opened
        tally = self._tally_type()
        skipped = SkippedRecords(file, self._limits)
        fallback = _Fallback(self._reader, self._fast, tally, data, skipped)
        try:
            records = self._scanner.scan(data, tally, fallback)
        except HopelessFileError:
            return None, (skipped.file_problem(),), 0
        if records < 0:
            return None
        if skipped and len(skipped) == records:
            return None  # not one CloudTrail record: the Python reader says so for the file
        found = skipped.finish()
        return _usage(tally.finish()), found.listed, found.unlisted

    def _gunzip(self, data: bytes, limit: int) -> bytes:
        fast = self._inflater.gunzip(data, limit)  # libdeflate, when it can say
        return gunzip(data, limit) if fast is None else fast


class _Fallback:
    """Counts a record the scanner hands back, through the reader and `FastTally`; gives the
    file up (`HopelessFileError`) once its first records are all bad."""

    __slots__ = ("_data", "_fast", "_reader", "_skipped", "_tally")

    def __init__(
        self,
        reader: LazyLogReader,
        fast: FastTally,
        tally: NativeCounter,
        data: bytes,
        skipped: SkippedRecords,
    ) -> None:
        self._reader = reader
        self._fast = fast
        self._tally = tally
        self._data = memoryview(data)
        self._skipped = skipped

    def __call__(self, index: int, start: int, end: int) -> None:
        skipped = self._skipped
        found = self._reader.record(self._data[start:end], skipped.file, index)
        if isinstance(found, ReadProblem):
            skipped.add(found)
            self._tally.events += 1
            self._tally.skip(found.reason)
        else:
            bad = self._fast.add_all((found,), self._tally)
            for b in bad:
                skipped.add(ReadProblem(skipped.file, b.reason, b.detail, index))
        if skipped.hopeless(index):
            raise HopelessFileError


@cache
def _event_decoder() -> msgspec.json.Decoder[CloudTrailEvent]:
    return msgspec.json.Decoder(CloudTrailEvent)


@cache
def _tally_type(module: ModuleType) -> type[NativeCounter]:
    """The native tally, also taking `interpret`'s outcomes (`add`) as `BatchTally` does."""
    base: type[Tally] = module.Tally

    class NativeTally(base):  # type: ignore[valid-type,misc]
        __slots__ = ()

        def add(self, outcome: Interpretation) -> None:
            count_outcome(self, outcome)

    return NativeTally


def _usage(finished: Finished) -> BatchUsage:
    unmapped = sorted(finished.unmapped.items())
    decode = _names_decoder().decode  # sorted, as the Python tally lists them
    return BatchUsage(
        events=finished.events,
        rows=finished.rows,
        row_count=finished.row_count,
        skipped=finished.skipped,
        unmapped=tuple(UnmappedCount(source, name, count) for (source, name), count in unmapped),
        source_ips=finished.source_ips,
        source_ip_count=finished.source_ip_count,
        names=tuple(sorted(decode(finished.names))),
        regions=tuple(sorted(decode(finished.regions))),
    )


@cache
def _names_decoder() -> msgspec.json.Decoder[tuple[str, ...]]:
    return msgspec.json.Decoder(tuple[str, ...])
