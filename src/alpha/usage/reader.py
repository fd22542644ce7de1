"""Decode one log file's bytes into CloudTrail records, whatever shape the file has.

Accepted, detected per file: gzip or not (by its magic bytes), and `{"Records": [...]}` (the S3
delivery format), a bare JSON array of records, or JSON lines. The whole file is decoded into
typed structs in one call, which is the fast path; only when that fails on a record does the
reader fall back to decoding record by record, keeping the good ones and counting the bad.

Nothing here raises on bad input unless `strict` is set: a file that cannot be read at all comes
back with no events and one file-level problem, a bad record with one record-level problem.

Sizes are bounded (`ReadLimits`): a file over `MAX_FILE_BYTES`, on disk or once gunzipped, is
refused without being held (gunzip stops at the limit, so a gzip bomb costs the limit, not what
it would make), and a record over `MAX_RECORD_BYTES` is skipped while the rest of its file is
read. The compiled scanner hands such a record back to this reader, which skips it the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

import msgspec
from isal import isal_zlib

from alpha.usage.errors import UsageError
from alpha.usage.events import CloudTrailEvent, LazyEvent
from alpha.usage.read_problems import (
    DEFAULT_LIMITS,
    MAX_FILE_BYTES,
    MAX_RECORD_BYTES,
    NO_SKIPS,
    LogFormat,
    ReadLimits,
    ReadProblem,
    SkippedRecords,
    SkipReason,
    Skips,
)

__all__ = [
    "DEFAULT_LIMITS",
    "GZIP_MAGIC",
    "MAX_FILE_BYTES",
    "MAX_RECORD_BYTES",
    "LogFormat",
    "ReadLimits",
    "ReadProblem",
    "SkipReason",
    "Skips",
]


E = TypeVar("E", CloudTrailEvent, LazyEvent)

GZIP_MAGIC = b"\x1f\x8b"
GZIP_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    ValueError,
    cast("type[Exception]", isal_zlib.error),
)
_RECORDS_FIRST = re.compile(rb'\{\s*"Records"\s*:')
# A BOM, then what `bytes.lstrip` strips: found without copying the file.
_LEADING = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\n\r\x0b\x0c]*")
_LINE = re.compile(rb"[^\r\n]+")  # what `bytes.splitlines` splits on
LINES_PER_SLICE = 65_536  # JSON lines decoded at a time
Text = bytes | memoryview  # a file's JSON, without what comes before it (not copied)


@dataclass(frozen=True, slots=True)
class DecodedLog(Generic[E]):
    """A file's good records, the format they came in and what was skipped: `problems` are
    the file's own problem, or the first of its skipped records described; `skips` has them
    all. `format` is None when the file as a whole was skipped."""

    events: list[E]
    format: LogFormat | None
    compressed: bool
    problems: tuple[ReadProblem, ...]
    skips: Skips = NO_SKIPS

    @property
    def records(self) -> int:
        """Every record the file held, good or bad."""
        return len(self.events) + len(self.skips.indexes)

    def event_indexes(self) -> list[int]:
        """Each event's record index in the file (the skipped records' indexes left out)."""
        skipped = iter(self.skips.indexes)
        next_skipped = next(skipped, -1)
        found: list[int] = []
        for index in range(self.records):
            if index == next_skipped:
                next_skipped = next(skipped, -1)
            else:
                found.append(index)
        return found


@dataclass(frozen=True, slots=True)
class _Decoders(Generic[E]):
    """msgspec decoders are reusable and cheaper to build once per process."""

    envelope: msgspec.json.Decoder[_Envelope[E]]
    raw_envelope: msgspec.json.Decoder[_RawEnvelope]
    array: msgspec.json.Decoder[list[E]]
    raw_array: msgspec.json.Decoder[list[msgspec.Raw]]
    raw: msgspec.json.Decoder[msgspec.Raw]
    event: msgspec.json.Decoder[E]


class _Envelope(msgspec.Struct, Generic[E]):
    Records: list[E] | None = None


class _RawEnvelope(msgspec.Struct):
    Records: list[msgspec.Raw]


def _decoders(event_type: type[E]) -> _Decoders[E]:
    return _Decoders(
        envelope=msgspec.json.Decoder(_Envelope[event_type]),  # type: ignore[valid-type]
        raw_envelope=msgspec.json.Decoder(_RawEnvelope),
        array=msgspec.json.Decoder(list[event_type]),  # type: ignore[valid-type]
        raw_array=msgspec.json.Decoder(list[msgspec.Raw]),
        raw=msgspec.json.Decoder(msgspec.Raw),
        event=msgspec.json.Decoder(event_type),
    )


class _Reader(Generic[E]):
    """Decodes log files into `E` records; one per process (it holds the compiled decoders)."""

    def __init__(
        self, event_type: type[E], *, strict: bool = False, limits: ReadLimits = DEFAULT_LIMITS
    ) -> None:
        self.strict = strict
        self.limits = limits
        self._dec: _Decoders[E] = _decoders(event_type)

    def decode(self, data: bytes, file: str) -> DecodedLog[E]:
        """The records of one file. Raises `UsageError` in strict mode on the first problem."""
        try:
            result = self._decode(data, file)
        except RecursionError as exc:  # JSON nested past what any decoder here will follow
            result = _file_skipped(file, SkipReason.NOT_JSON, f"nested too deeply: {exc}", False)
        if self.strict and result.problems:
            raise UsageError(result.problems[0].describe())
        return result

    def record(
        self, raw: msgspec.Raw | bytes | memoryview, file: str, index: int
    ) -> E | ReadProblem:
        """One record's JSON (record `index` of `file`): the record, or why it is skipped."""
        limit = self.limits.record_bytes
        if len(raw) > limit:
            detail = f"{len(raw):,} bytes of JSON, over the limit of {limit:,}"
            return ReadProblem(file, SkipReason.RECORD_TOO_LARGE, detail, index)
        try:
            event = self._dec.event.decode(raw)
        except RecursionError as exc:
            return ReadProblem(file, SkipReason.NOT_JSON, f"nested too deeply: {exc}", index)
        except msgspec.ValidationError as exc:
            return _record_problem(file, index, exc)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return ReadProblem(file, _decode_reason(exc), str(exc), index)
        return _record_check(file, index, event) or event

    def _decode(self, data: bytes, file: str) -> DecodedLog[E]:
        compressed = data[:2] == GZIP_MAGIC
        opened = inflated(data, file, self.limits.file_bytes)
        if isinstance(opened, ReadProblem):
            return DecodedLog([], None, compressed, (opened,))
        text = _content(opened)
        if not text:
            return _file_skipped(file, SkipReason.EMPTY_FILE, "no data", compressed)
        first = bytes(text[:1])
        if first == b"[":
            return self._array(text, file, compressed)
        if first == b"{":
            if _RECORDS_FIRST.match(text):
                return self._envelope(text, file, compressed)
            return self._object_or_lines(text, file, compressed)
        return _file_skipped(file, SkipReason.NOT_JSON, f"starts with {first!r}", compressed)

    def _array(self, text: Text, file: str, compressed: bool) -> DecodedLog[E]:
        try:
            events = self._dec.array.decode(text)
        except msgspec.ValidationError:
            # The typed decoder stops at the first bad record, before seeing the rest.
            try:
                raws = self._dec.raw_array.decode(text)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                return _undecodable(file, exc, compressed)
            return self._per_record(raws, file, LogFormat.ARRAY, compressed)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return _undecodable(file, exc, compressed)
        return self._sized(events, text, file, LogFormat.ARRAY, compressed)

    def _envelope(self, text: Text, file: str, compressed: bool) -> DecodedLog[E]:
        try:
            envelope = self._dec.envelope.decode(text)
        except msgspec.ValidationError:
            try:
                raw = self._dec.raw_envelope.decode(text)
            except msgspec.ValidationError as exc:
                return _file_skipped(file, SkipReason.NOT_CLOUDTRAIL, str(exc), compressed)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                return _undecodable(file, exc, compressed)
            return self._per_record(raw.Records, file, LogFormat.RECORDS, compressed)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            if "trailing characters" in str(exc):
                return self._lines(text, file, compressed)
            return _undecodable(file, exc, compressed)
        if envelope.Records is None:
            return self._object_or_lines(text, file, compressed)
        return self._sized(envelope.Records, text, file, LogFormat.RECORDS, compressed)

    def _object_or_lines(self, text: Text, file: str, compressed: bool) -> DecodedLog[E]:
        """One object: a delivery file whose "Records" is not the first key, a lone record, or
        not CloudTrail at all. Anything after the first object: JSON lines."""
        try:
            envelope = self._dec.envelope.decode(text)
        except msgspec.ValidationError as exc:
            return _file_skipped(file, SkipReason.NOT_CLOUDTRAIL, str(exc), compressed)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            if "trailing characters" in str(exc):
                return self._lines(text, file, compressed)
            return _undecodable(file, exc, compressed)
        if envelope.Records is not None:
            return self._sized(envelope.Records, text, file, LogFormat.RECORDS, compressed)
        lone = self._dec.raw.decode(text)  # the object without the whitespace after it
        return self._per_record([lone], file, LogFormat.JSON_LINES, compressed)

    def _lines(self, text: Text, file: str, compressed: bool) -> DecodedLog[E]:
        """JSON lines, decoded a slice of lines at a time: millions of lines of `{}` (16 MiB)
        decoded whole held a struct each, 1 GB. The first slice is `hopeless_records` lines,
        so a file none of whose first lines is CloudTrail is given up after one slice."""
        skipped = SkippedRecords(file, self.limits)
        events: list[E] = []
        offset = 0
        for part in _line_slices(text, self.limits.hopeless_records, LINES_PER_SLICE):
            good, problems, count = self._lines_slice(part, file, offset)
            events.extend(good)
            for problem in problems:
                skipped.add(problem)
            offset += count
            if skipped.hopeless(offset - 1):
                break
        return _finished(events, skipped, LogFormat.JSON_LINES, compressed)

    def _lines_slice(
        self, text: Text, file: str, offset: int
    ) -> tuple[list[E], list[ReadProblem], int]:
        """One slice's good records, its problems and how many records it held (its first
        is record `offset` of the file)."""
        try:
            events = self._dec.event.decode_lines(text)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):
            return self._each(_raw_lines(text), file, offset)
        limit = self.limits.record_bytes
        if len(text) > limit:
            raws = self._dec.raw.decode_lines(text)
            if max(map(len, raws), default=0) > limit:
                return self._each(raws, file, offset)
        good, problems = _check_each(events, file, offset)
        return good, problems, len(events)

    def _each(
        self, raws: Sequence[msgspec.Raw], file: str, offset: int
    ) -> tuple[list[E], list[ReadProblem], int]:
        events: list[E] = []
        problems: list[ReadProblem] = []
        for index, raw in enumerate(raws):
            found = self.record(raw, file, offset + index)
            if isinstance(found, ReadProblem):
                problems.append(found)
            else:
                events.append(found)
        return events, problems, len(raws)

    def _sized(
        self, events: list[E], text: Text, file: str, fmt: LogFormat, compressed: bool
    ) -> DecodedLog[E]:
        """The decoded records checked, or the file read record by record when one of them is
        over the size limit. Only a file over the limit can hold such a record, so the records'
        sizes (a second, untyped decode) are asked of those alone."""
        limit = self.limits.record_bytes
        if len(text) > limit:
            raws = self._raws(text, fmt)
            if max(map(len, raws), default=0) > limit:
                return self._per_record(raws, file, fmt, compressed)
        return _checked(events, file, fmt, compressed, self.limits)

    def _raws(self, text: Text, fmt: LogFormat) -> Sequence[msgspec.Raw]:
        """Each record's JSON, of a file whose typed decoding succeeded in this format."""
        if fmt is LogFormat.ARRAY:
            return self._dec.raw_array.decode(text)
        if fmt is LogFormat.RECORDS:
            return self._dec.raw_envelope.decode(text).Records
        return self._dec.raw.decode_lines(text)

    def _per_record(
        self, raws: Sequence[msgspec.Raw], file: str, fmt: LogFormat, compressed: bool
    ) -> DecodedLog[E]:
        events: list[E] = []
        skipped = SkippedRecords(file, self.limits)
        for index, raw in enumerate(raws):
            found = self.record(raw, file, index)
            if isinstance(found, ReadProblem):
                skipped.add(found)
                if skipped.hopeless(index):
                    break
            else:
                events.append(found)
        return _finished(events, skipped, fmt, compressed)


