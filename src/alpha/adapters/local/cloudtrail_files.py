"""CloudTrail log files on the local disk, as a `UsageSource`.

A path may be a single file (read whatever its name) or a folder. Inside a folder, files named
`*.json`, `*.json.gz`, `*.jsonl`, `*.jsonl.gz` or `*.ndjson` are logs. When the folder follows the
S3 delivery layout (`AWSLogs/[o-xxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/`), only the date
folders that can hold events inside the time window are walked, and digest / Insights folders
are left out; a folder holding `AWSLogs/` is read from there only. A batch's key is the
resolved path, its version the size and mtime in nanoseconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from alpha.usage.errors import UsageError
from alpha.usage.ports import LogBatch, TimeWindow

__all__ = ["LocalCloudTrailFiles"]


LOG_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
# Not usage: integrity digests and Insights events live beside the CloudTrail folder.
_SKIPPED_FOLDERS = frozenset({"CloudTrail-Digest", "CloudTrail-Insight"})
# A log file sits in the folder of the day it was delivered; events can reach back a little
# before midnight, so date folders are kept one day beyond each end of the window.
_DELIVERY_SLACK = timedelta(days=1)
_YEAR = re.compile(r"^\d{4}$")
_TWO_DIGITS = re.compile(r"^\d{2}$")


@dataclass(frozen=True, slots=True)
class LocalCloudTrailFiles:
    """Log files under one path (a folder or a file). Any process can read them: the ingest
    has its workers read their own batches (`WorkerReadableSource`)."""

    path: Path
    reads_in_worker: ClassVar[Literal[True]] = True

    @property
    def name(self) -> str:
        return str(self.path)

    def batches(self, window: TimeWindow) -> Iterator[LogBatch]:
        root = self.path
        try:
            if root.is_file():
                yield _batch(root.resolve())
                return
            if not root.is_dir():
                raise UsageError(f"{root}: no such file or folder")
            # A trail's bucket copied whole: only AWSLogs/ holds logs (not the files beside it).
            logs = root / "AWSLogs"
            top = logs if logs.is_dir() else root
            for file in sorted(_log_files(top.resolve(), window)):
                yield _batch(file)
        except OSError as exc:
            raise UsageError(f"{root}: cannot list: {exc.strerror or exc}") from exc

    def read(self, batch: LogBatch) -> bytes:
        return Path(batch.key).read_bytes()


def _batch(path: Path) -> LogBatch:
    stat = path.stat()
    return LogBatch(key=str(path), size=stat.st_size, version=f"{stat.st_size}-{stat.st_mtime_ns}")


def _log_files(root: Path, window: TimeWindow) -> Iterator[Path]:
    bounds = _date_bounds(window)
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if _walk_into(here, d, bounds) and not d.startswith(".")]
        for name in files:
            if name.endswith(LOG_SUFFIXES) and not name.startswith("."):
                yield here / name


def _date_bounds(window: TimeWindow) -> tuple[date, date]:
    low = date.min if window.since is None else (window.since - _DELIVERY_SLACK).date()
    high = date.max if window.until is None else (window.until + _DELIVERY_SLACK).date()
    return low, high


def _walk_into(parent: Path, name: str, bounds: tuple[date, date]) -> bool:
    if name in _SKIPPED_FOLDERS:
        return False
    span = _date_folder_span(parent / name)
    if span is None:
        return True
    first, last = span
    low, high = bounds
    return first <= high and last >= low


def _date_folder_span(path: Path) -> tuple[date, date] | None:
    """The days a `CloudTrail/<region>/YYYY[/MM[/DD]]` folder covers; None if it is not one."""
    parts = path.parts
    for depth in (1, 2, 3):
        if len(parts) < depth + 2 or parts[-depth - 2] != "CloudTrail":
            continue
        try:
            return _span(parts[-depth:])
        except ValueError:
            return None
    return None


def _span(parts: tuple[str, ...]) -> tuple[date, date]:
    """[first, last] day of YYYY, YYYY/MM or YYYY/MM/DD; ValueError when not such a folder."""
    if not _YEAR.match(parts[0]) or not all(_TWO_DIGITS.match(p) for p in parts[1:]):
        raise ValueError(parts)
    year = int(parts[0])
    if len(parts) == 1:
        return date(year, 1, 1), date(year, 12, 31)
    month = int(parts[1])
    if len(parts) == 2:
        following = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), following - timedelta(days=1)
    day = date(year, month, int(parts[2]))
    return day, day
