"""What the reader skipped, and how much of it is kept.

A file of millions of tiny records (16 MiB of `1,` in a `Records` array, or of `{}` lines) is no
CloudTrail at all, yet describing each record kept a problem per record: about 2 GB and 36 s for
one such file. Now a file keeps its skipped records' indexes (4 bytes each) and counts by reason,
describes only the first `listed_problems` of them, and is given up as "not CloudTrail" once its
first `hopeless_records` records are all bad, as no real delivery ever is.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DEFAULT_LIMITS",
    "HOPELESS_RECORDS",
    "LISTED_PROBLEMS",
    "MAX_FILE_BYTES",
    "MAX_RECORD_BYTES",
    "HopelessFileError",
    "LogFormat",
    "ReadLimits",
    "ReadProblem",
    "SkipReason",
    "SkippedRecords",
    "Skips",
]

# CloudTrail delivers a file per region every few minutes, a few tens of MB of JSON at most. A
# worker holds a file whole (gunzipped, and decoded on the Python path: ~2.2x its size), two at
# once, so this keeps the ingest under 1 GB (benchmarks/README.md, "Hostile logs").
MAX_FILE_BYTES = 256 << 20
# CloudTrail's largest events are 1 MB (its "Large" event size); twice that leaves room for
# pretty-printed copies. A record's fields become the store's rows, which DuckDB reads at most
# 16 MB a row: a 40 MB field failed the whole ingest.
MAX_RECORD_BYTES = 2 << 20
LISTED_PROBLEMS = 100
HOPELESS_RECORDS = 10_000


class LogFormat(StrEnum):
    RECORDS = "records"  # {"Records": [...]}
    ARRAY = "array"  # [ {...}, ... ]
    JSON_LINES = "json-lines"  # one record per line (a lone record object counts as one line)


class SkipReason(StrEnum):
    """Why input was skipped. File-level reasons count files, record-level ones records."""

    UNREADABLE = "unreadable file"
    CORRUPT_GZIP = "corrupt gzip"
    EMPTY_FILE = "empty file"
    TOO_LARGE = "file too large"
    NOT_JSON = "not JSON"
    TRUNCATED = "truncated JSON"
    NOT_CLOUDTRAIL = "not CloudTrail"
    NO_LOG_FILES = "no log files"
    NOT_A_RECORD = "record is not an object"
    MISSING_FIELD = "record missing a field"
    WRONG_TYPE = "record field of the wrong type"
    RECORD_TOO_LARGE = "record too large"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """The most the reader takes: bytes of one file (on disk, and again once gunzipped) and of
    one record's JSON (the whitespace around it not counted), and how far it follows a file's
    bad records."""

    file_bytes: int = MAX_FILE_BYTES
    record_bytes: int = MAX_RECORD_BYTES
    # How many of a file's skipped records are described one by one; the rest are counted.
    listed_problems: int = LISTED_PROBLEMS
    # A file none of whose first this many records is CloudTrail is skipped whole.
    hopeless_records: int = HOPELESS_RECORDS


DEFAULT_LIMITS = ReadLimits()


@dataclass(frozen=True, slots=True)
class ReadProblem:
    """A skipped file (`record` is None) or one skipped record of it (0-based index)."""

    file: str
    reason: str
    detail: str
    record: int | None = None

    def describe(self) -> str:
        where = self.file if self.record is None else f"{self.file}: record {self.record}"
        return f"{where}: {self.reason} ({self.detail})"


class HopelessFileError(Exception):
    """Raised out of a scan: the file's first records are all bad (`SkippedRecords.hopeless`)."""


@dataclass(frozen=True, slots=True)
class Skips:
    """A file's skipped records: every index (ascending), the count per reason, the first few
    described (`listed`), and how many more were not."""

    indexes: array[int]
    by_reason: tuple[tuple[str, int], ...]
    listed: tuple[ReadProblem, ...]
    unlisted: int = 0


NO_SKIPS = Skips(array("I"), (), ())


class SkippedRecords:
    """Collects a file's skipped records in bounded memory, in record order."""

    __slots__ = ("_by_reason", "_file", "_indexes", "_limits", "_listed", "_unlisted")

    def __init__(self, file: str, limits: ReadLimits = DEFAULT_LIMITS) -> None:
        self._file = file
        self._limits = limits
        self._indexes = array("I")
        self._by_reason: dict[str, int] = {}
        self._listed: list[ReadProblem] = []
        self._unlisted = 0

    @property
    def file(self) -> str:
        return self._file

    def __len__(self) -> int:
        return len(self._indexes)

    def add(self, problem: ReadProblem) -> None:
        """A record-level problem (its `record` set)."""
        assert problem.record is not None
        self._indexes.append(problem.record)
        self._by_reason[problem.reason] = self._by_reason.get(problem.reason, 0) + 1
        self.describe(problem)

    def describe(self, problem: ReadProblem) -> None:
        """Listed while there is room, else only counted as not listed."""
        if len(self._listed) < self._limits.listed_problems:
            self._listed.append(problem)
        else:
            self._unlisted += 1

    def hopeless(self, index: int) -> bool:
        """Whether records 0..`index` were all skipped, and are enough to give up on the file."""
        skipped = len(self._indexes)
        return skipped == index + 1 and skipped >= self._limits.hopeless_records

    def file_problem(self) -> ReadProblem:
        """The whole file skipped: not one record of it is CloudTrail (as far as it was read)."""
        first = self._listed[0].detail if self._listed else "no record"
        count = len(self._indexes)
        amount = f"the first {count:,}" if count >= self._limits.hopeless_records else f"{count}"
        detail = f"no CloudTrail record among {amount}; first: {first}"
        return ReadProblem(self._file, SkipReason.NOT_CLOUDTRAIL, detail)

    def finish(self) -> Skips:
        return Skips(
            self._indexes, tuple(self._by_reason.items()), tuple(self._listed), self._unlisted
        )