class TooLargeError(Exception):
    """Gunzipping a file made more than the limit (`gunzip` stops there)."""


def gunzip(data: bytes, limit: int) -> bytes:
    """isal's gunzip (several times faster than zlib's, which matters at 200 MB a run), as
    `igzip.decompress` reads any file, but stopped past `limit` bytes of output: it is made a
    chunk at a time, so a gzip bomb costs the limit, never the gigabytes it would make."""
    # isal reads bytes in place (as `igzip.decompress` gives them); its stub names only files
    reader = isal_zlib._GzipReader(data)  # type: ignore[arg-type]
    chunks: list[bytes] = []
    size = 0
    while chunk := reader.read(limit + 1 - size):
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"over the limit of {limit:,} bytes once gunzipped")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def inflated(
    data: bytes, file: str, limit: int, gunzip: Callable[[bytes, int], bytes] = gunzip
) -> bytes | ReadProblem:
    """A file's bytes, gunzipped when they are gzip (by `gunzip`); the file-level problem when
    they are corrupt gzip or over `limit` bytes, on disk or once gunzipped."""
    if len(data) > limit:
        return too_large(file, len(data), limit)
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gunzip(data, limit)
    except TooLargeError as exc:
        return ReadProblem(file, SkipReason.TOO_LARGE, str(exc))
    except GZIP_ERRORS as exc:
        return ReadProblem(file, SkipReason.CORRUPT_GZIP, str(exc))


