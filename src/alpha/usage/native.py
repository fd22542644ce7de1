"""The ingest's compiled fast path: one log file's records tallied in C.

`alpha.usage._native` (built from `csrc/` when the package is installed) walks a
`{"Records": [...]}` document in place and tallies each record without making a Python object
for it. It decides nothing about what an event means: it extracts the fields and groups the
records as `FastTally` does (the same key, `fast_tally`'s docstring), asks a `NativeResolver`
(this module, over the same `Meanings`) once per group what its records mean, and keeps the
answers. Every other record (no plain time, a field the scanner does not take as it is) is
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
from alpha.usage.events import OnBehalfOf, SessionContext, SessionIssuer, UserIdentity
from alpha.usage.fast_tally import ByCaller, FastTally, Meaning, Meanings, Refine, Skip
from alpha.usage.interpret import Interpretation
from alpha.usage.mapping import EventMapper
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


_LIMIT_NAMES = ("memo_limit", "request_memo_limit")

# What the scanner gets for a group: None (Python takes each of its records), a skip reason,
# the shape to group by instead (`Refine`), (principal, session, denied, ((action, resource
# or the resources[] index whose ARN it is), ...), (source, name) when unmapped), or for a
# `ByCaller` group (that answer for a caller naming a principal, the skip reason for one not)
UseAnswer = tuple[str, str | None, bool, tuple[tuple[str, str | int], ...], tuple[str, str] | None]
MeaningAnswer = str | int | UseAnswer | tuple[str | UseAnswer, str] | None


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
    """Answers the C scanner's questions with `FastTally`'s `Meanings`: what a group's key
    holds (`shape`), what the group means (`meaning`, from one of its records) and, for a
    group whose key leaves the caller out, whose call it is (`principal`)."""

    __slots__ = ("_meanings", "_reader")

    def __init__(self, mapper: EventMapper, meanings: Meanings | None = None) -> None:
        self._meanings = Meanings(mapper) if meanings is None else meanings
        self._reader = LazyLogReader()

    def shape(self, event_type: str | None, source: str, name: str) -> int:
        return self._meanings.shape(event_type, source, name)

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
        """The principal (and session) of an identity given by the fields `PrincipalCache`
        reads, for the groups whose key leaves the caller out."""
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

    def meaning(self, record: bytes, shape: int) -> MeaningAnswer:
        event = self._reader.record(record, "", 0)
        if isinstance(event, ReadProblem):
            return None
        try:
            found = self._meanings.of(event, shape)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
            return None  # Python reports each record whose request does not decode
        if isinstance(found, ByCaller):
            return (_answer(found.caller), str(found.no_caller.reason))
        if isinstance(found, Refine):
            return found.shape
        return None if found is None else _answer(found)


def _answer(meaning: Meaning) -> str | UseAnswer:
    if isinstance(meaning, Skip):
        return str(meaning.reason)
    pairs = tuple(
        (use.action, use.resource if slot < 0 else slot)
        for use, slot in zip(meaning.uses, meaning.slots, strict=True)
    )
    return (meaning.principal, meaning.session, meaning.denied, pairs, meaning.unmapped)


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
        self._fast = FastTally(mapper)
        self._scanner = module.Scanner(
            NativeResolver(mapper, self._fast.meanings),
            record_limit=self._limits.record_bytes,
            **memos,
        )
        self._inflater = module.Inflater(libdeflate() if library is None else library)
        self._reader = LazyLogReader(limits=self._limits)
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
