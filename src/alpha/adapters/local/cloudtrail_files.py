"""CloudTrail log files on the local disk, as a `UsageSource`.

A path may be a single file (read whatever its name) or a folder. Inside a folder, files named
`*.json`, `*.json.gz`, `*.jsonl`, `*.jsonl.gz` or `*.ndjson` are logs. When the folder follows the
S3 delivery layout (`AWSLogs/[o-xxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/`), only the date
folders that can hold events inside the time window are walked, and digest / Insights folders
are left out; a folder holding `AWSLogs/` is read from there only. A batch's key is the
resolved path, its version the size and mtime in nanoseconds.

Nothing in a folder is passed over in silence: a subfolder that cannot be listed, and a log
name that is not a regular file (a FIFO would block the reader forever), are listed as batches
whose read fails with the reason, so the ingest reports them (and `--strict` stops on them).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from alpha.usage.errors import UsageError
from alpha.usage.ports import LogBatch, TimeWindow
from alpha.usage.reader import MAX_FILE_BYTES

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
            found = list(_log_files(top.resolve(), window))
            for item in sorted(found, key=lambda f: Path(f.key) if isinstance(f, LogBatch) else f):
                yield item if isinstance(item, LogBatch) else _batch(item)
        except OSError as exc:
            raise UsageError(f"{root}: cannot list: {exc.strerror or exc}") from exc

    def read(self, batch: LogBatch) -> bytes:
        if batch.version.startswith(_UNLISTABLE):
            reason = batch.version.removeprefix(_UNLISTABLE) or "unknown reason"
            raise UsageError(f"{batch.key}: cannot list this folder: {reason}")
        path = Path(batch.key)
        # Opened without blocking, then checked: opening a FIFO for reading would wait forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UsageError(f"{path}: not a regular file (a FIFO, socket or device)")
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as file:
                # A file that grew past the limit after it was listed: one byte over is enough
                # for the reader to refuse it as too large, without holding the rest.
                return file.read(MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)


_UNLISTABLE = "unlistable: "


def _batch(path: Path) -> LogBatch:
    found = path.stat()
    if not stat.S_ISREG(found.st_mode):
        return LogBatch(key=str(path), size=0, version=f"special-{found.st_mtime_ns}")
    return LogBatch(
        key=str(path), size=found.st_size, version=f"{found.st_size}-{found.st_mtime_ns}"
    )


def _log_files(root: Path, window: TimeWindow) -> Iterator[Path | LogBatch]:
    bounds = _date_bounds(window)
    failures: list[OSError] = []
    for folder, dirs, files in os.walk(root, onerror=failures.append):
        yield from (_unlistable(failure) for failure in failures)
        failures.clear()
        here = Path(folder)
        dirs[:] = [d for d in dirs if _walk_into(here, d, bounds) and not d.startswith(".")]
        for name in files:
            if name.endswith(LOG_SUFFIXES) and not name.startswith("."):
                yield here / name
    yield from (_unlistable(failure) for failure in failures)


def _unlistable(failure: OSError) -> LogBatch:
    """A folder os.walk could not list, as a batch whose read says why."""
    return LogBatch(str(failure.filename), 0, f"{_UNLISTABLE}{failure.strerror or ''}")


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
