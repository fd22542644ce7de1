"""Worker processes die with the process that made them, however it dies; and a forked
child copies as little of its parent as it can.

A pool's workers wait on a pipe for work; when the parent is killed outright (SIGKILL, the OOM
killer) nothing tells them, and they would run on, holding memory and the spool's files. On
Linux each worker asks the kernel for SIGKILL when its parent goes (`PR_SET_PDEATHSIG`); a
parent that died before the worker asked is noticed by its changed parent id.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["die_with_parent", "frozen_heap", "return_freed_memory"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """A pool initializer: `parent` is the pid of the process that made the pool."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere the workers notice the closed pipe when they next read
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        return  # not allowed here (a sandbox): the pipe still ends them in time
    if os.getppid() != parent:
        os._exit(1)  # the parent died between the fork and the request


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Fork inside this: a child's collector never walks what the parent held (walking an
    object writes to it, and each page written is copied into the child: the whole heap, by
    the child's first full collection). The parent's collector takes it back afterwards."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def return_freed_memory() -> None:
    """Hand memory freed inside the C heap back to the system (glibc keeps it otherwise), before
    forking: after one principal's hundreds of thousands of rows, workers forked later would
    otherwise start from that high-water mark. Does nothing where there is no `malloc_trim`."""
    if not sys.platform.startswith("linux"):
        return
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
