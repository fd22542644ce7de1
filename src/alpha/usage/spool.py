"""The folder where worker processes leave each batch's rows for the store (`RowFile`).

One folder per run, named `alpha-rows-<pid>-...` after the process that made it, in the place
the store suggests (its RAM folder when that has room). A group's files are deleted once it is
saved, and the folder when the run ends, however it ends. A run that was killed outright
(SIGKILL, power) cannot clean up: the next run removes the folders of this user whose process
is gone, so a RAM folder does not keep a dead run's rows until the machine restarts.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alpha.usage.aggregate import RowFile, StoredBatch
from alpha.usage.ports import RowFileStore, UsageWriter

log = logging.getLogger(__name__)

PREFIX = "alpha-rows-"
# A generous average of a row's JSON line with its share of source-IP lines, to size the spool.
BYTES_PER_ROW = 400


@contextmanager
def run_spool(store: UsageWriter, workers: int, flush_rows: int) -> Iterator[str | None]:
    """A folder for the workers' row files when the store loads such files itself and there
    are worker processes (else None: rows travel in memory); removed with what is left in it.
    It holds the rows of the group being saved, the group being gathered and those in flight."""
    if workers <= 1 or not isinstance(store, RowFileStore):
        yield None
        return
    base = Path(store.spool_base(3 * flush_rows * BYTES_PER_ROW))
    sweep(base)
    with tempfile.TemporaryDirectory(
        prefix=f"{PREFIX}{os.getpid()}-", dir=base, ignore_cleanup_errors=True
    ) as folder:
        yield folder


def discard(batches: Iterable[StoredBatch]) -> None:
    """Delete the row files of saved batches, so the spool holds only unsaved rows."""
    for batch in batches:
        for data in (batch.usage.rows, batch.usage.source_ips):
            if isinstance(data, RowFile):
                with suppress(FileNotFoundError):
                    os.unlink(data.path)


def sweep(base: Path) -> None:
    """Remove the spool folders in `base` that this user's dead processes left behind."""
    try:
        found = list(base.glob(f"{PREFIX}*"))
    except OSError:
        return
    for folder in found:
        pid = _maker(folder)
        if pid is None or _alive(pid):
            continue
        log.info("removing %s, left by process %d, which is gone", folder, pid)
        shutil.rmtree(folder, ignore_errors=True)


def _maker(folder: Path) -> int | None:
    """The process that made a spool folder of this user's, from its name; None otherwise."""
    digits = folder.name.removeprefix(PREFIX).partition("-")[0]
    user = getattr(os, "getuid", None)  # POSIX only: elsewhere nothing is swept
    try:
        owned = user is not None and folder.is_dir() and folder.stat().st_uid == user()
    except OSError:
        return None
    return int(digits) if owned and digits.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no process has: leave it be
    return True