def too_large(file: str, size: int, limit: int) -> ReadProblem:
    """The problem of a file of `size` bytes on disk, over `limit`."""
    return ReadProblem(file, SkipReason.TOO_LARGE, f"{size:,} bytes, over the limit of {limit:,}")


def _content(data: bytes) -> Text:
    """`data` without a BOM and whitespace in front (as `removeprefix` and `lstrip` would
    leave it), not copied: the file may be hundreds of MB."""
    start = _LEADING.match(data)
    skip = 0 if start is None else start.end()
    return memoryview(data)[skip:] if skip else data


def _line_slices(text: Text, first: int, size: int) -> Iterator[Text]:
    """`text` cut after its `first` lines that hold more than whitespace, then after every
    `size` more (not copied)."""
    view = memoryview(text)
    start = end = seen = 0
    limit = first
    for found in _LINE.finditer(text):
        if not found[0].strip():
            continue
        if seen == limit:
            yield view[start:end]
            start, seen, limit = end, 0, size
        seen += 1
        end = found.end()
    if seen:
        yield view[start:]


def _raw_lines(text: Text) -> list[msgspec.Raw]:
    """Each line that holds more than whitespace, without the spaces around its JSON (a
    record's size is its JSON's)."""
    return [
        msgspec.Raw(line.strip(b" \t"))
        for found in _LINE.finditer(text)
        if (line := found[0]).strip()
    ]


