"""Worker processes die with the process that made them, however it dies.

A pool's workers wait on a pipe for work; when the parent is killed outright (SIGKILL, the OOM
killer) nothing tells them, and they would run on, holding memory and the spool's files. On
Linux each worker asks the kernel for SIGKILL when its parent goes (`PR_SET_PDEATHSIG`); a
parent that died before the worker asked is noticed by its changed parent id.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["die_with_parent"]

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