def _checked(
    events: list[E], file: str, fmt: LogFormat, compressed: bool, limits: ReadLimits
) -> DecodedLog[E]:
    """Typed decoding accepts a record with missing fields (they default to None): drop those.
    A `LazyEvent` also has its raw requestParameters checked (an object or null)."""
    if all(e.eventName and e.eventSource for e in events) and _requests_valid(events):
        return DecodedLog(events, fmt, compressed, ())
    good, problems = _check_each(events, file)
    skipped = SkippedRecords(file, limits)
    for problem in problems:
        skipped.add(problem)
        if skipped.hopeless(problem.record or 0):
            return _finished([], skipped, fmt, compressed)
    return _finished(good, skipped, fmt, compressed)


def _check_each(events: list[E], file: str, offset: int = 0) -> tuple[list[E], list[ReadProblem]]:
    good: list[E] = []
    problems: list[ReadProblem] = []
    for index, event in enumerate(events, offset):
        problem = _record_check(file, index, event)
        if problem is None:
            good.append(event)
        else:
            problems.append(problem)
    return good, problems


def _requests_valid(events: list[E]) -> bool:
    if not events or not isinstance(events[0], LazyEvent):
        return True
    return all(e.request_is_valid() for e in events)


def _finished(
    events: list[E], skipped: SkippedRecords, fmt: LogFormat, compressed: bool
) -> DecodedLog[E]:
    if skipped and not events:
        # Not one CloudTrail record: said once for the file rather than per record.
        return DecodedLog([], None, compressed, (skipped.file_problem(),))
    found = skipped.finish()
    return DecodedLog(events, fmt, compressed, found.listed, found)


def _record_check(file: str, index: int, event: CloudTrailEvent | LazyEvent) -> ReadProblem | None:
    """The problem of a decoded record, as the typed decoder would have found it first."""
    wrong = _wrong_request(event)
    if wrong:
        return ReadProblem(file, SkipReason.WRONG_TYPE, wrong, index)
    missing = _missing_field(event)
    if missing:
        return ReadProblem(file, SkipReason.MISSING_FIELD, missing, index)
    return None


def _missing_field(event: CloudTrailEvent | LazyEvent) -> str:
    """Without a source and a name a record is not a CloudTrail call at all. Other missing
    fields (even `eventTime`) are for the interpretation to judge and count."""
    for name in ("eventSource", "eventName"):
        if not getattr(event, name):
            return f"no `{name}`"
    return ""


def _wrong_request(event: CloudTrailEvent | LazyEvent) -> str:
    """The typed decoder's message for a requestParameters that is no object, for a
    `LazyEvent` (whose raw requestParameters the decoder did not check)."""
    if isinstance(event, LazyEvent) and not event.request_is_valid():
        return "Expected `object | null` - at `requestParameters`"
    return ""


def _record_problem(file: str, index: int, exc: msgspec.ValidationError) -> ReadProblem:
    message = str(exc)
    if message.startswith("Expected `object`") and " - at " not in message:
        return ReadProblem(file, SkipReason.NOT_A_RECORD, message, index)
    return ReadProblem(file, SkipReason.WRONG_TYPE, message, index)


def request_problem(exc: Exception) -> SkipReason:
    """Why a record whose `requestParameters` the lazy reader kept as raw JSON is skipped when
    decoding it fails later: as the eager reader would have said of the whole record."""
    if isinstance(exc, msgspec.ValidationError):
        return SkipReason.WRONG_TYPE
    return _decode_reason(exc)


def _decode_reason(exc: Exception) -> SkipReason:
    return SkipReason.TRUNCATED if "truncated" in str(exc) else SkipReason.NOT_JSON


def _undecodable(file: str, exc: Exception, compressed: bool) -> DecodedLog[E]:
    return _file_skipped(file, _decode_reason(exc), str(exc), compressed)


def _file_skipped(file: str, reason: SkipReason, detail: str, compressed: bool) -> DecodedLog[E]:
    return DecodedLog([], None, compressed, (ReadProblem(file, reason, detail),))


class LogReader(_Reader[CloudTrailEvent]):
    """Decodes log files into `CloudTrailEvent`s."""

    def __init__(self, *, strict: bool = False, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        super().__init__(CloudTrailEvent, strict=strict, limits=limits)


class LazyLogReader(_Reader[LazyEvent]):
    """Decodes log files into `LazyEvent`s: the ingest's fast path. Fields the
    interpretation does not read are not decoded, so not checked either."""

    def __init__(self, *, strict: bool = False, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        super().__init__(LazyEvent, strict=strict, limits=limits)
